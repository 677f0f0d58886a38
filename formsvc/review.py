"""Which answer speaks for an organisation in a form answered once per organisation.

Only an answer through the organisation's own personal link becomes its current answer by itself. One through
the open link (anyone can name any organisation there) waits, flagged, until staff accept it (it then becomes
current and its mails to the people it names go out) or reject it (it never becomes current). Deleting the
current answer makes the newest remaining accepted one current again. All in the caller's transaction.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext, lazy_gettext

from .answers import INVITATION, OPEN, PENDING, answer_mails, replace_current
from .extensions import db
from .mail import INSERT_OUTBOX
from .models import Organisation, Response, utcnow
from .versions import stored_definition

ACCEPTED, REJECTED = "accepted", "rejected"
# The Swedish words of the exports' "Källa" column (exports are in Swedish; pages translate them).
SOURCE_WORDS = {INVITATION: "personlig länk", OPEN: "öppen länk"}
ACCEPTED_BY = "godkänd av %(email)s"
PENDING_WORDS = "via öppen länk, ej bekräftad"
REJECTED_BY = "avvisad av %(email)s"
SOURCE_LABELS = {INVITATION: lazy_gettext("personlig länk"), OPEN: lazy_gettext("öppen länk")}


def source_text(source: str, review: str | None, reviewed_by: str | None) -> str:
    """Where an answer came from, as the export's "Källa" column says it (Swedish)."""
    if review == ACCEPTED:
        return ACCEPTED_BY % {"email": reviewed_by or "?"}
    if review == PENDING:
        return PENDING_WORDS
    if review == REJECTED:
        return REJECTED_BY % {"email": reviewed_by or "?"}
    return SOURCE_WORDS.get(source, source)


def source_label(response: Response) -> str:
    """The same for a staff page, in the page's language."""
    email = response.reviewed_by or "?"
    if response.review == ACCEPTED:
        return gettext("godkänd av %(email)s", email=email)
    if response.review == PENDING:
        return gettext("via öppen länk, ej bekräftad")
    if response.review == REJECTED:
        return gettext("avvisad av %(email)s", email=email)
    return str(SOURCE_LABELS.get(response.source, response.source))



def pending_answers(slug: str) -> list[Response]:
    """Open-link answers to the form that wait for staff, oldest first."""
    query = (
        sa.select(Response)
        .where(Response.form_slug == slug, Response.review == PENDING)
        .order_by(Response.submitted_at, Response.id)
    )
    return list(db.session.scalars(query))


def pending_count(slug: str) -> int:
    query = sa.select(sa.func.count(Response.id)).where(Response.form_slug == slug, Response.review == PENDING)
    return db.session.scalar(query) or 0


def _decide(response: Response, decision: str, by: str) -> bool:
    """Mark a pending answer accepted or rejected; False when it was not pending (any more)."""
    # A conditional UPDATE: of two staff members clicking at once, one decides; the mails go out once.
    decided = db.session.execute(
        sa.update(Response)
        .where(Response.id == response.id, Response.review == PENDING)
        .values(review=decision, reviewed_by=by, reviewed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return decided.rowcount == 1


def accept(response: Response, by: str) -> bool:
    """The pending answer becomes the organisation's current one, and its mails to the people it names go
    in the outbox. Returns False (and changes nothing) when it was not pending."""
    if response.organisation_id is None:
        return False
    connection = db.session.connection()
    # The organisation's row first, as store_answer takes it: an answer through its link meanwhile waits.
    connection.execute(sa.select(Organisation.id).where(Organisation.id == response.organisation_id).with_for_update())
    if not _decide(response, ACCEPTED, by):
        return False
    replace_current(response.form_slug, response.organisation_id, connection, replaced_by=response.reference)
    connection.execute(sa.update(Response.__table__).where(Response.id == response.id).values(is_current=True))
    mails = answer_mails(stored_definition(response.form_version), response, to_secretariat=False)
    if mails:
        connection.execute(INSERT_OUTBOX, mails)
    db.session.expire(response)
    return True


def reject(response: Response, by: str) -> bool:
    """The pending answer stays in the history, marked rejected, never current; no mail goes out."""
    decided = _decide(response, REJECTED, by)
    db.session.expire(response)
    return decided


def restore_after_delete(slug: str, organisation_id: int | None) -> Response | None:
    """After the organisation's current answer was deleted: its newest remaining accepted answer (one
    through its personal link, accepted by staff, or from before review existed) becomes current again."""
    if organisation_id is None:
        return None
    connection = db.session.connection()
    replace_current(slug, organisation_id, connection)  # locks the organisation; none should be current
    newest = db.session.scalar(
        sa.select(Response)
        .where(
            Response.form_slug == slug,
            Response.organisation_id == organisation_id,
            sa.or_(Response.review.is_(None), Response.review == ACCEPTED),
        )
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(1)
    )
    if newest is not None:
        newest.is_current = True
    return newest
