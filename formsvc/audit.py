"""The audit log: who did what to whose data, and when. Written in the caller's transaction."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .models import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(sa.String(254))  # staff e-mail, or "system" for commands
    action: Mapped[str] = mapped_column(sa.String(64))  # e.g. login, login_failed, export, delete_response
    target: Mapped[str | None] = mapped_column(sa.String(200))  # e.g. the form slug or a reference
    detail: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    ip: Mapped[str | None] = mapped_column(sa.String(64))


def audit(action: str, target: str | None = None, actor: str | None = None, **detail) -> AuditEvent:
    """Add an audit event to the session; the caller commits it with the work it records."""
    if actor is None:
        authenticated = has_request_context() and current_user.is_authenticated
        actor = current_user.email if authenticated else "system"
    event = AuditEvent(
        actor=actor,
        action=action,
        target=target,
        detail=detail,
        ip=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event
