"""The read API under /api/v1/: JSON for other systems, with a key in the Authorization header.

The API never reads the session or cookies: a key is the only credential, so there is no CSRF to guard
(and every route is GET). Every use of a key is one row in the audit log.
"""

from __future__ import annotations

import base64
import binascii
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, g, jsonify, request
from sqlalchemy.orm import selectinload
from werkzeug.exceptions import HTTPException

from ..audit import audit
from ..catalog import catalog
from ..extensions import db, limiter
from ..models import FormVersion, Organisation, Response
from ..newsletter.models import CONFIRMED, Subscription
from .models import ANSWERS, ORGANISATIONS, SUBSCRIBERS, ApiKey, find_key
from .openapi import SPEC

bp = Blueprint("api", __name__, url_prefix="/api/v1")
DEFAULT_LIMIT, MAX_LIMIT = 100, 500
PUBLIC = {"/api/v1/openapi.json"}  # the description itself needs no key
# Every API route counts against one limit per client address, checked before the key is (floods of
# guessed keys are counted too). On the blueprint, once per process: a limit on a view would only be
# checked when the view runs, after a refused key.
limiter.shared_limit(lambda: current_app.config["FORMSVC_API_LIMIT"], scope="api")(bp)


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str):
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="formsvc"'
    return response


@bp.errorhandler(ApiError)
def api_error(error: ApiError):
    return error_response(error.status, error.code, error.message)


@bp.errorhandler(HTTPException)
def http_error(error: HTTPException):
    if error.code == 429:
        return error_response(429, "too_many_requests", "Too many requests: wait a while and try again.")
    return error_response(error.code or 500, error.name.lower().replace(" ", "_"), error.description or error.name)


@bp.before_request
def authenticate():
    """The key from `Authorization: Bearer fsk_...`: unknown, revoked or expired keys get 401."""
    if request.url_rule is not None and request.url_rule.rule in PUBLIC:
        return
    scheme, _, plain = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not plain.strip():
        raise ApiError(401, "no_key", "Send an API key: Authorization: Bearer fsk_...")
    key = find_key(plain.strip())
    if key is None:
        raise ApiError(401, "unknown_key", "The API key is not known.")
    if not key.usable:
        audit("api_refused", target=request.path[:200], actor=_actor(key), method=request.method,
              reason="revoked" if key.revoked_at else "expired")  # fmt: skip
        db.session.commit()
        if key.revoked_at:
            raise ApiError(401, "revoked_key", "The API key has been revoked.")
        raise ApiError(401, "expired_key", "The API key has expired.")
    g.api_key = key
    audit("api_request", target=request.full_path.rstrip("?")[:200], actor=_actor(key), method=request.method)
    db.session.commit()  # one row per use, whatever the view answers


def _actor(key: ApiKey) -> str:
    return f"api-key {key.id} ({key.name})"[:254]


def _key() -> ApiKey:
    return g.api_key


def _need_scope(scope: str) -> None:
    if scope not in _key().scopes:
        raise ApiError(403, "scope_not_given", f"This key may not read {scope}.")


def _need_form(slug: str):
    if slug not in _key().forms:
        raise ApiError(403, "form_not_given", "This key may not read that form.")
    definition = catalog().get(slug)
    if definition is None:
        raise ApiError(404, "not_found", "There is no such form.")
    return definition


