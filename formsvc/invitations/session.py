"""The public side of an invitation: the link becomes a session entry, and the form then knows its organisation.

The session keeps the token's row id per form slug (the cookie is signed); every use checks again that the
invitation is live, so revoking it ends sessions made with its links too.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import session
from werkzeug.datastructures import MultiDict

from ..definitions import FormDefinition, prefill
from ..extensions import db
from ..models import Response
from .models import Invitation, InvitationToken, InvitedResponse
from .tokens import live_token

SESSION_KEY = "invitations"


def remember(row: InvitationToken) -> None:
    """This browser now answers the token's form for its organisation."""
    entries = dict(session.get(SESSION_KEY) or {})
    entries[row.invitation.form_slug] = row.id
    session[SESSION_KEY] = entries


def session_invitation(slug: str) -> Invitation | None:
    """The live invitation this browser entered for the form `slug`, if any."""
    token_id = (session.get(SESSION_KEY) or {}).get(slug)
    if not isinstance(token_id, int):
        return None
    row = live_token(token_id)
    if row is None or row.invitation.form_slug != slug:
        entries = dict(session[SESSION_KEY])
        entries.pop(slug, None)
        session[SESSION_KEY] = entries
        return None
    return row.invitation


def current_answer(invitation: Invitation) -> Response | None:
    """The organisation's current answer to the invitation's form (the newest, should there be several)."""
    return db.session.scalar(
        sa.select(Response)
        .filter_by(form_slug=invitation.form_slug, organisation_id=invitation.organisation_id, is_current=True)
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(1)
    )


def fix_organisation(definition: FormDefinition, invitation: Invitation, formdata: MultiDict) -> None:
    """The organisation field holds the invitation's organisation, whatever was sent."""
    if definition.organisation_field:
        formdata[definition.organisation_field.key] = invitation.organisation.name


def answer_formdata(definition: FormDefinition, response: Response) -> MultiDict:
    """A stored answer as form data, to change it: checked like a prefill link, so consent is asked again."""

    def values(key: str) -> list[str]:
        value = response.answers.get(key)
        items = value if isinstance(value, list) else [value]
        return [str(v) for v in items if v is not None and not isinstance(v, bool)]

    filled = prefill(definition, values)
    return MultiDict([(key, value) for key, items in filled.values.items() for value in items])


def record_answer(invitation: Invitation) -> Callable[[Response, sa.Connection], None]:
    """For store_answer: mark the new answer as given through this invitation, in the same transaction."""

    def record(response: Response, connection: sa.Connection) -> None:
        row = {"response_id": response.id, "invitation_id": invitation.id}
        connection.execute(sa.insert(InvitedResponse.__table__), row)

    return record
