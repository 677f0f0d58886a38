"""The double opt-in: signing up, confirming, unsubscribing, and the mails each sends.

Every mail about the newsletter carries its own one-click unsubscribe link (RFC 8058).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from ..definitions import FormDefinition
from ..extensions import db
from ..links import public_url
from ..mail import enqueue
from ..models import Response, utcnow
from .models import CONFIRM, CONFIRMED, PENDING, UNSUBSCRIBE, UNSUBSCRIBED, NewsletterToken, Subscription, hash_token

CONFIRM_MAIL = "nyhetsbrev_bekrafta"
WELCOME_MAIL = "nyhetsbrev_valkommen"


def normal_address(address: str) -> str:
    """How addresses are compared and stored: no surrounding spaces, lower case."""
    return address.strip().lower()


def new_token(subscription: Subscription, purpose: str, expires_at: datetime | None = None) -> str:
    """A random token (32 bytes) for a link; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    # Added through the session, not the collection: a long-standing subscriber's links are not all loaded.
    db.session.add(
        NewsletterToken(subscription=subscription, purpose=purpose, token_hash=hash_token(token), expires_at=expires_at)
    )
    return token


def find_token(token: str, purpose: str) -> NewsletterToken | None:
    if len(token) > 128:  # not one of ours; spare the hashing
        return None
    return db.session.scalar(sa.select(NewsletterToken).filter_by(token_hash=hash_token(token), purpose=purpose))


def send(subscription: Subscription, template: str, **context) -> None:
    """Put a mail to the subscriber in the outbox, with a one-click unsubscribe link of its own."""
    unsubscribe_url = public_url("newsletter.unsubscribe_page", token=new_token(subscription, UNSUBSCRIBE))
    headers = {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    enqueue(
        subscription.email,
        template,
        headers=headers,
        subscription=subscription,
        unsubscribe_url=unsubscribe_url,
        **context,
    )


def send_confirmation(subscription: Subscription, now: datetime) -> bool:
    """Mail a new confirmation link, unless one went to this address within the interval (list bombing)."""
    interval = timedelta(seconds=current_app.config["FORMSVC_NEWSLETTER_MAIL_INTERVAL"])
    if subscription.confirm_mailed_at and now - subscription.confirm_mailed_at < interval:
        return False
    days = current_app.config["FORMSVC_NEWSLETTER_CONFIRM_DAYS"]
    token = new_token(subscription, CONFIRM, expires_at=now + timedelta(days=days))
    subscription.confirm_mailed_at = now
    send(subscription, CONFIRM_MAIL, confirm_url=public_url("newsletter.confirm_page", token=token), days=days)
    return True


def _by_address(address: str) -> Subscription | None:
    # The row lock serialises two sign-ups of one address on PostgreSQL (SQLite has one writer anyway).
    return db.session.scalar(sa.select(Subscription).filter_by(email=address).with_for_update())


def sign_up(
    address: str,
    source_form: str,
    consent_version: str,
    name: str | None = None,
    organisation: str | None = None,
) -> Subscription:
    """Start (or continue) a double opt-in for the address; the caller commits.

    A confirmed address is left as it is and gets no mail; a pending one gets a new confirmation mail
    at most once an hour. The visitor sees the same page in every case, so the list does not leak.
    """
    address, now = normal_address(address), utcnow()
    subscription = _by_address(address)
    if subscription is None:
        try:
            with db.session.begin_nested():
                subscription = Subscription(
                    email=address, status=PENDING, source_form=source_form, consent_version=consent_version
                )
                db.session.add(subscription)
        except IntegrityError:  # the same address signed up a moment ago in another request
            subscription = _by_address(address)
    if subscription.status == CONFIRMED:
        return subscription
    # Still pending: take the latest sign-up's details; the address owner confirms them.
    subscription.source_form, subscription.consent_version = source_form, consent_version
    subscription.signed_up_at = now
    subscription.name, subscription.organisation = name, organisation
    send_confirmation(subscription, now)
    return subscription


def sign_up_from_answer(definition: FormDefinition, response: Response) -> None:
    """The answer hook: a form with a `newsletter` setting signs the address up in the answer's transaction."""
    setting = definition.newsletter
    address = setting.address(response.answers) if setting else None
    if address:
        sign_up(
            address,
            source_form=definition.slug,
            consent_version=definition.version,
            name=setting.value(response.answers, "name"),
            organisation=setting.value(response.answers, "organisation"),
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
    return True


def unsubscribe(subscription: Subscription, now: datetime) -> bool:
    """End the subscription at once and forget the address (kept: dates and source, for the counts)."""
    if subscription.status == UNSUBSCRIBED:
        return False
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
