"""Staff downloads of registrar copies: one answer's, or all of a form's (one answer a page). Audited as
exports are; the PDF is made after the audit event is committed, with no transaction open."""

from __future__ import annotations

import io

import sqlalchemy as sa
from flask import abort, flash, redirect, send_file, url_for
from flask_babel import gettext

from ..audit import audit
from ..catalog import catalog
from ..definitions import FormDefinition
from ..extensions import db
from ..models import Response
from ..staff_guard import staff_blueprint
from .document import PDF, answer_title, form_pages, form_title, record_page, render_pdf

bp = staff_blueprint("staff_records", __name__)

# At a fraction of a second a page, more answers than this would outlast a worker's request timeout.
MOST_PAGES = 500


def _record_form_or_404(slug: str) -> FormDefinition:
    definition = catalog().get_or_404(slug)
    if not definition.record:
        abort(404)
    return definition


def _send_pdf(data: bytes, name: str):
    return send_file(io.BytesIO(data), mimetype=PDF, as_attachment=True, download_name=name)


@bp.get("/forms/<slug>/responses/<reference>/diariekopia.pdf")
def record_copy(slug: str, reference: str):
    """One answer's registrar copy, as it stands now (its review, what it replaced)."""
    definition = _record_form_or_404(slug)
    answer = db.session.scalar(sa.select(Response).filter_by(form_slug=slug, reference=reference))
    if answer is None:
        abort(404)
    page = record_page(answer, definition)
    audit("export", target=reference, form=slug, format="pdf")
    db.session.commit()
    return _send_pdf(render_pdf(answer_title(page), [page]), f"diariekopia-{reference}.pdf")


@bp.get("/forms/<slug>/diariekopior.pdf")
def record_copies(slug: str):
    """Every answer to the form, current or not, oldest first, one a page."""
    definition = _record_form_or_404(slug)
    count = db.session.scalar(sa.select(sa.func.count(Response.id)).where(Response.form_slug == slug))
    if count > MOST_PAGES:
        flash(gettext("Formuläret har %(count)d svar. Det är för många för en PDF: ladda ner dem som Excel i "
                      "stället, eller ett svar i taget.", count=count))  # fmt: skip
        return redirect(url_for("staff.responses", slug=slug), 303)
    pages = form_pages(definition)
    audit("export", target=slug, format="pdf", answers=len(pages))
    db.session.commit()
    return _send_pdf(render_pdf(form_title(definition), pages), f"diariekopior-{slug}.pdf")
