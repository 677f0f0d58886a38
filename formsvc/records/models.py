"""The registrar copies: which outbox mail carries the copy of which answer."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..mail import OutboxMessage
from ..models import UTCDateTime, utcnow


class RegistrarCopy(db.Model):
    """An answer to a record form, registered by a sender right after it came in (one row per answer); its
    copy is mailed by outbox mail `outbox_id`.

    The PDF itself is not stored: the mail sender makes it from the answer when it sends the mail. A sent
    mail deleted after FORMSVC_OUTBOX_RETENTION_DAYS leaves this row (outbox_id NULL): the answer was
    registered. A deleted answer takes its row with it, and its unsent copy then fails with that reason.
    """

    __tablename__ = "registrar_copies"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        sa.ForeignKey("responses.id", ondelete="CASCADE"), index=True, unique=True
    )
    outbox_id: Mapped[int | None] = mapped_column(sa.ForeignKey("outbox.id", ondelete="SET NULL"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    mail: Mapped[OutboxMessage | None] = relationship()


def registrar_copy(response_id: int) -> RegistrarCopy | None:
    """The answer's copy and its mail (for the answer's staff page); None when none was queued."""
    return db.session.scalar(sa.select(RegistrarCopy).filter_by(response_id=response_id).limit(1))