def _time(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


# ------------------------------------------------------------------ cursors: opaque, on the row id
def encode_cursor(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{row_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "id" or not number.isdigit():
            raise ValueError
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(400, "bad_cursor", "The cursor is not one this API gave.") from None


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "bad_limit", f"limit must be a whole number from 1 to {MAX_LIMIT}.")
    return int(raw)


def _since() -> datetime | None:
    raw = request.args.get("since")
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(400, "bad_since", "since must be a time in ISO 8601, e.g. 2026-12-01T19:28:00Z.") from None
    if moment.tzinfo is None:
        raise ApiError(400, "bad_since", "since must name its time zone, e.g. 2026-12-01T19:28:00Z.")
    return moment


def _page(query, id_column, limit: int, serialise) -> dict:
    """One page in id order after the cursor. Rows added later get higher ids, so paging on while answers
    keep coming gives each row once; next_cursor is always given, to ask again later from there."""
    after = request.args.get("cursor")
    if after:
        query = query.where(id_column > decode_cursor(after))
    rows = db.session.scalars(query.order_by(id_column).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1].id if rows else (decode_cursor(after) if after else 0)
    return {"data": [serialise(row) for row in rows], "next_cursor": encode_cursor(last), "has_more": more}


# ------------------------------------------------------------------ forms
def _versions(slug: str) -> list[FormVersion]:
    return db.session.scalars(sa.select(FormVersion).filter_by(form_slug=slug).order_by(FormVersion.id)).all()


@bp.get("/forms")
def forms():
    """The forms this key may read, with their current version."""
    given = set(_key().forms)
    data = [{"slug": d.slug, "title": d.title, "current_version": d.version} for d in catalog() if d.slug in given]
    return jsonify({"data": data})


@bp.get("/forms/<slug>")
def form(slug: str):
    """A form's current definition and every version answers were given under."""
    definition = _need_form(slug)
    versions = [{"version": v.version, "first_seen_at": _time(v.first_seen_at), "definition": v.definition}
                for v in _versions(slug)]  # fmt: skip
    return jsonify({"slug": slug, "title": definition.title, "current_version": definition.version,
                    "definition": definition.as_json(), "versions": versions})  # fmt: skip


# ------------------------------------------------------------------ answers
def source_of(response: Response) -> str:
    """How the answer came in: through the organisation's personal link, the open link, or the open link
    and then accepted by staff."""
    if response.source == "invitation":
        return "personal_link"
    return "accepted" if response.review == "accepted" else "open_link"


def answer_json(response: Response) -> dict:
    organisation = (
        {"id": response.organisation_id, "name": response.organisation_name}
        if response.organisation_id or response.organisation_name
        else None
    )
    return {
        "reference": response.reference,
        "form": response.form_slug,
        "version": response.form_version.version,
        "source": source_of(response),
        "review": response.review,
        "current": response.is_current,
        "submitted_at": _time(response.submitted_at),
        "organisation": organisation,
        "answers": response.answers,
    }


@bp.get("/forms/<slug>/answers")
def answers(slug: str):
    """A form's answers, oldest first: `state=current` (default) or `all`, `since`, `cursor`, `limit`."""
    _need_form(slug)
    _need_scope(ANSWERS)
    state = request.args.get("state", "current")
    if state not in ("current", "all"):
        raise ApiError(400, "bad_state", "state must be current or all.")
    query = (
        sa.select(Response)
        .where(Response.form_slug == slug)
        .options(selectinload(Response.form_version))
    )
    if state == "current":
        query = query.where(Response.is_current)
    since = _since()
    if since:
        query = query.where(Response.submitted_at >= since)
    return jsonify(_page(query, Response.id, _limit(), answer_json))


@bp.get("/forms/<slug>/answers/<reference>")
def answer(slug: str, reference: str):
    """One answer by its reference."""
    _need_form(slug)
    _need_scope(ANSWERS)
    found = db.session.scalar(sa.select(Response).filter_by(form_slug=slug, reference=reference))
    if found is None:
        raise ApiError(404, "not_found", "There is no answer with that reference to this form.")
    return jsonify(answer_json(found))


# ------------------------------------------------------------------ organisations and subscribers
@bp.get("/organisations")
def organisations():
    """The organisation register."""
    _need_scope(ORGANISATIONS)

    def serialise(o: Organisation) -> dict:
        return {"id": o.id, "name": o.name, "type": o.type, "contact_name": o.contact_name,
                "contact_email": o.contact_email, "created_at": _time(o.created_at)}  # fmt: skip

    return jsonify(_page(sa.select(Organisation), Organisation.id, _limit(), serialise))


@bp.get("/subscribers")
def subscribers():
    """Confirmed newsletter subscribers."""
    _need_scope(SUBSCRIBERS)

    def serialise(s: Subscription) -> dict:
        return {"id": s.id, "email": s.email, "name": s.name, "organisation": s.organisation,
                "confirmed_at": _time(s.confirmed_at)}  # fmt: skip

    query = sa.select(Subscription).where(Subscription.status == CONFIRMED)
    return jsonify(_page(query, Subscription.id, _limit(), serialise))


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API."""
    return jsonify(SPEC)
