"""Results in numbers, computed in the database: counts and shares per option, ranking points, free text.

Everything starts from a selection of responses (`current_responses`, or any `SELECT responses.id ...`);
the live vote ranks its rounds with `ranking` too. Only current answers count:
an answer replaced by a newer one from the same organisation stays in the history, not in the results.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from .definitions import TIMEZONE, FieldDefinition, FormDefinition, field_type
from .extensions import db
from .models import AnswerCount, AnswerValue, Organisation, Response
from .versions import all_questions


@dataclass(frozen=True)
class Filters:
    """Which answers to count: sent from `start` to `end` (whole Swedish days), from a type of organisation."""

    start: date | None = None
    end: date | None = None
    organisation_type: str | None = None

    def __bool__(self) -> bool:
        return any((self.start, self.end, self.organisation_type))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=TIMEZONE)


def response_conditions(definition: FormDefinition, filters: Filters = Filters()) -> list[sa.ColumnElement[bool]]:
    """WHERE conditions on Response for the form's current answers that pass the filters."""
    conditions = [Response.form_slug == definition.slug, Response.is_current]
    if filters.start:
        conditions.append(Response.submitted_at >= local_midnight(filters.start))
    if filters.end:
        conditions.append(Response.submitted_at < local_midnight(filters.end + timedelta(days=1)))
    if filters.organisation_type:
        conditions.append(organisation_type_is(definition, filters.organisation_type))
    return conditions


def current_responses(definition: FormDefinition, filters: Filters = Filters()) -> sa.Select:
    """SELECT of the ids of the form's current answers that pass the filters."""
    return sa.select(Response.id).where(*response_conditions(definition, filters))


def organisation_type_is(definition: FormDefinition, kind: str) -> sa.ColumnElement[bool]:
    """The register's type of the answering organisation; for one not in the register, the type it gave."""
    in_register = (
        sa.select(Organisation.id)
        .where(Organisation.id == Response.organisation_id, Organisation.type == kind)
        .exists()
    )
    type_field = next(
        (s.type_field for s in definition.fields if field_type(s.type).names_organisation and s.type_field), None
    )
    if type_field is None:
        return in_register
    answered = (
        sa.select(AnswerValue.id)
        .where(AnswerValue.response_id == Response.id, AnswerValue.field == type_field, AnswerValue.value == kind)
        .exists()
    )
    return sa.or_(in_register, sa.and_(Response.organisation_id.is_(None), answered))


def count_responses(responses: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(responses.subquery()))


@dataclass(frozen=True)
class Tally:
    """How often one option was picked, and the sum of the places it got (rankings)."""

    count: int
    place_sum: int = 0


def _tallies(query: sa.Select) -> dict[tuple[str, str], Tally]:
    return {(key, value): Tally(int(count), int(places)) for key, value, count, places in db.session.execute(query)}


def tally(slug: str, responses: sa.Select, keys: Iterable[str]) -> dict[tuple[str, str], Tally]:
    """(question key, option key) -> Tally over the given responses, in one grouped query."""
    keys = list(keys)
    if not keys:
        return {}
    return _tallies(
        sa.select(
            AnswerValue.field,
            AnswerValue.value,
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(AnswerValue.position), 0),
        )
        .where(AnswerValue.form_slug == slug, AnswerValue.field.in_(keys), AnswerValue.response_id.in_(responses))
        .group_by(AnswerValue.field, AnswerValue.value)
    )


def current_tally(slug: str, keys: Iterable[str]) -> dict[tuple[str, str], Tally]:
    """Like `tally` over all current answers, but read from the counts kept as answers arrive (AnswerCount):
    a few rows instead of every value of a large form."""
    keys = list(keys)
    if not keys:
        return {}
    return _tallies(
        sa.select(AnswerCount.field, AnswerCount.value, AnswerCount.count, AnswerCount.place_sum).where(
            AnswerCount.form_slug == slug, AnswerCount.field.in_(keys), AnswerCount.count > 0
        )
    )


