"""Sending queued deliveries, signed per Standard Webhooks, with retries for a day.

Like the outbox (mail.py): a sender claims a small batch under a name of its own (SKIP LOCKED on
PostgreSQL; SQLite has one writer), renews its claims before each request and sends only what is still its
own, so two senders never deliver one event twice. No transaction is open while a receiver works. A
receiver that cannot be reached is not tried again in the same run; its deliveries wait for their next
attempt, with a back-off that doubles each time, and fail after FORMSVC_WEBHOOK_RETRY_SECONDS.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup
from standardwebhooks import Webhook

from ..dispatch import dispatch_answers
from ..extensions import db
from ..models import utcnow
from ..senders import run_command
from . import targets
from .models import CANCELLED, DELIVERED, FAILED, PENDING, SENDING, WebhookDelivery, WebhookEndpoint

log = logging.getLogger(__name__)

CLAIM_TIMEOUT = timedelta(minutes=10)  # a claim not renewed for this long belongs to a sender that died
CLAIM_BATCH = 10
USER_AGENT = "formsvc-webhooks"


def send_webhooks(limit: int = 500) -> tuple[int, int]:
    """Send what is due. Returns (delivered, failed attempts)."""
    sender = uuid.uuid4().hex
    delivered = failed = claimed = 0
    unreachable: set[int] = set()  # endpoints that failed in this run: the rest of theirs wait
    try:
        while claimed < limit:
            dispatch_answers()  # the answer.stored events of answers that came in since (dispatch.py)
            batch = _claim(sender, min(CLAIM_BATCH, limit - claimed), unreachable)
            if not batch:
                break
            claimed += len(batch)
            for delivery_id in batch:
                outcome = _send_one(sender, delivery_id, unreachable)
                delivered += outcome == DELIVERED
                failed += outcome in (PENDING, FAILED)
    finally:
        db.session.rollback()
        with contextlib.suppress(sa.exc.SQLAlchemyError):
            _release(sender)
            db.session.commit()
    _prune()
    return delivered, failed


def _prune() -> None:
    """Delete deliveries finished (delivered, failed, cancelled) longer ago than FORMSVC_WEBHOOK_KEEP_DAYS:
    staff see recent ones; the events themselves are not kept for ever."""
    cutoff = utcnow() - timedelta(days=current_app.config["FORMSVC_WEBHOOK_KEEP_DAYS"])
    db.session.execute(
        sa.delete(WebhookDelivery).where(
            WebhookDelivery.status.in_((DELIVERED, FAILED, CANCELLED)), WebhookDelivery.next_attempt_at < cutoff
        )
    )
    db.session.commit()


def _claim(sender: str, limit: int, unreachable: set[int]) -> list[int]:
    now = utcnow()
    stale = sa.or_(WebhookDelivery.claimed_at < now - CLAIM_TIMEOUT, WebhookDelivery.claimed_at.is_(None))
    due = (
        sa.select(WebhookDelivery.id)
        .where(
            sa.or_(
                sa.and_(WebhookDelivery.status == PENDING, WebhookDelivery.next_attempt_at <= now),
                sa.and_(WebhookDelivery.status == SENDING, stale),
            ),
            WebhookDelivery.endpoint_id.not_in(unreachable),
        )
        .order_by(WebhookDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            sa.update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(status=SENDING, claimed_at=now, claimed_by=sender)
        )
    db.session.commit()
    return ids


def _still_ours(sender: str, delivery_id: int) -> WebhookDelivery | None:
    """Renew this sender's claims and return the delivery if it is still this sender's. The caller commits."""
    db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.claimed_by == sender, WebhookDelivery.status == SENDING)
        .values(claimed_at=utcnow())
    )
    return db.session.scalar(
        sa.select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.claimed_by == sender, WebhookDelivery.status == SENDING
        )
    )


def _release(sender: str) -> None:
    """Give back what this sender still holds, untried."""
    db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.claimed_by == sender, WebhookDelivery.status == SENDING)
        .values(status=PENDING, claimed_at=None, claimed_by=None)
    )


def _send_one(sender: str, delivery_id: int, unreachable: set[int]) -> str | None:
    """Send one claimed delivery and note how it went; commit. Its new status (None: not ours any more)."""
    delivery = _still_ours(sender, delivery_id)
    if delivery is None:
        db.session.commit()
        return None
    endpoint: WebhookEndpoint = delivery.endpoint
    if endpoint.id in unreachable:  # it failed a moment ago in this run: the next run tries
        delivery.status, delivery.claimed_at, delivery.claimed_by = PENDING, None, None
        db.session.commit()
        return None
    if not endpoint.enabled:
        delivery.status, delivery.last_error = CANCELLED, "the endpoint was disabled"
        delivery.claimed_at = delivery.claimed_by = None
        db.session.commit()
        return CANCELLED
    url, secret, message_id, body = endpoint.url, endpoint.secret, delivery.message_id, delivery.payload
    endpoint_id = endpoint.id
    db.session.commit()  # the renewed claim is seen by other senders; nothing is held during the request
    status, error, permanent = None, None, False
    try:
        status = post(url, secret, message_id, body)
    except targets.Refused as refusal:
        error, permanent = f"refused: {refusal}", True
    except Exception as failure:  # the receiver is down, slow or unknown: try again later
        unreachable.add(endpoint_id)
        error = f"{type(failure).__name__}: {failure}"
    else:
        if not 200 <= status < 300:
            # 410 Gone: the receiver says it will never take this (Standard Webhooks); others may pass.
            error, permanent = f"HTTP {status}", status == 410
    try:
        if error is None:
            delivery.status, delivery.delivered_at = DELIVERED, utcnow()
            delivery.last_status, delivery.last_error = status, None
            delivery.attempts += 1
        else:
            _note(delivery, status, error, permanent)
        delivery.claimed_at = delivery.claimed_by = None
        db.session.commit()
    except (sa.orm.exc.ObjectDeletedError, sa.orm.exc.StaleDataError):
        db.session.rollback()  # staff deleted the endpoint meanwhile, and its deliveries with it
        return None
    return delivery.status


def post(url: str, secret: str, message_id: str, body: str) -> int:
    """POST the body, signed now (the timestamp is the attempt's), to the checked address; the status."""
    target = targets.parse(url)
    now = utcnow()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, now, body),
    }
    connection = targets.connection(target, current_app.config["FORMSVC_WEBHOOK_TIMEOUT"])
    try:
        connection.request("POST", target.path, body=body.encode(), headers=headers)
        response = connection.getresponse()
        response.read(65536)  # what the receiver says is not used; a little is read so it can finish
        return response.status
    finally:
        connection.close()


