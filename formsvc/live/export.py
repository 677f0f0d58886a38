"""A round's final ranking as an XLSX workbook for the minutes, built apart from the response that sends it."""

from __future__ import annotations

from io import BytesIO

from flask_babel import gettext
from openpyxl import Workbook

from ..export import date_time_cell, filter_rows, list_sheet, safe_cell
from .tally import Tally


def round_workbook(live_round, result: Tally) -> bytes:
    """The ranking by points with mentions (a list to sort and filter), then a sheet of what was asked,
    when and how many voted."""
    workbook = Workbook(write_only=True)
    ranking = workbook.create_sheet(gettext("Resultat"))
    header = [
        gettext("Placering (poäng)"),
        gettext("Alternativ"),
        gettext("Poäng"),
        gettext("Omnämnanden"),
        gettext("Placering (omnämnanden)"),
        gettext("Delad placering"),
    ]
    longest = max((len(s.label) for s in result.by_points), default=0)
    ranking.append(list_sheet(ranking, header, {1: longest + 2}))
    for s in result.by_points:
        shared = [gettext("poäng")] * s.points_tied + [gettext("omnämnanden")] * s.mentions_tied
        values = [s.points_place, s.label, s.points, s.mentions, s.mentions_place, ", ".join(shared)]
        ranking.append([safe_cell(ranking, v) for v in values])
    filter_rows(ranking, len(header), len(result.by_points))

    facts = workbook.create_sheet(gettext("Omröstning"))
    facts.append(list_sheet(facts, [gettext("Uppgift"), gettext("Värde")], {0: 16, 1: 60}))
    rows = [
        (gettext("Omröstning"), live_round.title or live_round.question),
        (gettext("Fråga"), live_round.question),
        (gettext("Kod"), live_round.join_code),
        (gettext("Öppnad"), date_time_cell(facts, live_round.opened_at)),
        (gettext("Stängd"), date_time_cell(facts, live_round.closed_at) if live_round.closed_at else gettext("pågår")),
        (gettext("Antal röstande"), result.voters),
        (gettext("Poäng"), gettext("Plats 1 ger %(n)d poäng, sista platsen 1 poäng.", n=live_round.rank)),
    ]
    for name, value in rows:
        facts.append([safe_cell(facts, name), safe_cell(facts, value)])
    filter_rows(facts, 2, len(rows))
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


