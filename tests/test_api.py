"""The read API (/api/v1/): keys read only their forms and scopes, 401 for missing, wrong, revoked or expired
keys, cursor pagination that gives every answer once while answers keep coming, every use in the audit
log, keys kept only as hashes, and the OpenAPI description checked against real responses."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import csrf_token, submit
from openapi_schema_validator import OAS31Validator

from formsvc.api.models import new_key
from formsvc.audit import AuditEvent
from formsvc.extensions import db
from formsvc.models import Response, utcnow

ALL = ["answers", "organisations", "subscribers"]


def anslutning(organisation: str) -> dict:
    return {"organisation": organisation, "organisationstyp": "kommun", "kontaktperson": "Ada Andersson",
            "epost": "ada@example.org", "fokusomraden": ["makt"], "samtycke": "y"}


def make_key(app, forms=("anslutning",), scopes=ALL, days=30, revoked=False) -> str:
    with app.app_context():
        key, plain = new_key("Diariet", list(forms), list(scopes), utcnow() + timedelta(days=days), "test")
        if revoked:
            key.revoked_at = utcnow()
        db.session.commit()
    return plain


def call(client, path: str, key: str | None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.get(path, headers=headers)


def error_code(response) -> str:
    assert response.is_json, response.get_data(as_text=True)[:200]
    return response.get_json()["error"]["code"]


@pytest.fixture
def answered(app):
    """Three answers to anslutning and one to nominering's neighbour nyhetsbrev."""
    client = app.test_client()
    for name in ("Org 1", "Org 2", "Org 3"):
        assert submit(client, "anslutning", anslutning(name)).status_code == 303
    assert submit(client, "nyhetsbrev", {"epost": "bo@example.org", "samtycke": "y"}).status_code == 303
    return client


def test_a_key_reads_only_the_forms_it_was_given(app, client, answered):
    """Bad input tried: forms the key was not given, a form that does not exist, an unknown reference."""
    key = make_key(app, forms=["anslutning"])
    listed = call(client, "/api/v1/forms", key).get_json()["data"]
    assert [f["slug"] for f in listed] == ["anslutning"]
    assert call(client, "/api/v1/forms/anslutning", key).status_code == 200
    page = call(client, "/api/v1/forms/anslutning/answers", key).get_json()
    assert len(page["data"]) == 3
    for path in ("/api/v1/forms/nyhetsbrev", "/api/v1/forms/nyhetsbrev/answers", "/api/v1/forms/finnsinte/answers",
                 "/api/v1/forms/nyhetsbrev/answers/" + page["data"][0]["reference"]):
        refused = call(client, path, key)
        assert refused.status_code == 403 and error_code(refused) == "form_not_given", path
    assert error_code(call(client, "/api/v1/forms/anslutning/answers/ZZZZ-ZZZZ", key)) == "not_found"
    one = call(client, "/api/v1/forms/anslutning/answers/" + page["data"][0]["reference"], key).get_json()
    assert one == page["data"][0]
    assert one["source"] == "open_link" and one["organisation"]["name"] == "Org 1" and one["version"]


def test_missing_wrong_revoked_and_expired_keys_get_401(app, client, answered):
    """Bad input tried: no header, another scheme, a made-up key, a revoked key, an expired key."""
    path = "/api/v1/forms/anslutning/answers"
    cases = {
        "no_key": call(client, path, None),
        "unknown_key": call(client, path, "fsk_" + "x" * 43),
        "revoked_key": call(client, path, make_key(app, revoked=True)),
        "expired_key": call(client, path, make_key(app, days=-1)),
    }
    cases["no_key_basic"] = client.get(path, headers={"Authorization": "Basic " + make_key(app)})
    for expected, response in cases.items():
        assert response.status_code == 401, expected
        assert error_code(response) == expected.removesuffix("_basic")
        assert "WWW-Authenticate" in response.headers


