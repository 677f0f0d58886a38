"""The OpenAPI 3.1 description of the read API, served at /api/v1/openapi.json.

Written by hand as data; tests/test_api.py checks real responses against it, so it says what the API does.
"""

from __future__ import annotations


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {"anyOf": [schema, {"type": "null"}]}


TIME = {"type": "string", "format": "date-time"}
TEXT = {"type": "string"}


def _page_of(item: str) -> dict:
    return {
        "type": "object",
        "required": ["data", "next_cursor", "has_more"],
        "additionalProperties": False,
        "properties": {
            "data": {"type": "array", "items": _ref(item)},
            "next_cursor": {"type": "string", "description": "Send as `cursor` to get what comes after."},
            "has_more": {"type": "boolean"},
        },
    }


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERRORS = {
    "400": {"$ref": "#/components/responses/BadRequest"},
    "401": {"$ref": "#/components/responses/Unauthorised"},
    "403": {"$ref": "#/components/responses/Forbidden"},
}
PAGING = [
    {"name": "cursor", "in": "query", "schema": TEXT, "description": "next_cursor of the page before."},
    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 100}},
]
SLUG = {"name": "slug", "in": "path", "required": True, "schema": TEXT}

SPEC: dict = {
    "openapi": "3.1.0",
    "info": {
        "title": "formsvc read API",
        "version": "1",
        "description": "Forms, answers, the organisation register and newsletter subscribers, read with an API "
        "key made by an Administratör (Authorization: Bearer fsk_...). Lists are in id order with "
        "an opaque cursor: rows that arrive while paging come at the end, each once.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"apiKey": []}],
    "paths": {
        "/forms": {"get": {
            "summary": "The forms this key may read",
            "responses": {"200": _json({"type": "object", "required": ["data"], "properties": {
                "data": {"type": "array", "items": _ref("FormSummary")}}}, "Forms"), **ERRORS},
        }},
        "/forms/{slug}": {"get": {
            "summary": "A form's definition and its versions",
            "parameters": [SLUG],
            "responses": {"200": _json(_ref("Form"), "The form"), **ERRORS,
                          "404": {"$ref": "#/components/responses/NotFound"}},
        }},
        "/forms/{slug}/answers": {"get": {
            "summary": "A form's answers (scope answers)",
            "parameters": [
                SLUG,
                {"name": "state", "in": "query", "schema": {"enum": ["current", "all"], "default": "current"},
                 "description": "current: the answers that count now; all: replaced and rejected ones too."},
                {"name": "since", "in": "query", "schema": TIME, "description": "Only answers given at or after."},
                *PAGING,
            ],
            "responses": {"200": _json(_page_of("Answer"), "A page of answers"), **ERRORS,
                          "404": {"$ref": "#/components/responses/NotFound"}},
        }},
        "/forms/{slug}/answers/{reference}": {"get": {
            "summary": "One answer (scope answers)",
            "parameters": [SLUG, {"name": "reference", "in": "path", "required": True, "schema": TEXT}],
            "responses": {"200": _json(_ref("Answer"), "The answer"), **ERRORS,
                          "404": {"$ref": "#/components/responses/NotFound"}},
        }},
        "/organisations": {"get": {
            "summary": "The organisation register (scope organisations)",
            "parameters": PAGING,
            "responses": {"200": _json(_page_of("Organisation"), "A page of organisations"), **ERRORS},
        }},
        "/subscribers": {"get": {
            "summary": "Confirmed newsletter subscribers (scope subscribers)",
            "parameters": PAGING,
            "responses": {"200": _json(_page_of("Subscriber"), "A page of subscribers"), **ERRORS},
        }},
        "/openapi.json": {"get": {
            "summary": "This description", "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}},
        }},
    },
    "components": {
        "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "fsk_..."}},
        "responses": {
            name: _json(_ref("Error"), text)
            for name, text in [("BadRequest", "A parameter is wrong"),
                               ("Unauthorised", "No key, or an unknown, revoked or expired one"),
                               ("Forbidden", "The key may not read that form or that kind of data"),
                               ("NotFound", "No such form or answer")]
        },
        "schemas": {
            "Error": {"type": "object", "required": ["error"], "additionalProperties": False, "properties": {
                "error": {"type": "object", "required": ["code", "message"], "additionalProperties": False,
                          "properties": {"code": TEXT, "message": TEXT}}}},
            "FormSummary": {"type": "object", "required": ["slug", "title", "current_version"],
                            "additionalProperties": False,
                            "properties": {"slug": TEXT, "title": TEXT, "current_version": TEXT}},
            "Form": {
                "type": "object", "additionalProperties": False,
                "required": ["slug", "title", "current_version", "definition", "versions"],
                "properties": {
                    "slug": TEXT, "title": TEXT, "current_version": TEXT,
                    "definition": {"type": "object", "description": "The current definition"},
                    "versions": {"type": "array", "items": {
                        "type": "object", "additionalProperties": False,
                        "required": ["version", "first_seen_at", "definition"],
                        "properties": {"version": TEXT, "first_seen_at": TIME, "definition": {"type": "object"}},
                    }},
                },
            },
            "Answer": {
                "type": "object", "additionalProperties": False,
                "required": ["reference", "form", "version", "source", "review", "current", "submitted_at",
                             "organisation", "answers"],
                "properties": {
                    "reference": TEXT,
                    "form": TEXT,
                    "version": {"type": "string", "description": "The form version it was given under"},
                    "source": {"enum": ["personal_link", "open_link", "accepted"]},
                    "review": {"enum": [None, "pending", "accepted", "rejected"]},
                    "current": {"type": "boolean", "description": "False once replaced, or when rejected"},
                    "submitted_at": TIME,
                    "organisation": _nullable({
                        "type": "object", "required": ["id", "name"], "additionalProperties": False,
                        "properties": {"id": _nullable({"type": "integer"}), "name": _nullable(TEXT)}}),
                    "answers": {"type": "object", "description": "Field key -> answer, as the form defines"},
                },
            },
            "Organisation": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "name", "type", "contact_name", "contact_email", "created_at"],
                "properties": {"id": {"type": "integer"}, "name": TEXT, "type": TEXT,
                               "contact_name": _nullable(TEXT), "contact_email": _nullable(TEXT),
                               "created_at": TIME},
            },
            "Subscriber": {
                "type": "object", "additionalProperties": False,
                "required": ["id", "email", "name", "organisation", "confirmed_at"],
                "properties": {"id": {"type": "integer"}, "email": TEXT, "name": _nullable(TEXT),
                               "organisation": _nullable(TEXT), "confirmed_at": _nullable(TIME)},
            },
        },
    },
}
