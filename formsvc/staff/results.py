"""Results per form: counts, shares and rankings from the database, filtered by date and organisation type."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, render_template, request
from flask_babel import lazy_gettext
from wtforms import DateField, Form, SelectField, ValidationError
from wtforms.fields import SelectChoice
from wtforms.validators import Optional

from ..aggregate import Filters, form_results, organisations_without_answer, response_conditions, text_answers
from ..catalog import catalog
from ..definitions import FormDefinition, field_type
from ..extensions import db
from ..live.combined import combined_results
from ..models import Organisation, Response
from ..organisations import TYPES
from ..versions import all_questions
from .blueprint import bp

TEXTS_PER_PAGE = 50


def has_organisations(definition: FormDefinition) -> bool:
    return definition.organisation_field is not None


class DayField(DateField):
    """A day as a date input sends it (ÅÅÅÅ-MM-DD), with a Swedish message when it is not one."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(lazy_gettext("Skriv datumet som ÅÅÅÅ-MM-DD, till exempel 2026-03-31.")) from None


class FilterForm(Form):
    """The results filter, sent by GET (nothing changes, so no CSRF token)."""

    fran = DayField(lazy_gettext("Från och med"), [Optional()], format="%Y-%m-%d")
    till = DayField(lazy_gettext("Till och med"), [Optional()], format="%Y-%m-%d")
    typ = SelectField(
        lazy_gettext("Typ av organisation"),
        choices=[SelectChoice("", lazy_gettext("Alla typer"))] + [SelectChoice(k, v) for k, v in TYPES.items()],
        validate_choice=False,
    )

    def validate_till(self, field):
        if field.data and self.fran.data and field.data < self.fran.data:
            raise ValidationError(lazy_gettext("Slutdatumet kan inte vara före startdatumet."))

    def validate_typ(self, field):
        if field.data and field.data not in TYPES:
            raise ValidationError(lazy_gettext("Välj en av typerna i listan."))


def _filter_form(definition: FormDefinition) -> tuple[FilterForm, Filters | None]:
    """The filter form and the filters it gives; None when what was typed is wrong."""
    form = FilterForm(request.args)
    if not form.validate():
        return form, None
    # Only a form with an organisation question has a type to filter by (the template shows it then only).
    kind = form.typ.data if has_organisations(definition) else None
    return form, Filters(form.fran.data, form.till.data, kind or None)


@bp.get("/forms/<slug>/results")
def results(slug: str):
    """The form's results: a table (with bars) per question, over the current answers that pass the filter."""
    definition = catalog().get_or_404(slug)
    form, filters = _filter_form(definition)
    if filters is None:
        return render_template("staff/results.html", definition=definition, form=form, results=None), 422
    return render_template(
        "staff/results.html",
        definition=definition,
        form=form,
        results=form_results(definition, filters),
        combined=combined_results(definition),
    )


@bp.get("/forms/<slug>/results/<key>")
def text_results(slug: str, key: str):
    """Every answer to one free-text question, newest first, a page at a time."""
    definition = catalog().get_or_404(slug)
    spec = next((s for s in all_questions(definition) if s.key == key and field_type(s.type).summary == "text"), None)
    if spec is None:
        abort(404)
    form, filters = _filter_form(definition)
    if filters is None:
        return render_template("staff/texts.html", definition=definition, spec=spec, form=form, answers=None), 422
    page = request.args.get("page", 1, type=int)
    page = max(page, 1)
    # One more than a page tells whether there is a next page, without counting them all.
    answers = text_answers(
        spec, response_conditions(definition, filters), TEXTS_PER_PAGE + 1, (page - 1) * TEXTS_PER_PAGE
    )
    return render_template(
        "staff/texts.html",
        definition=definition,
        spec=spec,
        form=form,
        answers=answers[:TEXTS_PER_PAGE],
        page=page,
        has_next=len(answers) > TEXTS_PER_PAGE,
    )


@bp.get("/forms/<slug>/organisations")
def answered_organisations(slug: str):
    """The organisations that have answered (their current answer), and those in the register that have not."""
    definition = catalog().get_or_404(slug)
    if not has_organisations(definition):
        abort(404)
    answered = db.session.execute(
        sa.select(Response.reference, Response.submitted_at, Response.organisation_name, Organisation.type)
        .outerjoin(Organisation, Organisation.id == Response.organisation_id)
        .where(Response.form_slug == slug, Response.is_current, Response.organisation_name.is_not(None))
        .order_by(sa.func.lower(Response.organisation_name), Response.submitted_at)
    ).all()
    return render_template(
        "staff/answered_organisations.html",
        definition=definition,
        answered=answered,
        missing=organisations_without_answer(slug),
        types=TYPES,
    )
