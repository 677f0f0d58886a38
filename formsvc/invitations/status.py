"""Where each organisation stands on a form: invited, sent, reminded, answered. Counted in SQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from ..extensions import db
from ..models import Organisation, Response, UTCDateTime
from .models import Invitation, InvitedResponse

# In the order a round moves through them; "missing" means invited (live) and no current answer.
STATUSES = {
    "not_invited": "Inte inbjuden",
    "created": "Inbjudan skapad",
    "sent": "Inbjudan skickad",
    "reminded": "Påmind",
    "answered": "Har svarat",
    "revoked": "Inbjudan återkallad",
}
MISSING = {"created", "sent", "reminded"}


@dataclass(frozen=True)
class Standing:
    organisation: Organisation
    invitation: Invitation | None
    answered_at: datetime | None  # the current answer's time
    answer_count: int  # every answer the organisation gave to this form, replaced ones too
    open_link: bool  # the current answer came through the open link, not an invitation

    @property
    def status(self) -> str:
        invitation = self.invitation
        if self.answered_at is not None:
            return "answered"
        if invitation is None:
            return "not_invited"
        if invitation.revoked_at is not None:
            return "revoked"
        if invitation.reminder_count:
            return "reminded"
        return "sent" if invitation.sent_at else "created"

    @property
    def missing(self) -> bool:
        return self.status in MISSING

    @property
    def live_invitation(self) -> Invitation | None:
        invitation = self.invitation
        return invitation if invitation is not None and invitation.revoked_at is None else None


def _answers(slug: str):
    """Per organisation: time of the current answer, number of answers, current answer from the open link."""
    current = Response.is_current.is_(True)
    via_open_link = sa.and_(current, InvitedResponse.response_id.is_(None))
    return (
        sa.select(
            Response.organisation_id.label("organisation_id"),
            sa.type_coerce(sa.func.max(sa.case((current, Response.submitted_at))), UTCDateTime).label("answered_at"),
            sa.func.count(Response.id).label("answer_count"),
            sa.func.max(sa.case((via_open_link, 1), else_=0)).label("open_link"),
        )
        .outerjoin(InvitedResponse, InvitedResponse.response_id == Response.id)
        .where(Response.form_slug == slug, Response.organisation_id.is_not(None))
        .group_by(Response.organisation_id)
        .subquery()
    )


def standings(slug: str, types: list[str] | tuple[str, ...] = ()) -> list[Standing]:
    """Every organisation in the register, with its invitation to `slug` and its answers, by name."""
    answers = _answers(slug)
    query = (
        sa.select(Organisation, Invitation, answers.c.answered_at, answers.c.answer_count, answers.c.open_link)
        .outerjoin(Invitation, sa.and_(Invitation.organisation_id == Organisation.id, Invitation.form_slug == slug))
        .outerjoin(answers, answers.c.organisation_id == Organisation.id)
        .order_by(Organisation.name)
    )
    if types:
        query = query.where(Organisation.type.in_(types))
    return [
        Standing(organisation, invitation, answered_at, answer_count or 0, bool(open_link) and answered_at is not None)
        for organisation, invitation, answered_at, answer_count, open_link in db.session.execute(query)
    ]


def missing_counts() -> dict[str, int]:
    """Form slug -> invited organisations (not revoked) without a current answer, for the dashboard."""
    answered = sa.exists().where(
        Response.form_slug == Invitation.form_slug,
        Response.organisation_id == Invitation.organisation_id,
        Response.is_current.is_(True),
    )
    query = (
        sa.select(Invitation.form_slug, sa.func.count(Invitation.id))
        .where(Invitation.revoked_at.is_(None), ~answered)
        .group_by(Invitation.form_slug)
    )
    return dict(db.session.execute(query).all())


def invited_counts() -> dict[str, int]:
    """Form slug -> live invitations."""
    query = (
        sa.select(Invitation.form_slug, sa.func.count(Invitation.id))
        .where(Invitation.revoked_at.is_(None))
        .group_by(Invitation.form_slug)
    )
    return dict(db.session.execute(query).all())
