"""Queueing events: one delivery row per endpoint that wants the event, written in the transaction of
the change it tells about, so an event is sent if and only if its change was committed.

answer.stored, the one event that comes with every answer, is queued by the senders instead
(formsvc/dispatch.py): the answer is only marked, and a sender writes its deliveries afterwards, once.
Which endpoints want what is read at most once per FORMSVC_WEBHOOK_CACHE_SECONDS per worker; in between,
an answer costs no query about webhooks at all.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime

import sqlalchemy as sa
from flask import current_app

from ..answers import PENDING as PENDING_REVIEW
from ..definitions import FormDefinition
from ..extensions import db
from ..models import Response, utcnow
from .models import INSERT_DELIVERY, PENDING, WebhookEndpoint

CACHE = "formsvc_webhook_endpoints"
ANSWER_STORED = "answer.stored"


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


def _rows(event_type: str, data: dict, endpoint_ids: list[int], happened_at: datetime) -> list[dict]:
    """The delivery rows of an event for these endpoints (not stored yet)."""
    if not endpoint_ids:
        return []
    # One body for every endpoint: {type, timestamp, data}, as Standard Webhooks suggests.
    body = json.dumps({"type": event_type, "timestamp": happened_at.isoformat(), "data": data}, ensure_ascii=False)
    return [
        {
            "endpoint_id": endpoint_id,
            "message_id": f"msg_{uuid.uuid4().hex}",
            "event_type": event_type,
            "payload": body,
            "created_at": happened_at,  # the day of retries counts from the event
            "status": PENDING,
            "attempts": 0,
            "next_attempt_at": utcnow(),
        }
        for endpoint_id in endpoint_ids
    ]


def emit(event_type: str, data: dict, connection: sa.Connection | None = None) -> int:
    """Queue the event in the caller's transaction (the session's, or `connection`); the caller commits.
    Returns how many deliveries were queued."""
    wanted = [endpoint_id for endpoint_id, events in _endpoints(connection) if event_type in events]
    rows = _rows(event_type, data, wanted, utcnow())
    if rows:
        (connection or db.session).execute(INSERT_DELIVERY, rows)
    return len(rows)


def answer_data(definition: FormDefinition | None, response: Response) -> dict:
    """What an answer event tells: which answer, never what it says. The answers hold personal data (names,
    e-mail addresses, phone numbers); a receiver that needs them reads them with its own key, from the read
    API or an export, where access is scoped and logged (docs/integrations.md).

    Told as the answer was stored, even when the event is queued later (staff may have reviewed it since):
    an answer that had to wait for review (answers.store_answer) has a `review`, and was not current."""
    held = response.review is not None
    return {
        "reference": response.reference,
        "form": response.form_slug,
        "version": definition.version if definition else None,
        "source": response.source,
        "organisation": {"id": response.organisation_id, "name": response.organisation_name}
        if response.organisation_id or response.organisation_name
        else None,
        "submitted_at": response.submitted_at.isoformat() if response.submitted_at else None,
        "current": not held,
        "review": PENDING_REVIEW if held else None,
    }


def answer_wanted(_definition: FormDefinition, connection: sa.Connection) -> bool:
    """Whether an endpoint wants answer.stored (this worker's list): the answer is then marked for the senders."""
    return any(ANSWER_STORED in events for _, events in _endpoints(connection))


def on_answer(definition: FormDefinition, response: Response):
    """The hook the senders run for a marked answer (dispatch.py): its answer.stored event, for the endpoints
    that want it and were there when the answer came in, read in the sender's transaction."""
    data = answer_data(definition, response)

    def write(connection: sa.Connection) -> None:
        query = sa.select(WebhookEndpoint.id, WebhookEndpoint.events).where(
            WebhookEndpoint.enabled, WebhookEndpoint.created_at <= response.submitted_at
        )
        wanted = [row.id for row in connection.execute(query) if ANSWER_STORED in (row.events or ())]
        rows = _rows(ANSWER_STORED, data, wanted, response.submitted_at)
        if rows:
            connection.execute(INSERT_DELIVERY, rows)

    return write


def on_replaced(connection: sa.Connection, slug: str, replaced: list[str], replaced_by: str | None) -> None:
    """answers.on_answer_replaced hook: the organisation's earlier answer is history now."""
    for reference in replaced:
        emit("answer.replaced", {"reference": reference, "form": slug, "replaced_by": replaced_by}, connection)
