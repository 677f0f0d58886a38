"""Core tables: form versions, answers and their countable values, the organisation register.

Features that grow their own tables keep them in their own package (mail.py, staff/, ...).
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db


class UTCDateTime(sa.TypeDecorator):
    """Aware UTC datetimes in and out; SQLite would otherwise hand back naive ones."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: use datetime.now(UTC)")
            value = value.astimezone(UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def utcnow() -> datetime:
    return datetime.now(UTC)


def name_key(name: str) -> str:
    """How names are compared: case and spacing do not make a different organisation."""
    return " ".join(name.split()).casefold()


class FormVersion(db.Model):
    """A definition as it was when answers were given under it; old answers are read with it."""

    __tablename__ = "form_versions"
    __table_args__ = (sa.UniqueConstraint("form_slug", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_slug: Mapped[str] = mapped_column(sa.String(64))
    version: Mapped[str] = mapped_column(sa.String(32))
    definition: Mapped[dict] = mapped_column(sa.JSON)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The YAML text staff published (editor/store.py), so the version can be published again; None for a
    # version first seen when answered from a file.
    text: Mapped[str | None] = mapped_column(sa.Text)


class Organisation(db.Model):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    type: Mapped[str] = mapped_column(sa.String(32))
    contact_name: Mapped[str | None] = mapped_column(sa.String(200))
    contact_email: Mapped[str | None] = mapped_column(sa.String(254))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Response(db.Model):
    """One answer to a form, with the definition version it was given under."""

    __tablename__ = "responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True)
    form_slug: Mapped[str] = mapped_column(sa.String(64))  # indexed with is_current (aggregate.py)
    form_version_id: Mapped[int] = mapped_column(sa.ForeignKey("form_versions.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Sent with the form page: a resent POST carries the same key and stores nothing new.
    submission_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    organisation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("organisations.id", ondelete="SET NULL"))
    organisation_name: Mapped[str | None] = mapped_column(sa.String(200))
    answers: Mapped[dict] = mapped_column(sa.JSON)
    # False once a newer answer replaces this one (one current answer per organisation); kept as history.
    is_current: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # How the answer came: "invitation" (the organisation's personal link) or "open" (the form's open link).
    source: Mapped[str] = mapped_column(sa.String(16), default="open", server_default="open")
    # An open-link answer to a form answered once per organisation waits for staff (review.py): "pending",
    # then "accepted" (it became current) or "rejected" (never current). None: nothing to review.
    review: Mapped[str | None] = mapped_column(sa.String(16))
    reviewed_by: Mapped[str | None] = mapped_column(sa.String(254))  # the staff e-mail that accepted or rejected
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Consent field key -> version of the definition whose text was agreed to.
    consents: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    # Set when `formsvc purge` removed the personal data at the end of the form's retention period.
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the answer's own INSERT when something follows it that the senders make afterwards (the
    # registrar's copy, webhook deliveries: dispatch.py); cleared by the sender that made it.
    integrations_pending: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    form_version: Mapped[FormVersion] = relationship()
    organisation: Mapped[Organisation | None] = relationship()
    values: Mapped[list[AnswerValue]] = relationship(
        back_populates="response", cascade="all, delete-orphan", passive_deletes=True
    )


# Only the answers the senders still have to follow up are in it: a handful, however many answers there are.
# Each predicate is written as SQLAlchemy writes the senders' condition in that dialect, so the planner
# sees that the index answers it (SQLite's "= 1" is not implied by a bare "integrations_pending").
sa.Index(
    "ix_responses_integrations_pending",
    Response.id,
    sqlite_where=sa.text("integrations_pending = 1"),
    postgresql_where=sa.text("integrations_pending"),
)


class AnswerValue(db.Model):
    """One picked option of a countable question, so counts and rankings are done in SQL."""

    __tablename__ = "answer_values"
    __table_args__ = (sa.Index("ix_answer_values_count", "form_slug", "field", "value"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True)
    form_slug: Mapped[str] = mapped_column(sa.String(64))
    field: Mapped[str] = mapped_column(sa.String(64))
    value: Mapped[str] = mapped_column(sa.String(64))
    position: Mapped[int | None] = mapped_column()  # 1, 2, 3 for a ranking

    response: Mapped[Response] = relationship(back_populates="values")


class AnswerCount(db.Model):
    """How often each option is picked in the current answers to a form, kept as answers arrive.

    Database triggers (migration counts_1) change it in the same transaction as any write to
    answer_values or to responses.is_current, and on deleting a current answer, so the unfiltered results
    page reads a few rows instead of counting every value. A row may stay with count 0 after deletions.
    """

    __tablename__ = "answer_counts"

    form_slug: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    field: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    count: Mapped[int] = mapped_column(sa.BigInteger)
    place_sum: Mapped[int] = mapped_column(sa.BigInteger)  # sum of the places (rankings); 0 otherwise