def test_scopes_are_enforced(app, client, answered):
    """Bad input tried: a key for answers only asks for organisations and subscribers, and the other way."""
    answers_only = make_key(app, scopes=["answers"])
    for path in ("/api/v1/organisations", "/api/v1/subscribers"):
        refused = call(client, path, answers_only)
        assert refused.status_code == 403 and error_code(refused) == "scope_not_given"
    registers = make_key(app, forms=[], scopes=["organisations", "subscribers"])
    assert call(client, "/api/v1/organisations", registers).status_code == 200
    assert call(client, "/api/v1/subscribers", registers).status_code == 200
    assert error_code(call(client, "/api/v1/forms/anslutning/answers", registers)) == "form_not_given"
    given_no_scope = make_key(app, scopes=["organisations"])
    assert error_code(call(client, "/api/v1/forms/anslutning/answers", given_no_scope)) == "scope_not_given"


def test_paging_gives_every_answer_once_while_answers_keep_coming(app, client, answered):
    key = make_key(app)
    seen, cursor, pages, added = [], None, 0, 0
    while True:
        url = "/api/v1/forms/anslutning/answers?state=all&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = call(client, url, key).get_json()
        seen += [answer["reference"] for answer in page["data"]]
        cursor, pages = page["next_cursor"], pages + 1
        if added < 5:  # two more answers arrive between every two pages, five in all
            for _ in range(min(2, 5 - added)):
                added += 1
                assert submit(answered, "anslutning", anslutning(f"Ny {added}")).status_code == 303
        elif not page["has_more"]:
            break
        assert pages < 20
    with app.app_context():
        stored = db.session.scalars(sa.select(Response.reference).filter_by(form_slug="anslutning")).all()
    assert len(stored) == 8
    assert Counter(seen) == Counter(stored)  # each exactly once
    later = call(client, f"/api/v1/forms/anslutning/answers?state=all&cursor={cursor}", key).get_json()
    assert later["data"] == [] and later["next_cursor"] == cursor  # polling from the end finds nothing new


def test_bad_parameters_get_400_in_json(app, client, answered):
    """Bad input tried: a made-up cursor, limits 0 and 501 and "many", a time without zone, an unknown state,
    an unknown address and a POST."""
    key = make_key(app)
    base = "/api/v1/forms/anslutning/answers?"
    for query, code in [("cursor=bm9wZQ", "bad_cursor"), ("cursor=%%%", "bad_cursor"), ("limit=0", "bad_limit"),
                        ("limit=501", "bad_limit"), ("limit=many", "bad_limit"),
                        ("since=2026-12-01T10:00", "bad_since"), ("since=igår", "bad_since"),
                        ("state=some", "bad_state")]:
        response = call(client, base + query, key)
        assert response.status_code == 400 and error_code(response) == code, query
    assert error_code(call(client, "/api/v1/finnsinte", key)) == "not_found"
    posted = client.post("/api/v1/forms", headers={"Authorization": f"Bearer {key}"})  # nothing is written
    assert posted.status_code == 405 and error_code(posted) == "method_not_allowed"


def test_since_and_current(app, client, answered):
    key = make_key(app)
    assert call(client, "/api/v1/forms/anslutning/answers?since=2999-01-01T00:00:00Z", key).get_json()["data"] == []
    assert len(call(client, "/api/v1/forms/anslutning/answers?since=2000-01-01T00:00:00%2B01:00",
                    key).get_json()["data"]) == 3


def test_every_use_is_in_the_audit_log(app, client, answered):
    key = make_key(app)
    for path in ("/api/v1/forms", "/api/v1/forms/anslutning/answers", "/api/v1/organisations"):
        call(client, path, key)
    revoked = make_key(app, revoked=True)
    call(client, "/api/v1/forms", revoked)
    with app.app_context():
        rows = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action.like("api_%"))).all()
        used = [(row.action, row.target) for row in rows]
        assert used == [("api_request", "/api/v1/forms"), ("api_request", "/api/v1/forms/anslutning/answers"),
                        ("api_request", "/api/v1/organisations"), ("api_refused", "/api/v1/forms")]
        assert all(row.actor.startswith("api-key ") for row in rows)


