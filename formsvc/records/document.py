"""The registrar copy of an answer as a PDF/UA document: first what it says is read from the database
(`record_pages`), then the PDF is built from that with no transaction open (`render_pdf`).

The copy is a Swedish document (it goes into the authority's register), whatever language the staff page
that downloads it is in, as the exports are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale, format_datetime

from ..answers import INVITATION, PENDING
from ..catalog import catalog
from ..definitions import FormDefinition, display_value
from ..extensions import db
from ..models import Response
from ..review import ACCEPTED, REJECTED
from ..versions import stored_definition

PDF = "application/pdf"
# How an answer came in, and what staff decided about it (review.py), as the copy says it.
SOURCES = {INVITATION: "Organisationens personliga länk", "open": "Formulärets öppna länk"}
REVIEWS = {
    PENDING: "Väntar på granskning. Svaret gäller inte förrän en handläggare har godkänt det.",
    ACCEPTED: "Godkänt av {by}{at}",
    REJECTED: "Avvisat av {by}{at}. Svaret gäller inte.",
}
UNANSWERED = "–"


@dataclass(frozen=True)
class RecordPage:
    """What one answer's copy says: plain values, read while a transaction was open."""

    form_title: str
    series: str
    reference: str
    received: str
    version: str
    organisation: str
    source: str
    review: str | None
    replaces: str | None  # "ABCD-EFGH (inkommet den ...)": the answer this one took the place of
    anonymised: str | None  # when the personal data in it were removed (retention)
    lines: tuple[tuple[str, str], ...]  # (question, answer as on the receipt)


def swedish_time(moment: datetime) -> str:
    """"den 1 december 2026 kl. 19.28", Swedish time."""
    with force_locale("sv"):
        return "den " + format_datetime(moment, "d MMMM y 'kl.' HH.mm")


def _became_current(response: Response) -> tuple[datetime, int]:
    # An accepted open-link answer took its place when staff accepted it; any other when it came in.
    moment = response.reviewed_at if response.review == ACCEPTED and response.reviewed_at else response.submitted_at
    return moment, response.id


def _counts(response: Response) -> bool:
    """Whether the answer ever spoke for its organisation (not waiting, not rejected)."""
    return response.review not in (PENDING, REJECTED)


def replaced_answer(response: Response, history: Iterable[Response]) -> Response | None:
    """The answer of the same organisation that this one replaced: the one that spoke for it last before.

    Only in a form answered once per organisation; an answer waiting for review, or rejected, replaces none.
    `history` is the organisation's answers to the form (this one may be among them)."""
    if response.organisation_id is None or not _counts(response):
        return None
    this = _became_current(response)
    earlier = [
        other
        for other in history
        if other.id != response.id and other.organisation_id == response.organisation_id and _counts(other)
        and _became_current(other) < this
    ]  # fmt: skip
    return max(earlier, key=_became_current, default=None)


def _organisation_history(response: Response) -> list[Response]:
    if response.organisation_id is None:
        return []
    query = sa.select(Response).where(
        Response.form_slug == response.form_slug, Response.organisation_id == response.organisation_id
    )
    return list(db.session.scalars(query))


def record_page(
    response: Response,
    definition: FormDefinition,
    history: Iterable[Response] | None = None,
    given_under: FormDefinition | None = None,
) -> RecordPage:
    """The copy of one answer, with the questions of the definition version it was given under.

    `definition` is the form's current one (its record series if the old version had none); `history`
    the organisation's answers to the form, read here when not given."""
    given_under = given_under or stored_definition(response.form_version)
    replaced = None
    if given_under.one_answer_per_organisation or definition.one_answer_per_organisation:
        history = _organisation_history(response) if history is None else history
        replaced = replaced_answer(response, history)
    review = None
    if response.review in REVIEWS:
        at = f" {swedish_time(response.reviewed_at)}" if response.reviewed_at else ""
        review = REVIEWS[response.review].format(by=response.reviewed_by or "okänd", at=at)
    return RecordPage(
        form_title=given_under.title,
        series=given_under.record_series or definition.record_series,
        reference=response.reference,
        received=swedish_time(response.submitted_at),
        version=given_under.version,
        organisation=response.organisation_name or UNANSWERED,
        source=SOURCES.get(response.source, response.source),
        review=review,
        replaces=f"{replaced.reference} (inkommet {swedish_time(replaced.submitted_at)})" if replaced else None,
        anonymised=swedish_time(response.anonymised_at) if response.anonymised_at else None,
        lines=tuple(
            (spec.label, display_value(spec, response.answers.get(spec.key)) or UNANSWERED)
            for spec in given_under.fields
        ),
    )


def current_definition(response: Response) -> FormDefinition:
    """The form's definition now; the one the answer was given under if the form is gone from the catalog."""
    return catalog().get(response.form_slug) or stored_definition(response.form_version)


def form_pages(definition: FormDefinition) -> list[RecordPage]:
    """Every answer to the form, current or not, oldest first: one page each."""
    answers = list(
        db.session.scalars(
            sa.select(Response)
            .where(Response.form_slug == definition.slug)
            .order_by(Response.submitted_at, Response.id)
        )
    )
    by_organisation: dict[int, list[Response]] = {}
    for answer in answers:
        by_organisation.setdefault(answer.organisation_id, []).append(answer)
    versions: dict[int, FormDefinition] = {}
    pages = []
    for answer in answers:
        if answer.form_version_id not in versions:
            versions[answer.form_version_id] = stored_definition(answer.form_version)
        given_under = versions[answer.form_version_id]
        history = by_organisation.get(answer.organisation_id, [])
        pages.append(record_page(answer, definition, history=history, given_under=given_under))
    return pages


def answer_title(page: RecordPage) -> str:
    return f"Diariekopia av svar {page.reference}: {page.form_title}"


def form_title(definition: FormDefinition) -> str:
    return f"Alla svar: {definition.title}"


def render_pdf(title: str, pages: list[RecordPage]) -> bytes:
    """A tagged PDF/UA-1 document, one answer a page. Slow (a fraction of a second a page): never call it
    with a transaction open, nor while a person waits for their answer to be stored."""
    from weasyprint import HTML  # loads Pango (a system library): only where PDFs are made

    template = current_app.jinja_env.get_template("records/answers.html")
    html = template.render(title=title, pages=pages, single=len(pages) == 1)
    return HTML(string=html).write_pdf(pdf_variant="pdf/ua-1")
