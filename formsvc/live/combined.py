"""A form's ranking question and the live rounds that asked it, counted together.

The form's own current answers (given through personal links, for a `live_only` form) and every round's votes
on the same question add up to one ranking, shown on the form's results page and as the sheet "Omröstningar"
of its export. A round that asked the question with another number of places (the form changed since) is
listed but left out of the sum: its points are on another scale.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font

from ..aggregate import QuestionResult, Tally, current_tally, ranking
from ..definitions import FormDefinition, field_type
from ..export import SafeCells, local_time
from ..extensions import db
from ..models import AnswerValue, Response
from .models import LiveRound, LiveVote, LiveVotePlace


@dataclass(frozen=True)
class RoundVotes:
    live_round: LiveRound
    voters: int
    included: bool  # counted in the sum (asked with the form's number of places)


@dataclass(frozen=True)
class Combined:
    result: QuestionResult  # the ranking over the form's answers and the included rounds' votes
    form_votes: int
    rounds: list[RoundVotes]

    @property
    def voters(self) -> int:
        return self.form_votes + sum(r.voters for r in self.rounds if r.included)


def combined_results(definition: FormDefinition) -> list[Combined]:
    """One entry per ranking question that a live round asked; empty when no round used the form."""
    rounds = list(
        db.session.scalars(
            sa.select(LiveRound).where(LiveRound.form_slug == definition.slug).order_by(LiveRound.opened_at)
        )
    )
    if not rounds:
        return []
    voters = dict(
        db.session.execute(
            sa.select(LiveVote.round_id, sa.func.count(LiveVote.id))
            .where(LiveVote.round_id.in_([r.id for r in rounds]))
            .group_by(LiveVote.round_id)
        ).all()
    )
    found = []
    for spec in definition.fields:
        asked = [r for r in rounds if r.field == spec.key and field_type(spec.type).live_question]
        if not asked:
            continue
        included = [r for r in asked if r.rank == spec.rank]
        tallies = current_tally(definition.slug, [spec.key])
        for value, count, places in _round_tallies([r.id for r in included]):
            mine = tallies.get((spec.key, value), Tally(0))
            tallies[spec.key, value] = Tally(mine.count + int(count), mine.place_sum + int(places))
        form_votes = _form_votes(definition.slug, spec.key)
        rows = [RoundVotes(r, voters.get(r.id, 0), r in included) for r in asked]
        total = form_votes + sum(v.voters for v in rows if v.included)
        found.append(Combined(QuestionResult(spec, "ranking", total, ranking(spec, tallies)), form_votes, rows))
    return found


def _round_tallies(round_ids: list[int]):
    if not round_ids:
        return []
    return db.session.execute(
        sa.select(LiveVotePlace.value, sa.func.count(LiveVotePlace.id), sa.func.sum(LiveVotePlace.place))
        .where(LiveVotePlace.round_id.in_(round_ids))
        .group_by(LiveVotePlace.value)
    ).all()


def _form_votes(slug: str, key: str) -> int:
    """Current answers to the form that ranked the question (each has one first place)."""
    query = (
        sa.select(sa.func.count(AnswerValue.id))
        .join(Response, Response.id == AnswerValue.response_id)
        .where(AnswerValue.form_slug == slug, AnswerValue.field == key, AnswerValue.position == 1, Response.is_current)
    )
    return db.session.scalar(query) or 0


def combined_sheet(workbook, definition: FormDefinition) -> None:
    """The sheet "Omröstningar" of the form's export: the rounds, and the ranking of everything together."""
    found = combined_results(definition)
    if not found:
        return
    sheet = workbook.create_sheet("Omröstningar")
    safe = SafeCells(sheet)
    sheet.column_dimensions["A"].width = 50
    bold = Font(bold=True)

    def row(*values, font=None):
        cells = safe.row(list(values))
        if font is not None:
            cells = [_styled(sheet, cell, font) for cell in cells]
        sheet.append(cells)

    row("Formuläret och omröstningarna tillsammans", font=Font(bold=True, size=14))
    for combined in found:
        row()
        row(combined.result.spec.label, font=bold)
        row("Röster sammanlagt", combined.voters)
        row("Via formuläret", combined.form_votes)
        row("Omröstning", "Kod", "Öppnad", "Stängd", "Röster", "Ingår i summan", font=bold)
        for votes in combined.rounds:
            r = votes.live_round
            closed = local_time(r.closed_at) if r.closed_at else "pågår"
            row(r.title or r.question, r.join_code, local_time(r.opened_at), closed, votes.voters,
                "Ja" if votes.included else "Nej (annat antal platser)")
        row()
        row("Alternativ", "Poäng", "Omnämnanden", "Plats", "Delad plats", font=bold)
        for option in combined.result.options:
            row(option.label, option.points, option.mentions, option.place, "Ja" if option.tied else "Nej")


def _styled(sheet, value, font: Font):
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
    cell.font = font
    return cell
