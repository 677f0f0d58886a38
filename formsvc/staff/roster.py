"""The council roster: from the current nominations, each organisation's representative and substitute,
what else they told us ("Övrigt": diet, hearing loop), where the answer came from, and the invited
organisations that have not nominated. A page and an XLSX export.

Which form (FORMSVC_ROSTER_FORM), and which of its fields are the people and "Övrigt" (its `roster:`
setting, docs/forms.md), are not written here."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, render_template, send_file
from openpyxl import Workbook

from ..audit import audit
from ..catalog import catalog
from ..definitions import FormDefinition
from ..export import date_time_cell, filter_rows, list_sheet, safe_cell
from ..extensions import db
from ..invitations.status import invited_counts, standings
from ..models import Organisation, Response
from ..organisations import TYPES
from ..review import pending_count, source_label, source_text
from .blueprint import bp

# Columns wider than their headers (names, addresses, the time), in characters.
WIDTHS = {0: 30, 3: 20, 4: 24, 5: 28, 6: 16, 7: 17, 9: 30, 10: 24}
MISSING_WIDTHS = {0: 30, 2: 20, 3: 28}


@dataclass(frozen=True)
class Person:
    role: str
    name: str
    title: str
    email: str
    phone: str


@dataclass(frozen=True)
class Nomination:
    organisation_name: str
    organisation_type: str
    submitted_at: datetime
    reference: str
    people: tuple[Person, ...]
    other: str  # "Övrigt"
    source: str  # where the answer came from, in Swedish, as the export's "Källa" says it
    source_shown: str  # the same in the page's language


def _definition() -> FormDefinition:
    """The roster's form; 404 when it is not served or says nothing about a roster (no `roster:`)."""
    definition = catalog().get_or_404(current_app.config["FORMSVC_ROSTER_FORM"])
    if definition.roster is None:
        abort(404)
    return definition


def nominations(definition: FormDefinition) -> list[Nomination]:
    """The current nominations, one per organisation, by organisation name."""
    roster = definition.roster
    query = (
        sa.select(Response, Organisation.type)
        .outerjoin(Organisation, Organisation.id == Response.organisation_id)
        .where(Response.form_slug == definition.slug, Response.is_current.is_(True))
        .order_by(sa.func.lower(Response.organisation_name), Response.id)
    )
    found = []
    for response, kind in db.session.execute(query):
        answers = response.answers
        people = tuple(
            Person(p.role, *(_answer(answers, key) for key in (p.name, p.title, p.email, p.phone)))
            for p in roster.people
        )
        found.append(
            Nomination(response.organisation_name or "", TYPES.get(kind, ""), response.submitted_at,
                       response.reference, people, _answer(answers, roster.other),
                       source_text(response.source, response.review, response.reviewed_by), source_label(response))
        )
    return found


def _answer(answers: dict, key: str | None) -> str:
    """The answer to a field the roster names, "" when there is none (or the roster names no such field)."""
    return (answers.get(key) or "") if key else ""


def not_nominated(slug: str) -> list:
    """Invited organisations (invitation not revoked) without a current nomination."""
    return [s for s in standings(slug) if s.missing]


@bp.get("/roster")
def roster():
    """The roster page: who represents each organisation, and who has not nominated."""
    definition = _definition()
    return render_template(
        "staff/roster.html",
        definition=definition,
        nominations=nominations(definition),
        missing=not_nominated(definition.slug),
        invited=invited_counts().get(definition.slug, 0),
        pending=pending_count(definition.slug),
        types=TYPES,
    )


def _not_nominated_sheet(sheet, slug: str) -> None:
    sheet.append(list_sheet(sheet, ["Organisation", "Typ", "Kontaktperson", "E-post"], MISSING_WIDTHS))
    rows = 0
    for standing in not_nominated(slug):
        o = standing.organisation
        values = [o.name, TYPES.get(o.type, o.type), o.contact_name or "", o.contact_email or ""]
        sheet.append([safe_cell(sheet, v) for v in values])
        rows += 1
    filter_rows(sheet, 4, rows)


@bp.get("/roster.xlsx")
def roster_xlsx():
    """The roster as a spreadsheet: one row per person, and a sheet of the invited organisations that have not
    nominated (none when nobody was invited)."""
    definition = _definition()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Rådet")
    header = ["Organisation", "Typ", "Roll", "Namn", "Befattning", "E-post", "Telefon", "Nominerad", "Referens",
              "Övrigt", "Källa"]
    sheet.append(list_sheet(sheet, header, WIDTHS))
    rows = 0
    for nomination in nominations(definition):
        # Spreadsheets have no time zones: Swedish time, as staff read it.
        submitted = nomination.submitted_at.astimezone(zone).replace(tzinfo=None)
        for person in nomination.people:
            values = [nomination.organisation_name, nomination.organisation_type, person.role, person.name,
                      person.title, person.email, person.phone]
            after = [nomination.reference, nomination.other, nomination.source]
            sheet.append([safe_cell(sheet, v) for v in values]
                         + [date_time_cell(sheet, submitted)] + [safe_cell(sheet, v) for v in after])
            rows += 1
    filter_rows(sheet, len(header), rows)
    if invited_counts().get(definition.slug):  # only where there is a list of who was asked
        _not_nominated_sheet(workbook.create_sheet("Har inte nominerat"), definition.slug)
    audit("export", target=definition.slug, kind="roster.xlsx", rows=rows)
    db.session.commit()
    # Written to a temporary file (in memory while small), never built up as one string.
    spool = tempfile.SpooledTemporaryFile(max_size=4 * 1024 * 1024)  # noqa: SIM115 (send_file closes it)
    workbook.save(spool)
    spool.seek(0)
    return send_file(
        spool,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=f"radet-{definition.slug}.xlsx",
    )