@dataclass(frozen=True)
class OptionCount:
    key: str
    label: str
    count: int
    share: float  # of `base` in the question's result, 0..1


@dataclass(frozen=True)
class RankedOption:
    key: str
    label: str
    points: int  # rank N gives N points for first place, ..., 1 for the last place
    mentions: int  # picked at any place
    place: int  # by points; options with equal points share a place
    tied: bool
    mention_place: int  # by mentions, ties shared the same way
    mention_tied: bool


def _options(spec: FieldDefinition, tallies: dict[tuple[str, str], Tally]) -> list[tuple[str, str, Tally]]:
    """Every option of the question in its order (picked or not), then picked keys it no longer has."""
    keys = [c.key for c in spec.choices]
    keys += sorted(value for key, value in tallies if key == spec.key and value not in keys)
    return [(k, spec.choice_label(k), tallies.get((spec.key, k), Tally(0))) for k in keys]


def option_counts(spec: FieldDefinition, tallies: dict[tuple[str, str], Tally], base: int) -> list[OptionCount]:
    return [OptionCount(k, label, t.count, t.count / base if base else 0.0) for k, label, t in _options(spec, tallies)]


def _places(values: list[int]) -> list[tuple[int, bool]]:
    """Competition places (1, 2, 2, 4: highest first) for each value, and whether the place is shared."""
    return [(1 + sum(v > mine for v in values), values.count(mine) > 1) for mine in values]


def ranking(spec: FieldDefinition, tallies: dict[tuple[str, str], Tally]) -> list[RankedOption]:
    """Points (N..1 for a top N) and mentions per option, highest points first; ties are shown as ties.

    Equal points share a place (mentions do not break the tie); within it, more mentions are listed first.
    """
    top = spec.rank or len(spec.choices)
    rows = [(k, label, t.count * (top + 1) - t.place_sum, t.count) for k, label, t in _options(spec, tallies)]
    rows.sort(key=lambda row: (-row[2], -row[3]))
    by_points = _places([row[2] for row in rows])
    by_mentions = _places([row[3] for row in rows])
    return [
        RankedOption(key, label, points, count, place, tied, mention_place, mention_tied)
        for (key, label, points, count), (place, tied), (mention_place, mention_tied) in zip(
            rows, by_points, by_mentions, strict=True
        )
    ]


@dataclass(frozen=True)
class TextAnswer:
    reference: str
    submitted_at: datetime
    text: str


