"""The double opt-in: signing up, confirming, unsubscribing, and the mails each sends.

Every mail about the newsletter carries its own one-click unsubscribe link (RFC 8058).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from ..database import insert_unless_present
from ..definitions import FormDefinition
from ..extensions import db
from ..links import hash_token, public_url
from ..mail import INSERT_OUTBOX, compose, enqueue
from ..models import Response, utcnow
from ..webhooks import emit
from .models import CONFIRM, CONFIRMED, PENDING, UNSUBSCRIBE, UNSUBSCRIBED, NewsletterToken, Subscription

CONFIRM_MAIL = "nyhetsbrev_bekrafta"
WELCOME_MAIL = "nyhetsbrev_valkommen"
INSERT_TOKENS = sa.insert(NewsletterToken.__table__)  # built once: it runs inside answers' transactions


def normal_address(address: str) -> str:
    """How addresses are compared and stored: no surrounding spaces, lower case."""
    return address.strip().lower()


def new_token(subscription: Subscription, purpose: str, expires_at: datetime | None = None) -> str:
    """A random token (32 bytes) for a link; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    _store_token(subscription, purpose, token, expires_at)
    return token


def _store_token(subscription: Subscription, purpose: str, token: str, expires_at: datetime | None = None) -> None:
    # Added through the session, not the collection: a long-standing subscriber's links are not all loaded.
    db.session.add(
        NewsletterToken(subscription=subscription, purpose=purpose, token_hash=hash_token(token), expires_at=expires_at)
    )


def find_token(token: str, purpose: str) -> NewsletterToken | None:
    if len(token) > 128:  # not one of ours; spare the hashing
        return None
    return db.session.scalar(sa.select(NewsletterToken).filter_by(token_hash=hash_token(token), purpose=purpose))


def _unsubscribe_headers(unsubscribe_url: str) -> dict[str, str]:
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def send(subscription: Subscription, template: str, **context) -> None:
    """Put a mail to the subscriber in the outbox, with a one-click unsubscribe link of its own."""
    unsubscribe_url = public_url("newsletter.unsubscribe_page", token=new_token(subscription, UNSUBSCRIBE))
    enqueue(
        subscription.email,
        template,
        headers=_unsubscribe_headers(unsubscribe_url),
        subscription=subscription,
        unsubscribe_url=unsubscribe_url,
        **context,
    )


@dataclass(frozen=True)
class Confirmation:
    """A confirmation mail made ready: its two links' tokens and the rendered mail, stored only if sent."""

    confirm_token: str
    unsubscribe_token: str
    mail: dict  # the outbox row's values


def prepare_confirmation(address: str, name: str | None) -> Confirmation:
    confirm_token, unsubscribe_token = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    unsubscribe_url = public_url("newsletter.unsubscribe_page", token=unsubscribe_token)
    mail = compose(
        address,
        CONFIRM_MAIL,
        headers=_unsubscribe_headers(unsubscribe_url),
        subscription=Subscription(email=address, name=name),  # what the mail says: not stored
        unsubscribe_url=unsubscribe_url,
        confirm_url=public_url("newsletter.confirm_page", token=confirm_token),
        days=current_app.config["FORMSVC_NEWSLETTER_CONFIRM_DAYS"],
    )
    return Confirmation(confirm_token, unsubscribe_token, mail)


def mailed_recently(mailed_at: datetime | None, now: datetime) -> bool:
    """True when a confirmation mail went to the address within the interval: no new one yet (list bombing)."""
    interval = timedelta(seconds=current_app.config["FORMSVC_NEWSLETTER_MAIL_INTERVAL"])
    return mailed_at is not None and now - mailed_at < interval


def send_confirmation(
    subscription_id: int, confirmation: Confirmation, now: datetime, connection: sa.Connection | None = None
) -> None:
    """Store a confirmation mail made ready, with its links' tokens; the caller records confirm_mailed_at
    and commits. `connection`: an answer's transaction (database.write_transaction), else the session's."""
    connection = connection or db.session.connection()
    days = current_app.config["FORMSVC_NEWSLETTER_CONFIRM_DAYS"]
    tokens = [
        (CONFIRM, confirmation.confirm_token, now + timedelta(days=days)),
        (UNSUBSCRIBE, confirmation.unsubscribe_token, None),
    ]
    connection.execute(
        INSERT_TOKENS,
        [
            {"subscription_id": subscription_id, "purpose": purpose, "token_hash": hash_token(token),
             "created_at": now, "expires_at": expires_at}
            for purpose, token, expires_at in tokens
        ],
    )  # fmt: skip
    connection.execute(INSERT_OUTBOX, confirmation.mail)


