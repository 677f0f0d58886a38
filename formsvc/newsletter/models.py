"""Newsletter subscriptions and their tokens (random, stored only as hashes)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import UTCDateTime, utcnow

PENDING, CONFIRMED, UNSUBSCRIBED = "pending", "confirmed", "unsubscribed"
CONFIRM, UNSUBSCRIBE = "confirm", "unsubscribe"


class Subscription(db.Model):
    """One address on the list, with its consent on record.

    Unsubscribing keeps the row for the counts but forgets the address, name and organisation
    (the form promises the address is deleted then); signing up again makes a new row.
    """

    __tablename__ = "newsletter_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(sa.String(254), unique=True)  # lower case; None once unsubscribed
    name: Mapped[str | None] = mapped_column(sa.String(200))
    organisation: Mapped[str | None] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING, index=True)
    # Consent on record: where and when the sign-up came, which definition version's text was agreed to
    # (form_versions holds that text), and when the address owner confirmed.
    source_form: Mapped[str] = mapped_column(sa.String(64))
    consent_version: Mapped[str] = mapped_column(sa.String(32))
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the last confirmation mail went out: at most one an hour, however often the address is entered.
    confirm_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[NewsletterToken]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", passive_deletes=True
    )


class NewsletterToken(db.Model):
    """A link's secret: confirm (expires) or unsubscribe (one per mail sent, valid as long as the row)."""

    __tablename__ = "newsletter_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        sa.ForeignKey("newsletter_subscriptions.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    subscription: Mapped[Subscription] = relationship(back_populates="tokens")
