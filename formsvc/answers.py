"""Storing an answer: the response, its countable values and its mails, in one transaction."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app, g
from sqlalchemy.exc import IntegrityError

from . import dispatch
from .database import insert_unless_present, write_transaction
from .definitions import FormDefinition, display_value, field_type
from .extensions import db
from .mail import INSERT_OUTBOX, compose
from .models import AnswerValue, FormVersion, Organisation, Response, utcnow

# Where an answer came from (Response.source).
INVITATION, OPEN = "invitation", "open"
PENDING = "pending"  # Response.review of an open-link answer that waits for staff (review.py)

# No 0/O or 1/I/L: a reference read out on the phone should not be misheard.
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


# Called before the answer's transaction, to make ready what takes time (rendering a mail); returns None
# or a function that writes the feature's rows on the transaction's connection, after the answer's own
# (so response.id is set by the time it runs).
AnswerHook = Callable[[FormDefinition, Response], Callable[[sa.Connection], None] | None]

# The statements an answer runs, built once (building one costs more than SQLite takes to run it).
INSERT_RESPONSE = sa.insert(Response.__table__).returning(Response.__table__.c.id)
INSERT_VALUES = sa.insert(AnswerValue.__table__)
RESPONSE_COLUMNS = [column.key for column in Response.__table__.columns if column.key != "id"]


def on_answer_stored(app, hook: AnswerHook) -> None:
    """Call `hook(definition, response)` for every new answer, and what it returns inside its transaction.

    Features that act on answers (e.g. the newsletter sign-up) register here, so their rows and mails
    are stored with the answer or not at all. What may follow a moment later (a registrar copy, webhook
    deliveries) registers with dispatch.after_answer_stored instead: the answer then costs only a mark.
    """
    app.extensions.setdefault("formsvc_answer_hooks", []).append(hook)


def on_answer_replaced(app, hook: Callable[[sa.Connection, str, list[str], str | None], None]) -> None:
    """Call `hook(connection, slug, replaced_references, replaced_by)` in the transaction in which an
    organisation's current answer becomes history because another (`replaced_by`) took its place."""
    app.extensions.setdefault("formsvc_replace_hooks", []).append(hook)


def new_reference() -> str:
    code = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{code[:4]}-{code[4:]}"


def new_submission_key() -> str:
    return secrets.token_urlsafe(24)


@dataclass(frozen=True)
class ReceiptLine:
    label: str
    value: str
    # "sv" when a page in another language shows this Swedish text (the definition has no translation).
    label_lang: str = ""
    value_lang: str = ""


def receipt_lines(definition: FormDefinition, answers: dict[str, Any], language: str = "sv") -> list[ReceiptLine]:
    """What was sent, as a person reads it, in `language` where the definition has it (Swedish otherwise,
    and said so); unanswered questions are left out."""
    lines = []
    for spec in definition.fields:
        value = answers.get(spec.key)
        shown = display_value(spec, value, language)
        if shown:
            swedish_label = language != "sv" and not spec.translation("label", language)
            picked = value if isinstance(value, list) else [value]
            swedish_value = language != "sv" and bool(spec.choices) and not spec.choices_translated(picked, language)
            marks = ("sv" if swedish_label else "", "sv" if swedish_value else "")
            lines.append(ReceiptLine(spec.text("label", language), shown, *marks))
    return lines


def _known_versions() -> dict[tuple[str, str], int]:
    """(slug, version) -> form_versions.id, of rows committed: they are never changed or deleted."""
    return current_app.extensions.setdefault("formsvc_form_versions", {})


def form_version_id(definition: FormDefinition, connection: sa.Connection) -> int:
    """The id of this definition version's row, adding it the first time it is answered."""
    known = _known_versions().get((definition.slug, definition.version))
    if known is not None:
        return known
    versions = FormVersion.__table__
    row = {"form_slug": definition.slug, "version": definition.version, "definition": definition.as_json()}
    added = connection.execute(insert_unless_present(versions, connection.dialect.name, "id"), row).scalar()
    if added is not None:
        return added
    query = sa.select(versions.c.id).filter_by(form_slug=definition.slug, version=definition.version)
    return connection.execute(query).scalar_one()  # added by another request before