def sign_up(
    address: str,
    source_form: str,
    consent_version: str,
    name: str | None = None,
    organisation: str | None = None,
    confirmation: Confirmation | None = None,
    connection: sa.Connection | None = None,
) -> int:
    """Start (or continue) a double opt-in for the address; the caller commits. Returns the subscription's id.

    A confirmed address is left as it is and gets no mail; a pending one gets a new confirmation mail
    at most once an hour. The visitor sees the same page in every case, so the list does not leak.
    `confirmation`: the mail made ready beforehand for this address and name. `connection`: an answer's
    transaction, else the session's. Few plain statements, not the ORM: this runs inside an answer's
    transaction, which on SQLite every other answer waits for.
    """
    connection = connection or db.session.connection()
    address, now = normal_address(address), utcnow()
    confirmation = confirmation or prepare_confirmation(address, name)
    subscriptions = Subscription.__table__
    # The latest sign-up's details are kept while the subscription is pending; the address owner confirms them.
    details = {"source_form": source_form, "consent_version": consent_version, "signed_up_at": now,
               "name": name, "organisation": organisation}  # fmt: skip
    new = insert_unless_present(subscriptions, connection.dialect.name, "id")
    subscription_id = connection.execute(
        new, {"email": address, "status": PENDING, "confirm_mailed_at": now, **details}
    ).scalar()
    if subscription_id is not None:  # a new address
        send_confirmation(subscription_id, confirmation, now, connection)
        return subscription_id
    # The row lock serialises two sign-ups of one address on PostgreSQL (SQLite has one writer anyway).
    find = sa.select(subscriptions.c.id, subscriptions.c.status, subscriptions.c.confirm_mailed_at)
    found = connection.execute(find.where(subscriptions.c.email == address).with_for_update()).one()
    if found.status == CONFIRMED:
        return found.id
    mail = not mailed_recently(found.confirm_mailed_at, now)
    if mail:
        details["confirm_mailed_at"] = now
    connection.execute(sa.update(subscriptions).where(subscriptions.c.id == found.id).values(details))
    if mail:
        send_confirmation(found.id, confirmation, now, connection)
    return found.id


def sign_up_from_answer(definition: FormDefinition, response: Response) -> Callable[[sa.Connection], None] | None:
    """The answer hook: a form with a `newsletter` setting signs the address up in the answer's transaction
    (the function returned is called with its connection).

    The confirmation mail is rendered now, before that transaction, and stored only if it is sent."""
    setting = definition.newsletter
    address = setting.address(response.answers) if setting else None
    if not address:
        return None
    name = setting.value(response.answers, "name")
    confirmation = prepare_confirmation(normal_address(address), name)
    return lambda connection: sign_up(
        address,
        source_form=definition.slug,
        consent_version=definition.version,
        name=name,
        organisation=setting.value(response.answers, "organisation"),
        confirmation=confirmation,
        connection=connection,
    )


def token_state(token: NewsletterToken, now: datetime) -> str:
    """What a confirmation link can do: 'confirmed' (already), 'expired', or 'pending'."""
    if token.subscription.status == CONFIRMED:
        return CONFIRMED
    if token.expires_at and token.expires_at <= now:
        return "expired"
    return PENDING


def confirm(subscription: Subscription, now: datetime) -> bool:
    """Confirm and send the welcome mail; confirming again changes nothing. The caller commits."""
    if subscription.status != PENDING:
        return False
    subscription.status, subscription.confirmed_at = CONFIRMED, now
    send(subscription, WELCOME_MAIL)
    # Which subscription, not whose: a receiver that needs the address reads it through the read API.
    emit("subscriber.confirmed", {"subscription": subscription.id, "source_form": subscription.source_form,
                                  "confirmed_at": now.isoformat()})  # fmt: skip
    return True


def unsubscribe(subscription: Subscription, now: datetime) -> bool:
    """End the subscription at once and forget the address (kept: dates and source, for the counts)."""
    if subscription.status == UNSUBSCRIBED:
        return False
    if subscription.status == CONFIRMED:  # one who never confirmed was never a subscriber
        emit("subscriber.left", {"subscription": subscription.id, "left_at": now.isoformat()})
    subscription.status, subscription.unsubscribed_at = UNSUBSCRIBED, now
    subscription.email = subscription.name = subscription.organisation = None
    subscription.tokens = [t for t in subscription.tokens if t.purpose != CONFIRM]
    return True


def status_counts() -> dict[str, int]:
    """Subscriptions per status, counted in the database."""
    rows = db.session.execute(
        sa.select(Subscription.status, sa.func.count(Subscription.id)).group_by(Subscription.status)
    )
    counts = {PENDING: 0, CONFIRMED: 0, UNSUBSCRIBED: 0}
    counts.update(dict(rows.all()))
    return counts
