"""What follows a stored answer but is no part of it (the registrar's copy, the answer.stored webhook
deliveries): made by the senders afterwards, once per answer, so it never slows or blocks an answer.

The answer only marks itself, with a value in its own INSERT (responses.integrations_pending), when a
feature wants to follow it up. `formsvc mail send` and `formsvc webhooks send` both begin each round with
`dispatch_answers`: it reads a batch of marked answers, makes their rows ready with no transaction open
(rendering a mail takes time, and on SQLite a transaction holds the write lock every answer waits for),
then in one short transaction clears the marks it still finds set and writes the rows of exactly those
answers. The clearing UPDATE is the claim: of two senders at once, the second waits for the first's row
locks (PostgreSQL; SQLite has one writer) and then finds the marks gone, so each answer's rows are written
once. The rows are committed with the cleared mark or not at all: a sender that dies in between leaves the
mark, and the next round does the work. Deleting an answer does its work first (`dispatch_now`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask import Flask, current_app

from .definitions import FormDefinition
from .extensions import db
from .models import FormVersion, Response
from .versions import stored_definition

if TYPE_CHECKING:
    from .answers import AnswerHook

log = logging.getLogger(__name__)

BATCH = 20  # answers per transaction: short, as on SQLite every answer waits for the write lock it holds
HOOKS = "formsvc_later_hooks"

# wanted(definition, connection): whether the feature follows up an answer to this form, asked inside the
# answer's transaction (on its connection, if it must read); cheap, as it is asked for every answer.
Wanted = Callable[[FormDefinition, sa.Connection], bool]
Writer = Callable[[sa.Connection], None]


def after_answer_stored(app: Flask, wanted: Wanted, hook: AnswerHook) -> None:
    """Call `hook(definition, response)` for every new answer `wanted` says yes to, not in the answer's
    transaction but afterwards, in a sender's, once; and what it returns, inside that transaction.

    The hook gets the definition version the answer was given under and the answer as it is then."""
    app.extensions.setdefault(HOOKS, []).append((wanted, hook))


def wanted(definition: FormDefinition, connection: sa.Connection) -> bool:
    """Whether a new answer to the form is marked for the senders (answers.store_answer asks)."""
    return any(wants(definition, connection) for wants, _ in current_app.extensions.get(HOOKS, ()))


def dispatch_answers(limit: int = 100) -> int:
    """The senders' step: follow up the marked answers, a batch per transaction; commits. How many answers.

    At most `limit` at a time: the senders call it before each batch they send, so under a flood of answers
    they go on sending too."""
    done, broken = 0, set()
    while done < limit:
        answers = _marked(db.session.connection(), Response.id.not_in(broken), BATCH)
        db.session.rollback()  # only read: end it before the mails are rendered
        if not answers:
            break
        writers = _prepare(answers, broken)
        done += _write(db.session.connection(), writers)
        db.session.commit()
    return done


def dispatch_now(condition: sa.ColumnElement[bool]) -> int:
    """Follow up now the marked answers that `condition` picks (they are about to be deleted), in the
    caller's transaction; the caller commits."""
    connection = db.session.connection()
    return _write(connection, _prepare(_marked(connection, condition), set()))


def _marked(connection: sa.Connection, condition, limit: int | None = None) -> list[tuple[Response, FormDefinition]]:
    """The marked answers (oldest first), as transient objects that need no session, each with the
    definition version it was given under (form_versions rows never change, so those are kept)."""
    query = sa.select(Response.__table__).where(Response.integrations_pending, condition).order_by(Response.id)
    answers = [Response(**row) for row in connection.execute(query.limit(limit)).mappings()]
    known = current_app.extensions.setdefault("formsvc_stored_definitions", {})
    missing = {response.form_version_id for response in answers} - known.keys()
    if missing:
        versions = sa.select(FormVersion.__table__).where(FormVersion.id.in_(missing))
        known.update((row.id, stored_definition(row)) for row in connection.execute(versions))
    return [(response, known[response.form_version_id]) for response in answers]


def _prepare(answers: list[tuple[Response, FormDefinition]], broken: set[int]) -> dict[int, list[Writer]]:
    """answer id -> what its hooks write. An answer whose hook fails keeps its mark (and is left for
    the next round: `broken`): the others go on."""
    prepared, hooks = {}, current_app.extensions.get(HOOKS, ())
    for response, definition in answers:
        try:
            prepared[response.id] = [write for write in (hook(definition, response) for _, hook in hooks) if write]
        except Exception:
            log.exception("answer %s could not be followed up; tried again in the next round", response.reference)
            broken.add(response.id)
    return prepared


def _write(connection: sa.Connection, prepared: dict[int, list[Writer]]) -> int:
    """Clear the marks still set (the claim) and write those answers' rows."""
    if not prepared:
        return 0
    claimed = connection.execute(
        sa.update(Response.__table__)
        .where(Response.id.in_(prepared), Response.integrations_pending)
        .values(integrations_pending=False)
        .returning(Response.__table__.c.id)
    ).scalars().all()
    for response_id in claimed:
        for write in prepared[response_id]:
            write(connection)
    return len(claimed)
