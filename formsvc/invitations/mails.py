"""Creating invitations and sending invitation and reminder mails through the outbox.

Shared by the staff pages and the `invite` / `remind` commands, so both choose recipients the same way.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..audit import audit
from ..definitions import FormDefinition
from ..extensions import db
from ..links import public_url
from ..mail import enqueue, render_mail
from ..models import Organisation, utcnow
from .models import Invitation
from .status import standings
from .tokens import new_token

INVITE, REMIND = "inbjudan", "paminnelse"  # also the names of the mail templates
KINDS = (INVITE, REMIND)
ALL, UNANSWERED = "all", "unanswered"


def create_invitations(slug: str, organisations: Iterable[Organisation], by: str) -> list[Invitation]:
    """Invite organisations not yet invited (or invite again those whose invitation was revoked)."""
    existing = {
        i.organisation_id: i for i in db.session.scalars(sa.select(Invitation).filter_by(form_slug=slug))
    }
    made = []
    for organisation in organisations:
        invitation = existing.get(organisation.id)
        if invitation is None:
            invitation = Invitation(
                form_slug=slug, organisation=organisation, created_by=by, send_count=0, reminder_count=0
            )
            db.session.add(invitation)
        elif invitation.revoked_at is not None:
            invitation.revoked_at, invitation.created_at, invitation.created_by = None, utcnow(), by
        else:
            continue
        made.append(invitation)
    db.session.flush()
    return made


def revoke(invitation: Invitation) -> None:
    """Its links stop working at once; tokens are deleted so inviting again never revives an old link."""
    invitation.revoked_at = utcnow()
    invitation.tokens.clear()


def recipients(slug: str, kind: str, scope: str = UNANSWERED, types=()) -> list[Invitation]:
    """Live invitations to mail: reminders only to those without a current answer; invitations to all or those."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    only_missing = kind == REMIND or scope == UNANSWERED
    return [
        s.live_invitation
        for s in standings(slug, types)
        if s.live_invitation is not None and (s.missing or not only_missing)
    ]


def _context(definition: FormDefinition, invitation: Invitation, token: str) -> dict:
    return {
        "definition": definition,
        "organisation": invitation.organisation,
        "invitation": invitation,
        "link": public_url("invitations.enter", token=token),
    }


def preview(definition: FormDefinition, kind: str, invitation: Invitation) -> tuple[str, str]:
    """Subject and text of the mail this invitation would get, with a link of the real shape.

    The link's token is made for the preview and not stored, so it does not open anything.
    """
    context = _context(definition, invitation, secrets.token_urlsafe(32))
    subject, text = render_mail(kind, recipient=invitation.organisation.contact_email, **context)
    return subject, text


@dataclass
class Outcome:
    sent: list[Invitation] = field(default_factory=list)
    skipped: list[Invitation] = field(default_factory=list)  # no e-mail address in the register


def send(definition: FormDefinition, kind: str, invitations: Iterable[Invitation], actor: str | None = None) -> Outcome:
    """Put one mail per invitation in the outbox, each with a new personal link, and audit the count; the
    caller commits."""
    outcome = Outcome()
    now = utcnow()
    for invitation in invitations:
        address = invitation.organisation.contact_email
        if not address:
            outcome.skipped.append(invitation)
            continue
        token = new_token(invitation, kind)
        enqueue(address, kind, **_context(definition, invitation, token))
        if kind == INVITE:
            invitation.sent_at = invitation.sent_at or now
            invitation.last_sent_at = now
            invitation.send_count += 1
        else:
            invitation.reminded_at = now
            invitation.reminder_count += 1
        outcome.sent.append(invitation)
    if outcome.sent:
        audit(f"{kind}_sent", target=definition.slug, actor=actor, count=len(outcome.sent))
    return outcome
