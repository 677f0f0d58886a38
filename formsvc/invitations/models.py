"""Invitations: one per form and organisation, its link tokens, and which answers came through one."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import Organisation, Response, UTCDateTime, utcnow


class Invitation(db.Model):
    """An organisation asked to answer a form. Its status is read from these dates and from the answers."""

    __tablename__ = "invitations"
    __table_args__ = (sa.UniqueConstraint("form_slug", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    form_slug: Mapped[str] = mapped_column(sa.String(64), index=True)
    organisation_id: Mapped[int] = mapped_column(sa.ForeignKey("organisations.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(sa.String(254))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the first invitation mail
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    send_count: Mapped[int] = mapped_column(default=0, server_default="0")
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest reminder
    reminder_count: Mapped[int] = mapped_column(default=0, server_default="0")
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()
    tokens: Mapped[list[InvitationToken]] = relationship(
        back_populates="invitation", cascade="all, delete-orphan", passive_deletes=True
    )


class InvitationToken(db.Model):
    """A personal link. Each mail gets a new one (the raw token is never stored, so it cannot be mailed
    again); all of an invitation's links work until it is revoked."""

    __tablename__ = "invitation_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # SHA-256 hex of the token
    purpose: Mapped[str] = mapped_column(sa.String(16))  # inbjudan, paminnelse, manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    invitation: Mapped[Invitation] = relationship(back_populates="tokens")


class InvitedResponse(db.Model):
    """An answer given through an invitation link; answers without a row here came through the open link."""

    __tablename__ = "invited_responses"

    response_id: Mapped[int] = mapped_column(sa.ForeignKey("responses.id", ondelete="CASCADE"), primary_key=True)
    invitation_id: Mapped[int] = mapped_column(sa.ForeignKey("invitations.id", ondelete="CASCADE"), index=True)

    response: Mapped[Response] = relationship()
    invitation: Mapped[Invitation] = relationship()
