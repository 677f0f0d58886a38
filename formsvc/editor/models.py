"""The form definitions staff edit: one row per form, its published text and its draft."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow


class StoredForm(db.Model):
    """A form's definition as staff keep it. The YAML text is what the loader checks, so a form moves to
    and from a file unchanged; the state (utkast, öppen, stängd, arkiverad) follows from `published`
    (None: never published, a draft only), `archived`, and the published definition's opens/closes."""

    __tablename__ = "form_definitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    published: Mapped[str | None] = mapped_column(sa.Text)
    draft: Mapped[str | None] = mapped_column(sa.Text)
    archived: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(sa.String(254))
    # The catalog generation of the last change that workers must see (a publish, an archiving): every
    # worker compares max(updated_seq) with the one it loaded, at most once a second.
    updated_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0, index=True)
