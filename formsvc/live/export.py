"""A round's final ranking as an XLSX workbook for the minutes, built apart from the response that sends it."""

from __future__ import annotations

from io import BytesIO

from flask_babel import format_datetime, gettext
from openpyxl import Workbook

from ..export import safe_cell
from .tally import Tally


def round_workbook(live_round, result: Tally) -> bytes:
    """One sheet: what was asked, when, how many voted, then the ranking by points with mentions."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(gettext("Resultat"))
    sheet.column_dimensions["B"].width = 60

    def row(*values):
        sheet.append([safe_cell(sheet, v) for v in values])

    row(gettext("Omröstning"), live_round.title or live_round.question)
    row(gettext("Fråga"), live_round.question)
    row(gettext("Kod"), live_round.join_code)
    row(gettext("Öppnad"), format_datetime(live_round.opened_at, "yyyy-MM-dd HH:mm"))
    closed = format_datetime(live_round.closed_at, "yyyy-MM-dd HH:mm") if live_round.closed_at else gettext("pågår")
    row(gettext("Stängd"), closed)
    row(gettext("Antal röstande"), result.voters)
    row(gettext("Poäng"), gettext("Plats 1 ger %(n)d poäng, sista platsen 1 poäng.", n=live_round.rank))
    row()
    row(
        gettext("Placering (poäng)"),
        gettext("Alternativ"),
        gettext("Poäng"),
        gettext("Omnämnanden"),
        gettext("Placering (omnämnanden)"),
        gettext("Delad placering"),
    )
    for s in result.by_points:
        shared = [gettext("poäng")] * s.points_tied + [gettext("omnämnanden")] * s.mentions_tied
        row(s.points_place, s.label, s.points, s.mentions, s.mentions_place, ", ".join(shared))
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
