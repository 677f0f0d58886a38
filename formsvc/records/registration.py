"""Registering answers to record forms: the answer is only marked; the senders queue the copy, the mail
sender makes the PDF.

A sender's dispatch step (formsvc/dispatch.py) renders a short mail (no PDF) for each marked answer and
writes it, with a registrar_copies row naming the answer (one per answer), in its own transaction, once.
The mail sender makes the PDF when it sends the mail (`make_attachment`).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import current_app

from ..definitions import FormDefinition
from ..extensions import db
from ..mail import Attachment, OutboxMessage, compose
from ..models import Response, utcnow
from .document import PDF, answer_title, current_definition, record_page, render_pdf, swedish_time
from .models import RegistrarCopy

TEMPLATE = "diariekopia"  # templates/mail/diariekopia.txt; the outbox rows of registrar copies carry it
INSERT_MAIL = sa.insert(OutboxMessage.__table__).returning(OutboxMessage.__table__.c.id)
INSERT_COPY = sa.insert(RegistrarCopy.__table__)


def registered(definition: FormDefinition, _connection: sa.Connection | None = None) -> bool:
    """Every answer to a record form, waiting for review or not, is an incoming document; nothing is
    registered when FORMSVC_REGISTRAR_EMAIL is not set."""
    return definition.record and bool(current_app.config.get("FORMSVC_REGISTRAR_EMAIL"))


def register_answer(definition: FormDefinition, response: Response) -> Callable[[sa.Connection], None] | None:
    """The hook the senders run for a marked answer: its registrar copy's mail, rendered now, and what
    writes it with the registrar_copies row."""
    if not registered(definition):
        return None
    registrar = current_app.config["FORMSVC_REGISTRAR_EMAIL"]
    # The registrar gets every copy: the hourly cap on mails to one address is for addresses people type.
    row = compose(registrar, TEMPLATE, definition=definition, response=response,
                  received=swedish_time(response.submitted_at)) | {"cap_exempt": True}  # fmt: skip

    def write(connection: sa.Connection) -> None:
        outbox_id = connection.execute(INSERT_MAIL, row).scalar_one()
        connection.execute(INSERT_COPY, {"response_id": response.id, "outbox_id": outbox_id, "created_at": utcnow()})

    return write


def make_attachment(outbox_id: int) -> Callable[[], list[Attachment]]:
    """For the mail sender: read the answer of outbox mail `outbox_id`; the function returned makes its PDF."""
    response = db.session.scalar(
        sa.select(Response).join(RegistrarCopy, RegistrarCopy.response_id == Response.id)
        .where(RegistrarCopy.outbox_id == outbox_id)
    )  # fmt: skip
    if response is None:
        raise LookupError("the answer was deleted before its registrar copy was made")
    page = record_page(response, current_definition(response))
    return lambda: [(f"diariekopia-{page.reference}.pdf", PDF, render_pdf(answer_title(page), [page]))]