def test_keys_are_made_shown_once_stored_hashed_and_revoked_at_once(app, staff_client):
    """Made on the staff page as an Administratör: the plain key appears once, is in no table, and its
    revocation takes effect on the next request."""
    token = csrf_token(staff_client, "/staff/api-keys/")
    made = staff_client.post("/staff/api-keys/", data={
        "csrf_token": token, "name": "Diariet", "forms": ["anslutning"], "scopes": ["answers"],
        "expires": (utcnow() + timedelta(days=10)).date().isoformat()})
    assert made.status_code == 303
    page = staff_client.get("/staff/api-keys/").get_data(as_text=True)
    plain = page.split("<code>")[1].split("</code>")[0]
    assert plain.startswith("fsk_") and len(plain) > 40
    assert plain not in staff_client.get("/staff/api-keys/").get_data(as_text=True)
    api = app.test_client()
    assert call(api, "/api/v1/forms", plain).status_code == 200
    with app.app_context():
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                assert plain not in repr(tuple(row)), table.name
        key_id = db.session.scalar(sa.text("SELECT id FROM api_keys"))
    staff_client.post(f"/staff/api-keys/{key_id}/revoke", data={"csrf_token": token})
    assert error_code(call(api, "/api/v1/forms", plain)) == "revoked_key"
    with app.app_context():
        actions = db.session.scalars(sa.select(AuditEvent.action)).all()
    assert "api_key_created" in actions and "api_key_revoked" in actions


def test_a_key_form_refuses_bad_input_next_to_the_fields(app, staff_client):
    """Bad input tried: no name, nothing to read, an expiry in the past."""
    token = csrf_token(staff_client, "/staff/api-keys/")
    refused = staff_client.post("/staff/api-keys/", data={"csrf_token": token, "name": "", "expires": "2000-01-01"})
    assert refused.status_code == 422
    assert refused.get_data(as_text=True).count('class="error"') == 3


# ------------------------------------------------------------------ the OpenAPI description
def checked_against(spec: dict, path: str, status: int, body) -> None:
    """Validate one response body against what the description says for this path and status."""
    operation = spec["paths"][path]["get"]
    described = operation["responses"][str(status)]
    if "$ref" in described:
        described = spec["components"]["responses"][described["$ref"].rsplit("/", 1)[-1]]
    schema = described["content"]["application/json"]["schema"]
    OAS31Validator({**schema, "components": spec["components"]}).validate(body)


def test_responses_are_what_the_openapi_description_says(app, client, answered):
    spec_response = client.get("/api/v1/openapi.json")
    assert spec_response.status_code == 200
    spec = spec_response.get_json()
    assert spec["openapi"].startswith("3.1")
    key = make_key(app)
    reference = call(client, "/api/v1/forms/anslutning/answers", key).get_json()["data"][0]["reference"]
    with app.app_context():
        db.session.execute(sa.text("UPDATE newsletter_subscriptions SET status = 'confirmed', confirmed_at = :t"),
                           {"t": utcnow()})
        db.session.commit()
    calls = [
        ("/forms", "/api/v1/forms", key),
        ("/forms/{slug}", "/api/v1/forms/anslutning", key),
        ("/forms/{slug}", "/api/v1/forms/nyhetsbrev", key),
        ("/forms/{slug}/answers", "/api/v1/forms/anslutning/answers?state=all&limit=2", key),
        ("/forms/{slug}/answers", "/api/v1/forms/anslutning/answers?limit=0", key),
        ("/forms/{slug}/answers", "/api/v1/forms/anslutning/answers", None),
        ("/forms/{slug}/answers/{reference}", f"/api/v1/forms/anslutning/answers/{reference}", key),
        ("/forms/{slug}/answers/{reference}", "/api/v1/forms/anslutning/answers/ZZZZ-ZZZZ", key),
        ("/organisations", "/api/v1/organisations", key),
        ("/subscribers", "/api/v1/subscribers", key),
    ]
    statuses = Counter()
    for path, url, used_key in calls:
        response = call(client, url, used_key)
        assert response.is_json
        checked_against(spec, path, response.status_code, response.get_json())
        statuses[response.status_code] += 1
        if path == "/subscribers":
            assert response.get_json()["data"], "a confirmed subscriber to check"
    assert set(statuses) == {200, 400, 401, 403, 404}
    # Every API route is described, and everything described is served.
    served = {rule.rule.removeprefix("/api/v1").replace("<", "{").replace(">", "}")
              for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    assert served == set(spec["paths"])