def store_answer(
    definition: FormDefinition,
    answers: dict[str, Any],
    submission_key: str,
    organisation: Organisation | None = None,
    on_stored: Callable[[Response, sa.Connection], None] | None = None,
    source: str = OPEN,
) -> tuple[Response, bool]:
    """Store an answer and its mails; commit. Returns (response, created).

    A submission key seen before returns the answer stored then: a double click stores one answer.
    In a form answered once per organisation the new answer replaces the organisation's current one,
    which stays as history; unless it did not come through the organisation's personal link
    (`source` OPEN): then it waits for staff (review.py) and replaces nothing, and only the secretariat's
    mails go now; those to addresses in the answer go when staff accept it. `on_stored(response,
    connection)` adds the caller's own rows in the same transaction.

    The mails are rendered, and the hooks make ready, before the transaction; the rows then go in as plain
    INSERTs (database.write_transaction). On SQLite the transaction holds the one write lock that every
    other answer waits for.
    """
    # Anyone can name any organisation on the open link: that answer must not speak for it on its own.
    held = definition.one_answer_per_organisation and organisation is not None and source != INVITATION
    response = Response(
        reference=new_reference(),
        form_slug=definition.slug,
        submission_key=submission_key,
        organisation_id=organisation.id if organisation else None,
        organisation_name=_organisation_name(definition, answers, organisation),
        answers=answers,
        consents={
            s.key: definition.version
            for s in definition.fields
            if field_type(s.type).records_consent and answers.get(s.key)
        },
        submitted_at=utcnow(),
        is_current=not held,
        source=source,
        review=PENDING if held else None,
    )
    mails = answer_mails(definition, response, to_answer=not held)
    values = list(_countable_values(definition, answers))
    hooks = current_app.extensions.get("formsvc_answer_hooks", ())
    writers = [writer for writer in (hook(definition, response) for hook in hooks) if writer]
    try:
        with write_transaction() as connection:
            response.form_version_id = form_version_id(definition, connection)
            if definition.one_answer_per_organisation and organisation is not None and not held:
                replace_current(definition.slug, organisation.id, connection, replaced_by=response.reference)
            # What follows the answer (registrar copy, webhooks) is the senders' work (dispatch.py): a mark here.
            response.integrations_pending = dispatch.wanted(definition, connection)
            row = {key: getattr(response, key) for key in RESPONSE_COLUMNS}
            response.id = connection.execute(INSERT_RESPONSE, row).scalar_one()
            for value in values:
                value["response_id"] = response.id
            if values:
                connection.execute(INSERT_VALUES, values)
            if mails:
                connection.execute(INSERT_OUTBOX, mails)
            for write in writers:
                write(connection)
            if on_stored is not None:
                on_stored(response, connection)
    except IntegrityError:
        existing = _by_submission_key(submission_key)
        if existing:  # sent before (a double click, a resent POST): that answer stands
            return existing, False
        raise
    if not g.get("rehearsal"):  # a rehearsal's version row was rolled back
        _known_versions()[definition.slug, definition.version] = response.form_version_id
    return response, True


def replace_current(slug: str, organisation_id: int, connection: sa.Connection, replaced_by: str | None = None) -> None:
    """Mark the organisation's current answer as history; the one the caller makes current next
    (`replaced_by`, its reference) takes its place."""
    # Lock the organisation's row first: two answers from it at once then take turns, and the second
    # sees (and replaces) the first instead of both staying current. SQLite has one writer anyway.
    connection.execute(sa.select(Organisation.id).where(Organisation.id == organisation_id).with_for_update())
    replaced = connection.execute(
        sa.update(Response.__table__)
        .where(
            Response.form_slug == slug,
            Response.organisation_id == organisation_id,
            Response.is_current.is_(True),
        )
        .values(is_current=False)
        .returning(Response.__table__.c.reference)
    ).scalars().all()
    if replaced and replaced_by:
        for hook in current_app.extensions.get("formsvc_replace_hooks", ()):
            hook(connection, slug, replaced, replaced_by)


def _by_submission_key(key: str) -> Response | None:
    return db.session.scalar(sa.select(Response).filter_by(submission_key=key))


def _organisation_name(definition, answers, organisation) -> str | None:
    if organisation:
        return organisation.name
    return next((answers.get(s.key) for s in definition.fields if field_type(s.type).names_organisation), None)


def _countable_values(definition: FormDefinition, answers: dict[str, Any]):
    """The answer_values rows (without response_id) of the picked options (places for a ranking)."""
    for spec in definition.fields:
        kind = field_type(spec.type)
        if not kind.countable or not answers.get(spec.key):
            continue
        for value, place in kind.counted(answers[spec.key]):
            yield {"form_slug": definition.slug, "field": spec.key, "value": value, "position": place}


def answer_mails(
    definition: FormDefinition, response: Response, to_secretariat: bool = True, to_answer: bool = True
) -> list[dict]:
    """The answer's mails (receipt, notice, ...), rendered into outbox rows: those to the secretariat,
    and those to addresses given in the answer."""
    context = {
        "definition": definition,
        "response": response,
        "answers": response.answers,
        "lines": receipt_lines(definition, response.answers),
    }
    mails = []
    for item in definition.mails:
        if not (to_secretariat if item.to == "secretariat" else to_answer):
            continue
        if item.to == "secretariat":
            recipient = current_app.config.get("FORMSVC_SECRETARIAT_EMAIL")
        else:
            recipient = response.answers.get(item.to)
        if recipient:
            mails.append(compose(recipient, item.template, images=item.images, subject=item.subject,
                                 message=item.message, recipient_field=item.to, **context))
    return mails
