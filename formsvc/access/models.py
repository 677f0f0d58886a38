"""Roles and the forms a Läsare is given."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow

ADMIN, HANDLAGGARE, LASARE = "admin", "handlaggare", "lasare"
ROLES = (ADMIN, HANDLAGGARE, LASARE)
# What staff see; translated in the templates.
ROLE_LABELS = {ADMIN: "Administratör", HANDLAGGARE: "Handläggare", LASARE: "Läsare"}


class FormGrant(db.Model):
    """A form given to a staff account: a Läsare reads the results and exports of these forms only."""

    __tablename__ = "staff_form_grants"

    staff_user_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    )
    form_slug: Mapped[str] = mapped_column(sa.String(100), primary_key=True)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    given_by: Mapped[str] = mapped_column(sa.String(254))


def given_forms(staff_user_id: int) -> set[str]:
    return set(db.session.scalars(sa.select(FormGrant.form_slug).filter_by(staff_user_id=staff_user_id)))


def is_given(staff_user_id: int, slug: str) -> bool:
    found = db.session.get(FormGrant, (staff_user_id, slug))
    return found is not None
