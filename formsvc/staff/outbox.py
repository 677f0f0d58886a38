"""Staff view of the outbox: mails held over the per-address cap and mails that failed, with their reason;
staff release (send anyway, or try again) or discard each."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext

from ..audit import audit
from ..extensions import db
from ..mail import FAILED, HELD, PENDING, OutboxMessage
from ..models import utcnow
from .blueprint import bp

SHOWN = 200  # the newest this many; a longer list means something is wrong, and the count says so


@bp.get("/outbox")
def outbox():
    """Held and failed mails, newest first, and how many are waiting to be sent."""
    stuck = sa.select(OutboxMessage).where(OutboxMessage.status.in_((HELD, FAILED)))
    counts = dict(
        db.session.execute(sa.select(OutboxMessage.status, sa.func.count()).group_by(OutboxMessage.status)).all()
    )
    messages = db.session.scalars(stuck.order_by(OutboxMessage.created_at.desc(), OutboxMessage.id.desc()).limit(SHOWN))
    return render_template("staff/outbox.html", messages=list(messages), counts=counts, shown=SHOWN)


def _stuck_or_404(message_id: int) -> OutboxMessage:
    message = db.session.get(OutboxMessage, message_id)
    if message is None or message.status not in (HELD, FAILED):
        abort(404)
    return message


@bp.post("/outbox/<int:message_id>/release")
def outbox_release(message_id: int):
    """Send a held mail anyway (past the hourly cap), or try a failed one again from the start."""
    message = _stuck_or_404(message_id)
    audit("mail_released", target=f"outbox {message.id}", template=message.template, status=message.status)
    message.cap_exempt = message.cap_exempt or message.status == HELD
    message.status, message.attempts, message.next_attempt_at = PENDING, 0, utcnow()
    db.session.commit()
    flash(gettext("Mejlet till %(recipient)s skickas vid nästa utskick.", recipient=message.recipient))
    return redirect(url_for("staff.outbox"), 303)


@bp.post("/outbox/<int:message_id>/discard")
def outbox_discard(message_id: int):
    """Delete a held or failed mail unsent; the log keeps that it was done, not the address."""
    message = _stuck_or_404(message_id)
    audit("mail_discarded", target=f"outbox {message.id}", template=message.template, status=message.status)
    db.session.delete(message)
    db.session.commit()
    flash(gettext("Mejlet är borttaget utan att ha skickats."))
    return redirect(url_for("staff.outbox"), 303)