def text_answers(
    spec: FieldDefinition, conditions: list[sa.ColumnElement[bool]], limit: int, offset: int = 0
) -> list[TextAnswer]:
    """Non-empty answers to a free-text question among the responses meeting `conditions`, newest first.

    A NUL character, stored as the JSON escape \\u0000, makes PostgreSQL refuse to read any key of that
    answer; it is read as U+FFFD (the replacement character) instead, so one such answer cannot hide the rest.
    """
    readable = sa.func.replace(sa.cast(Response.answers, sa.Text), "\\u0000", "\\ufffd")
    # Back to JSON to read the key; SQLite's CAST knows no JSON type and reads JSON from text as it is.
    value = sa.cast(readable, sa.JSON().with_variant(sa.Text(), "sqlite"))[spec.key].as_string()
    rows = db.session.execute(
        sa.select(Response.reference, Response.submitted_at, value)
        .where(*conditions, value.is_not(None), value != "")
        .order_by(Response.submitted_at.desc(), Response.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [TextAnswer(*row) for row in rows]


@dataclass
class QuestionResult:
    """One question's result; `kind` names the macro in templates/staff/_results.html that shows it."""

    spec: FieldDefinition
    kind: str
    base: int = 0  # what the shares are of: answers to the question, or all answers for multiple choice
    options: list[Any] = field(default_factory=list)  # OptionCount, RankedOption or TextAnswer
    mean: float | None = None  # a scale's mean and median rating, None when nobody answered
    median: float | None = None


@dataclass
class FormResults:
    definition: FormDefinition
    filters: Filters
    responses: int
    questions: list[QuestionResult]


TEXTS_SHOWN = 10  # latest free-text answers on the results page; the rest are a click away


def _single(spec, tallies, total, conditions):
    answered = sum(t.count for (key, _value), t in tallies.items() if key == spec.key)
    return QuestionResult(spec, "choice", answered, option_counts(spec, tallies, answered))


def _multiple(spec, tallies, total, conditions):
    return QuestionResult(spec, "multichoice", total, option_counts(spec, tallies, total))


def _ranking(spec, tallies, total, conditions):
    return QuestionResult(spec, "ranking", total, ranking(spec, tallies))


def _scale(spec, tallies, total, conditions):
    """A rating's distribution (every value 1..N, from the grouped counts), its mean and median."""
    top = field_type(spec.type).top(spec)
    counts = [(n, tallies.get((spec.key, str(n)), Tally(0)).count) for n in range(1, top + 1)]
    answered = sum(count for _n, count in counts)
    options = [OptionCount(str(n), str(n), count, count / answered if answered else 0.0) for n, count in counts]
    result = QuestionResult(spec, "scale", answered, options)
    if answered:
        result.mean = sum(n * count for n, count in counts) / answered
        result.median = (_nth(counts, (answered - 1) // 2) + _nth(counts, answered // 2)) / 2
    return result


def _nth(counts: list[tuple[int, int]], index: int) -> int:
    """The value at `index` (from 0) of the ratings in order, read from their counts."""
    for value, count in counts:
        if index < count:
            return value
        index -= count
    raise IndexError(index)


def _text(spec, tallies, total, conditions):
    return QuestionResult(spec, "text", total, text_answers(spec, conditions, TEXTS_SHOWN))


Summary = Callable[[FieldDefinition, dict, int, list], QuestionResult]
# Result kind (FieldType.summary) -> how it is computed. Types with no summary (e-mail, phone, consent, ...)
# are in the list of responses and the export, not on the results page.
SUMMARIES: dict[str, Summary] = {
    "choice": _single,
    "multichoice": _multiple,
    "ranking": _ranking,
    "scale": _scale,
    "text": _text,
}


def form_results(definition: FormDefinition, filters: Filters = Filters(), texts: bool = True) -> FormResults:
    """Every question's result over the form's current answers that pass the filters.

    With texts=False free-text questions are left out (the export has them on its own sheet).
    """
    questions = [
        spec
        for spec in all_questions(definition)
        if field_type(spec.type).summary and (texts or field_type(spec.type).countable)
    ]
    conditions = response_conditions(definition, filters)
    responses = sa.select(Response.id).where(*conditions)
    total = count_responses(responses)
    counted = [spec.key for spec in questions if field_type(spec.type).countable]
    # With no filter, the counts kept as answers arrive give the same numbers.
    tallies = tally(definition.slug, responses, counted) if filters else current_tally(definition.slug, counted)
    return FormResults(
        definition,
        filters,
        total,
        [SUMMARIES[field_type(spec.type).summary](spec, tallies, total, conditions) for spec in questions],
    )


def organisations_without_answer(slug: str) -> list[Organisation]:
    """Organisations in the register with no current answer to the form."""
    answered = sa.select(Response.id).where(
        Response.organisation_id == Organisation.id, Response.form_slug == slug, Response.is_current
    )
    return list(db.session.scalars(sa.select(Organisation).where(~answered.exists()).order_by(Organisation.name)))


# Indexes for counting with a filter, and current answers by form (migration results_1).
sa.Index("ix_answer_values_tally", AnswerValue.form_slug, AnswerValue.field, AnswerValue.value, AnswerValue.position)
sa.Index("ix_responses_current", Response.form_slug, Response.is_current, Response.submitted_at)
