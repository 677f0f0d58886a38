"""Staff pages for the organisation register: list, add, edit, and import from CSV or XLSX with a preview.

Every row, typed or imported, goes through `organisations.check_rows`, the same checks as `formsvc orgs import`.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import EmailField, HiddenField, SelectField, StringField
from wtforms.fields import SelectChoice

from ..audit import audit
from ..extensions import db
from ..models import Organisation, name_key
from ..organisations import TYPES, FileProblem, add_organisations, all_organisations, check_rows, read_rows
from ..security import larger_body
from .blueprint import bp


class OrganisationForm(FlaskForm):
    name = StringField("Namn")
    # The register's checks judge the type (one message for typed and imported rows alike).
    type = SelectField(
        "Typ",
        choices=[SelectChoice("", "Välj typ")] + [SelectChoice(key, label) for key, label in TYPES.items()],
        validate_choice=False,
    )
    contact_name = StringField("Kontaktperson")
    contact_email = EmailField("Kontaktpersonens e-post")


class UploadForm(FlaskForm):
    file = FileField("Fil (CSV eller XLSX)")


class ConfirmImportForm(FlaskForm):
    rows = HiddenField()
    filename = HiddenField()


@bp.get("/organisations")
def organisations():
    """The register, optionally of one type."""
    kind = request.args.get("type") or ""
    rows = [o for o in all_organisations() if not kind or o.type == kind]
    return render_template("staff/organisations.html", organisations=rows, types=TYPES, kind=kind)


def _checked(form: OrganisationForm, editing: Organisation | None = None) -> dict | None:
    """The form's row after the register's checks, or None with the reason next to the field."""
    row = {field: form[field].data or "" for field in ("name", "type", "contact_name", "contact_email")}
    report = check_rows([row], ignore=editing)
    for rejected in report.rejected:
        form[rejected.field].errors = [rejected.reason[:1].upper() + rejected.reason[1:] + "."]
    return report.accepted[0] if report.accepted else None


@bp.route("/organisations/new", methods=["GET", "POST"])
def add_organisation():
    """Add one organisation to the register."""
    form = OrganisationForm()
    if form.validate_on_submit():
        row = _checked(form)
        if row is not None:
            [organisation] = add_organisations([row])
            audit("organisation_add", target=row["name"])
            db.session.commit()
            flash(gettext("%(name)s är tillagd i registret.", name=organisation.name))
            return redirect(url_for("staff.organisations"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("staff/organisation_form.html", form=form, organisation=None), status


@bp.route("/organisations/<int:organisation_id>/edit", methods=["GET", "POST"])
def edit_organisation(organisation_id: int):
    """Change an organisation's name, type or contact."""
    organisation = db.session.get(Organisation, organisation_id) or abort(404)
    form = OrganisationForm(obj=organisation)
    if form.validate_on_submit():
        row = _checked(form, editing=organisation)
        if row is not None:
            for key, value in row.items():
                setattr(organisation, key, value)
            organisation.name_key = name_key(row["name"])
            audit("organisation_edit", target=organisation.name)
            db.session.commit()
            flash(gettext("Ändringarna för %(name)s är sparade.", name=organisation.name))
            return redirect(url_for("staff.organisations"), 303)
    status = 422 if request.method == "POST" else 200
    return render_template("staff/organisation_form.html", form=form, organisation=organisation), status


@bp.route("/organisations/import", methods=["GET", "POST"])
@larger_body("FORMSVC_UPLOAD_MAX_BYTES")
def import_organisations():
    """Upload a CSV or XLSX file: a preview of what would be imported and which rows are refused, and why."""
    form = UploadForm()
    if not form.validate_on_submit():
        return render_template("staff/organisations_import.html", form=form), 400 if request.method == "POST" else 200
    upload = form.file.data
    if not upload or not upload.filename:
        form.file.errors = [gettext("Välj en fil att läsa in.")]
        return render_template("staff/organisations_import.html", form=form), 422
    try:
        rows = read_rows(upload.filename, upload.read())
    except FileProblem as problem:
        form.file.errors = [str(problem)]
        return render_template("staff/organisations_import.html", form=form), 422
    return _preview(rows, upload.filename)


def _preview(rows: list[dict], filename: str):
    report = check_rows(rows)
    confirm = ConfirmImportForm(formdata=None, rows=json.dumps(rows, ensure_ascii=False), filename=filename)
    page = render_template(
        "staff/organisations_preview.html", report=report, confirm=confirm, filename=filename, types=TYPES
    )
    return page, 422 if report.rejected or not report.accepted else 200


@bp.post("/organisations/import/confirm")
@larger_body("FORMSVC_UPLOAD_MAX_BYTES")  # the preview's rows come back in one field
def confirm_import():
    """Import the previewed rows: all of them, checked again now, or none."""
    form = ConfirmImportForm()
    try:
        rows = json.loads(form.rows.data or "")
        if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
            raise ValueError
    except ValueError:
        message = gettext("Förhandsvisningen kunde inte läsas. Läs in filen igen.")
        return render_template("error.html", code=400, message=message), 400
    report = check_rows(rows)
    if report.rejected or not report.accepted:
        # The register changed since the preview (or the preview was not importable): show it again.
        return _preview(rows, form.filename.data or "")
    add_organisations(report.accepted)
    audit("organisations_import", target=(form.filename.data or "")[:200], count=len(report.accepted))
    db.session.commit()
    flash(gettext("%(n)d organisationer är inlästa i registret.", n=len(report.accepted)))
    return redirect(url_for("staff.organisations"), 303)
