"""The answers to a form: a list a page at a time, one answer in full, and deleting one (confirmed, audited)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from ..audit import audit
from ..catalog import catalog
from ..definitions import display_value
from ..dispatch import dispatch_now
from ..extensions import db
from ..models import Response, utcnow
from ..review import restore_after_delete, source_label
from ..versions import stored_definition
from ..webhooks import emit
from .blueprint import bp
from .results import has_organisations

PER_PAGE = 50
bp.add_app_template_global(source_label, "answer_source")


@bp.get("/forms/<slug>/responses")
def responses(slug: str):
    """All answers to the form, newest first, current and replaced ones."""
    definition = catalog().get_or_404(slug)
    query = (
        sa.select(Response).where(Response.form_slug == slug).order_by(Response.submitted_at.desc(), Response.id.desc())
    )
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template(
        "staff/responses.html", definition=definition, page=page, with_organisation=has_organisations(definition)
    )


def _response_or_404(slug: str, reference: str) -> Response:
    response = db.session.scalar(sa.select(Response).filter_by(form_slug=slug, reference=reference))
    if response is None:
        abort(404)
    return response


@bp.get("/forms/<slug>/responses/<reference>")
def response(slug: str, reference: str):
    """One answer in full, read with the definition version it was given under."""
    definition = catalog().get_or_404(slug)
    answer = _response_or_404(slug, reference)
    given_under = stored_definition(answer.form_version)
    lines = [(spec, display_value(spec, answer.answers.get(spec.key))) for spec in given_under.fields]
    return render_template(
        "staff/response.html",
        definition=definition,
        answer=answer,
        lines=lines,
        older_version=given_under.version != definition.version,
        # questions the form no longer asks (the editor removed them): shown, marked as removed
        removed={spec.key for spec in given_under.fields} - {spec.key for spec in definition.fields},
    )


@bp.get("/forms/<slug>/responses/<reference>/delete")
def confirm_delete(slug: str, reference: str):
    """Ask before deleting: what will go, and that it cannot be undone."""
    definition = catalog().get_or_404(slug)
    return render_template(
        "staff/delete_response.html", definition=definition, answer=_response_or_404(slug, reference)
    )


@bp.post("/forms/<slug>/responses/<reference>/delete")
def delete_response(slug: str, reference: str):
    """Delete the answer and its counted values; written to the audit log in the same transaction."""
    definition = catalog().get_or_404(slug)
    answer = _response_or_404(slug, reference)
    audit("delete_response", target=reference, form=slug, submitted_at=answer.submitted_at.isoformat())
    was_current, organisation_id = answer.is_current, answer.organisation_id
    dispatch_now(Response.id == answer.id)  # what the senders had yet to do for it (its answer.stored first)
    emit("answer.deleted", {"reference": reference, "form": slug, "deleted_at": utcnow().isoformat()})
    db.session.delete(answer)
    db.session.flush()
    if was_current and definition.one_answer_per_organisation:
        # The organisation's answer before this one speaks for it again (not an unreviewed open-link one).
        restore_after_delete(slug, organisation_id)
    db.session.commit()
    flash(gettext("Svaret %(reference)s är raderat.", reference=reference))
    return redirect(url_for(".responses", slug=slug), 303)