def _note(delivery: WebhookDelivery, status: int | None, error: str, permanent: bool = False) -> None:
    """A failed attempt: due again after a back-off that doubles (capped), failed for good after a day."""
    config = current_app.config
    delivery.attempts += 1
    # An HTTP status says it all; otherwise the reason there was none (refused, no connection, timeout).
    delivery.last_status, delivery.last_error = status, None if status is not None else error[:1000]
    wait = config["FORMSVC_WEBHOOK_BACKOFF_SECONDS"] * 2 ** (delivery.attempts - 1)
    delivery.next_attempt_at = utcnow() + timedelta(seconds=min(wait, config["FORMSVC_WEBHOOK_MAX_BACKOFF_SECONDS"]))
    deadline = delivery.created_at + timedelta(seconds=config["FORMSVC_WEBHOOK_RETRY_SECONDS"])
    give_up = delivery.next_attempt_at > deadline
    delivery.status = FAILED if permanent or give_up else PENDING
    log.warning("webhook %s to endpoint %s not delivered: %s", delivery.id, delivery.endpoint_id, error)


@click.group("webhooks", cls=AppGroup)
def webhooks_cli() -> None:
    """Webhooks."""


@webhooks_cli.command("send")
@click.option("--watch", type=float, default=0, help="Keep running, sending every this many seconds.")
def send_command(watch: float) -> None:
    """Send the webhook deliveries that are due (retries with back-off)."""
    run_command(send_webhooks, watch, "Delivered {done}, failed {failed}.")
