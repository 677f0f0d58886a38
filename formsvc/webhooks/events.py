"""Queueing events: one delivery row per endpoint that wants the event, written in the transaction of
the change it tells about, so an event is sent if and only if its change was committed.

Cheap on the answer path: which endpoints want what is read at most once per
FORMSVC_WEBHOOK_CACHE_SECONDS per worker; in between, an answer no endpoint wants costs no query at all.
"""

from __future__ import annotations

import json
import time
import uuid

import sqlalchemy as sa
from flask import current_app

from ..definitions import FormDefinition
from ..extensions import db
from ..models import Response, utcnow
from .models import INSERT_DELIVERY, PENDING, WebhookEndpoint

CACHE = "formsvc_webhook_endpoints"


def _endpoints(connection: sa.Connection | None = None) -> list[tuple[int, frozenset[str]]]:
    """(id, events) of the enabled endpoints, as this worker read them at most a few seconds ago."""
    cached = current_app.extensions.get(CACHE)
    now = time.monotonic()
    if cached and now < cached[0]:
        return cached[1]
    # Through the caller's transaction: a connection of its own would queue, on SQLite, for the write lock
    # the caller may hold.
    query = sa.select(WebhookEndpoint.id, WebhookEndpoint.events).where(WebhookEndpoint.enabled)
    rows = (connection or db.session).execute(query)
    endpoints = [(row.id, frozenset(row.events or ())) for row in rows]
    current_app.extensions[CACHE] = (now + current_app.config["FORMSVC_WEBHOOK_CACHE_SECONDS"], endpoints)
    return endpoints


def forget_endpoints() -> None:
    """Read the endpoints again on the next event (this worker changed them)."""
    current_app.extensions.pop(CACHE, None)


def deliveries(event_type: str, data: dict, connection: sa.Connection | None = None) -> list[dict]:
    """The delivery rows of an event (not stored yet): none when no endpoint wants it."""
    wanted = [endpoint_id for endpoint_id, events in _endpoints(connection) if event_type in events]
    if not wanted:
        return []
    now = utcnow()
    # One body for every endpoint: {type, timestamp, data}, as Standard Webhooks suggests.
    body = json.dumps({"type": event_type, "timestamp": now.isoformat(), "data": data}, ensure_ascii=False)
    return [
        {
            "endpoint_id": endpoint_id,
            "message_id": f"msg_{uuid.uuid4().hex}",
            "event_type": event_type,
            "payload": body,
            "created_at": now,
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": now,
        }
        for endpoint_id in wanted
    ]


def emit(event_type: str, data: dict, connection: sa.Connection | None = None) -> int:
    """Queue the event in the caller's transaction (the session's, or `connection`); the caller commits.
    Returns how many deliveries were queued."""
    rows = deliveries(event_type, data, connection)
    if rows:
        (connection or db.session).execute(INSERT_DELIVERY, rows)
    return len(rows)


def answer_data(definition: FormDefinition | None, response: Response) -> dict:
    """What an answer event tells: which answer, never what it says. The answers hold personal data (names,
    e-mail addresses, phone numbers); a receiver that needs them reads them with its own key, from the read
    API or an export, where access is scoped and logged (docs/integrations.md)."""
    return {
        "reference": response.reference,
        "form": response.form_slug,
        "version": definition.version if definition else None,
        "source": response.source,
        "organisation": {"id": response.organisation_id, "name": response.organisation_name}
        if response.organisation_id or response.organisation_name
        else None,
        "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
        "current": bool(response.is_current),
        "review": response.review,
    }


def on_answer(definition: FormDefinition, response: Response):
    """answers.on_answer_stored hook: the event's data made ready before the answer's transaction; which
    endpoints want it is looked up inside (mostly in this worker's cache), on the transaction's connection."""
    data = answer_data(definition, response)
    return lambda connection: emit("answer.stored", data, connection)


def on_replaced(connection: sa.Connection, slug: str, replaced: list[str], replaced_by: str | None) -> None:
    """answers.on_answer_replaced hook: the organisation's earlier answer is history now."""
    for reference in replaced:
        emit("answer.replaced", {"reference": reference, "form": slug, "replaced_by": replaced_by}, connection)
