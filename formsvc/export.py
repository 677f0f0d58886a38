"""A form's answers as spreadsheets: rows -> XLSX (openpyxl write-only) or CSV, built apart from sending.

One row per current answer, one column per question in the definition's order with its Swedish label:
multiple choice split into one column per option, a ranking into one column per place, numbers and dates
as real Excel types. Questions only older definition versions had come after the current ones.
Everything streams: answers are read in batches and written as they come, so memory does not grow
with the number of answers. Cells are formula-safe: text beginning with = + - @ tab, CR or NUL is never
a formula (an explicit string cell in XLSX, a leading apostrophe in CSV).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from copy import copy
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from itertools import islice
from pathlib import Path
from typing import IO, Any

import click
import orjson
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .aggregate import FormResults, form_results
from .audit import audit
from .catalog import catalog
from .definitions import TIMEZONE, Columns, FormDefinition, field_type
from .definitions.registry import NO, YES
from .extensions import db
from .invitations.status import standings
from .models import Response
from .organisations import TYPES
from .review import source_text
from .versions import all_questions

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
BATCH = 2000  # answers read per query
# XML cannot hold these characters, so XLSX writes them as _xHHHH_, which Excel reads back as the character;
# a literal "_xHHHH_" typed by someone gets its underscore escaped the same way so it stays literal.
OOXML_ESCAPE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
# Text that needs either: one search rules out nearly every cell of a large export before the full check.
NEEDS_CARE = re.compile(OOXML_ESCAPE.pattern + "|^[" + re.escape("".join(FORMULA_STARTS)) + "]")


def answer_columns(definition: FormDefinition) -> list[Columns]:
    """The questions' columns: current questions in order, then those only older versions had."""
    return [field_type(spec.type).columns(spec) for spec in all_questions(definition)]


HEADERS = ["Referens", "Inskickat", "Källa"]  # Källa: personlig länk, öppen länk or godkänd av <staff>


def headers(columns: list[Columns]) -> list[str]:
    return HEADERS + [header for question in columns for header in question.headers]


def free_text_indexes(columns: list[Columns]) -> list[int]:
    """Where in a row text people wrote (or labels) can be; the other cells are "Ja", numbers or empty."""
    indexes, at = [2], len(HEADERS)  # Källa may name a staff e-mail address
    for question in columns:
        if question.free_text:
            indexes += range(at, at + len(question.headers))
        at += len(question.headers)
    return indexes


def answer_rows(definition: FormDefinition, columns: list[Columns]) -> Iterator[list[Any]]:
    """One list of plain values per current answer, oldest first, read in batches.

    Each batch is its own short read transaction (keyset by id, then ended): SQLite takes its write lock
    at BEGIN (IMMEDIATE), so one long read would make people's answers wait for the whole export. Call it
    with nothing unsaved in the session: the caller commits its own writes (the audit line) first.
    """
    fillers = [question.values for question in columns]
    # The columns as the driver gives them: SQLAlchemy's own conversion of SQLite's date strings and of JSON
    # costs more than all the rest of a row, so it is done here, with the C parsers. Through the connection,
    # not the ORM session, the rows are plain Core rows: the ORM's row handling costs as much again.
    raw_time = sa.type_coerce(Response.submitted_at, sa.String)
    raw_answers = sa.type_coerce(Response.answers, sa.String)
    last_id = 0
    while True:
        batch = (
            db.session.connection()
            .execute(
                sa.select(
                    Response.id, Response.reference, raw_time, raw_answers,
                    Response.source, Response.review, Response.reviewed_by,
                )
                .where(Response.form_slug == definition.slug, Response.is_current, Response.id > last_id)
                .order_by(Response.id)
                .limit(BATCH)
            )
            .all()
        )
        db.session.rollback()  # ends the read (nothing was written): the lock is free between batches
        if not batch:
            return
        for _id, reference, submitted_at, answers, source, review, reviewed_by in batch:
            if isinstance(answers, str):  # SQLite: JSON text; PostgreSQL's driver has decoded it already
                answers = json_object(answers)
            row = [reference, local_time(submitted_at), source_text(source, review, reviewed_by)]
            for fill in fillers:
                row += fill(answers)
            yield row
        last_id = batch[-1][0]


def json_object(text: str) -> Any:
    """Stored JSON, decoded with orjson (several times faster); json reads what orjson refuses (NaN,
    Infinity, lone surrogates), so nothing stored becomes unreadable. orjson reads an integer beyond 64 bits
    as a float, which number questions (12 digits at most) never store."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def local_time(moment: datetime | str) -> datetime:
    """Swedish wall-clock time without a zone (Excel has no time zones) from a UTC time.

    SQLite hands back its stored text, which is UTC without a zone (see models.UTCDateTime).
    """
    if isinstance(moment, str):
        return datetime.fromisoformat(moment) + _offset_in_utc_hour(moment[:13])
    return moment.astimezone(TIMEZONE).replace(tzinfo=None)


@lru_cache(maxsize=4096)
def _offset_in_utc_hour(hour: str) -> timedelta:
    """Sweden's offset from UTC in the UTC hour "YYYY-MM-DD HH": the clocks change on the hour (01:00 UTC),
    so one zone lookup per hour does instead of one per answer."""
    return datetime.fromisoformat(hour).replace(tzinfo=UTC).astimezone(TIMEZONE).utcoffset()


# --- XLSX -------------------------------------------------------------------------------------------

MAX_WIDTH = 50  # characters: a long question label wraps in its own cell rather than making a column a screen wide
DATE_TIME_FORMAT = "yyyy-mm-dd hh:mm"  # ISO order, as Swedish Excel shows it and sorts it
DATE_TIME_WIDTH = 17


def list_sheet(sheet, header: list[Any], widths: dict[int, int] | None = None) -> list[Cell]:
    """Set up a write-only sheet as a list under `header`: columns as wide as their headers (capped),
    the header row frozen; returns the bold header cells to append first. `widths` (column index -> at
    least so many characters) is for columns whose values are wider than their header (dates).

    Write-only sheets write column widths and panes before the first row, so call this before appending;
    `filter_rows` adds the autofilter, which is written when the workbook is saved.
    """
    widths = widths or {}
    for index, text in enumerate(header):
        wanted = max(len(str(text.value if isinstance(text, Cell) else text)) + 2, widths.get(index, 0), 8)
        sheet.column_dimensions[get_column_letter(index + 1)].width = min(wanted, MAX_WIDTH)
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    return [_styled(sheet, safe_cell(sheet, text), bold) for text in header]


def filter_rows(sheet, columns: int, rows: int) -> None:
    """An autofilter over the header and the `rows` rows written under it."""
    sheet.auto_filter.ref = f"A1:{get_column_letter(columns)}{rows + 1}"


def date_time_cell(sheet, moment: datetime) -> WriteOnlyCell:
    """A date cell (Swedish wall-clock time) shown as 2026-12-01 19:28."""
    cell = WriteOnlyCell(sheet, local_time(moment) if moment.tzinfo else moment)
    cell.number_format = DATE_TIME_FORMAT
    return cell


def ooxml_text(text: str) -> str:
    return OOXML_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", text) if OOXML_ESCAPE.search(text) else text


class SafeCells:
    """Turns values into what a write-only sheet takes; text that could be a formula becomes a string cell."""

    def __init__(self, sheet, checked: list[int] | None = None):
        self.sheet = sheet
        self.checked = checked  # the indexes of the columns to check; None: all

    def cell(self, value: Any) -> Any:
        if type(value) is not str:
            return value
        value = ooxml_text(value)
        if not value.startswith(FORMULA_STARTS):
            return value
        cell = WriteOnlyCell(self.sheet, value)
        cell.data_type = "s"  # never "f": the text is shown, not computed
        cell.quotePrefix = True  # and Excel keeps it text when the cell is edited
        return cell

    def row(self, values: list[Any]) -> list[Any]:
        """The values made safe, in place."""
        needs_care = NEEDS_CARE.search
        for index in range(len(values)) if self.checked is None else self.checked:
            value = values[index]
            if type(value) is str and needs_care(value):
                values[index] = self.cell(value)
        return values


def safe_cell(sheet, value: Any) -> Any:
    """One value for a write-only sheet, formula-safe: for the other spreadsheets the service makes."""
    return SafeCells(sheet).cell(value)


def on_export_sheets(app: Flask, add: Callable[[Workbook, FormDefinition], None]) -> None:
    """Call `add(workbook, definition)` after the export's own sheets: features with results of their own
    (the live rounds of a form) add them to the form's export."""
    app.extensions.setdefault("formsvc_export_sheets", []).append(add)


def write_xlsx(definition: FormDefinition, target: IO[bytes] | str | Path) -> int:
    """Write the export to a file or binary file object; returns the number of answers."""
    workbook = Workbook(write_only=True)
    results = form_results(definition, texts=False)
    columns = answer_columns(definition)
    answers = workbook.create_sheet("Svar")
    safe = SafeCells(answers, free_text_indexes(columns))
    header = headers(columns)
    answers.append(list_sheet(answers, header, {0: 12, 1: DATE_TIME_WIDTH}))
    bold = Font(bold=True)
    # One styled cell per row for the time; its style copied, not looked up again for each answer.
    sent = WriteOnlyCell(answers)
    sent.number_format = DATE_TIME_FORMAT
    style = sent._style
    count = 0
    for row in answer_rows(definition, columns):
        cell = WriteOnlyCell(answers)
        cell._style = copy(style)
        cell.value = row[1]  # after the style: openpyxl keeps a date format it finds, sets its own otherwise
        row[1] = cell
        answers.append(safe.row(row))
        count += 1
    filter_rows(answers, len(header), count)
    _summary_sheet(workbook.create_sheet("Sammanfattning"), results, bold)
    # Only where there is a list of who was asked (invitations): without one, "not answered" would be the
    # whole register, most of which was never asked.
    invited = [s for s in standings(definition.slug) if s.live_invitation is not None]
    if invited:
        _missing_sheet(workbook.create_sheet("Ej svarat"), [s.organisation for s in invited if s.missing])
    for add_sheets in current_app.extensions.get("formsvc_export_sheets", ()):
        add_sheets(workbook, definition)
    workbook.save(target)
    return count


def _styled(sheet, value: Any, font: Font) -> Cell:
    cell = value if isinstance(value, Cell) else WriteOnlyCell(sheet, value)
    cell.font = font
    return cell


SUMMARY_HEADERS = {
    "choice": ["Alternativ", "Antal", "Andel"],
    "multichoice": ["Alternativ", "Antal", "Andel av alla svar"],
    "ranking": ["Alternativ", "Poäng", "Omnämnanden", "Plats", "Delad plats"],
    "scale": ["Värde", "Antal", "Andel"],
}
CHART_ROWS = 16  # rows a chart covers at its default size: blocks are at least this far apart


def _summary_sheet(sheet, results: FormResults, bold: Font) -> None:
    """Each counted question as a small table with a native bar chart beside it."""
    safe = SafeCells(sheet)
    # Blocks with headers of their own, so no autofilter (a sheet has one, over one list); the title stays.
    sheet.column_dimensions["A"].width = MAX_WIDTH
    for letter, width in zip("BCDE", (DATE_TIME_WIDTH, 20, 12, 14), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_styled(sheet, safe.cell(results.definition.title), Font(bold=True, size=14))])
    sheet.append(["Antal svar", results.responses])
    sheet.append(["Exporterad", date_time_cell(sheet, datetime.now(TIMEZONE))])
    row = 5
    for question in results.questions:
        headers = SUMMARY_HEADERS[question.kind]
        sheet.append([])
        sheet.append([_styled(sheet, safe.cell(question.spec.label), bold)])
        sheet.append([_styled(sheet, text, bold) for text in headers])
        first = row + 2
        for option in question.options:
            sheet.append(safe.row(_summary_values(sheet, question.kind, option)))
        last = first + len(question.options) - 1
        averages = [] if question.mean is None else [("Medelvärde", question.mean), ("Median", question.median)]
        for label, value in averages:  # a scale's mean and median, below its table
            sheet.append([label, value])
        if question.options:
            sheet.add_chart(_bar_chart(sheet, question.spec.label, question.kind, first, last), f"G{row}")
        used = len(question.options) + 3 + len(averages)
        for _ in range(used, CHART_ROWS):
            sheet.append([])
        row += max(used, CHART_ROWS)


def _summary_values(sheet, kind: str, option) -> list[Any]:
    if kind == "ranking":
        return [option.label, option.points, option.mentions, option.place, YES if option.tied else NO]
    share = WriteOnlyCell(sheet, option.share)
    share.number_format = "0%"
    return [option.label, option.count, share]


def _bar_chart(sheet, title: str, kind: str, first: int, last: int) -> BarChart:
    chart = BarChart()
    chart.type = "bar"  # horizontal: long Swedish option labels stay readable
    chart.title = title
    chart.legend = None
    chart.y_axis.title = "Poäng" if kind == "ranking" else "Antal"
    data = Reference(sheet, min_col=2, min_row=first - 1, max_row=last)
    chart.add_data(data, titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=first, max_row=last))
    chart.x_axis.scaling.orientation = "maxMin"  # the first option at the top, as in the table
    chart.width, chart.height = 18, 7.5
    return chart


def _missing_sheet(sheet, organisations: list) -> None:
    """Invited organisations (invitation not revoked) with no current answer."""
    safe = SafeCells(sheet)
    sheet.append(list_sheet(sheet, ["Organisation", "Typ", "Kontaktperson", "E-post"], {0: 40, 2: 20, 3: 30}))
    rows = 0
    for organisation in organisations:
        rows += 1
        sheet.append(
            safe.row(
                [
                    organisation.name,
                    TYPES.get(organisation.type, organisation.type),
                    organisation.contact_name,
                    organisation.contact_email,
                ]
            )
        )
    filter_rows(sheet, 4, rows)


# --- CSV --------------------------------------------------------------------------------------------


def csv_text(value: Any) -> str:
    """A value as Swedish Excel reads it from CSV; text that could be a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str):
        return "'" + value if value.startswith(FORMULA_STARTS) else value
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = local_time(value)  # a time from the database: Swedish wall-clock time, as in the sheets
        return value.isoformat(" ", "minutes")
    if isinstance(value, float):
        return repr(value).replace(".", ",")  # Swedish Excel reads a decimal comma
    return str(value)


class CsvWriter:
    """CSV as Swedish Excel opens it: UTF-8 with a BOM, semicolons, CRLF; handed out in pieces to stream.
    Cells are given through csv_text (csv_table does it; csv_chunks does it for the columns that need it)."""

    def __init__(self, header: Sequence[str]):
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=";", lineterminator="\r\n")
        self._buffer.write("\ufeff")
        self._writer.writerow([csv_text(text) for text in header])

    def piece(self, rows: Iterable[Sequence] = ()) -> bytes:
        """The rows written, with whatever was written before and not yet handed out."""
        self._writer.writerows(rows)
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text.encode()


def csv_table(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[bytes]:
    """Any table as formula-safe CSV bytes, a batch of rows at a time (the newsletter's list uses it)."""
    writer = CsvWriter(header)
    yield writer.piece()
    rows = iter(rows)
    while batch := list(islice(rows, BATCH)):
        yield writer.piece([csv_text(value) for value in row] for row in batch)


def csv_chunks(definition: FormDefinition) -> Iterator[bytes]:
    """The export as CSV bytes, a batch at a time: UTF-8 with a BOM, semicolons as Swedish Excel expects."""
    columns = answer_columns(definition)
    # The csv module writes None, "Ja", integers and dates as csv_text would; the time, text that could be a
    # formula and decimals need csv_text, and only these columns can hold the last two.
    convert = free_text_indexes(columns)
    writer = CsvWriter(headers(columns))
    yield writer.piece()
    rows = answer_rows(definition, columns)
    while batch := list(islice(rows, BATCH)):
        for row in batch:
            row[1] = csv_text(row[1])
            for index in convert:
                value = row[index]
                if value is not None and (type(value) is not str or value.startswith(FORMULA_STARTS)):
                    row[index] = csv_text(value)
        yield writer.piece(batch)


def write_csv(definition: FormDefinition, target: IO[bytes]) -> None:
    for chunk in csv_chunks(definition):
        target.write(chunk)


# --- the command --------------------------------------------------------------------------------------


@click.command("export")
@click.argument("slug")
@click.option(
    "-o",
    "--output",
    "output",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write: .xlsx or .csv.",
)
@with_appcontext
def export_command(slug: str, output: Path) -> None:
    """Export a form's current answers to an Excel (.xlsx) or CSV file."""
    definition = catalog().get(slug)
    if definition is None:
        raise click.BadParameter(f"no form '{slug}' (forms: {', '.join(d.slug for d in catalog())})", param_hint="SLUG")
    kind = output.suffix.lower().lstrip(".")
    if kind not in ("xlsx", "csv"):
        raise click.BadParameter("the file name must end in .xlsx or .csv", param_hint="-o")
    audit("export", target=slug, actor="system", format=kind)
    db.session.commit()
    with output.open("wb") as target:
        if kind == "xlsx":
            write_xlsx(definition, target)
        else:
            write_csv(definition, target)
    click.echo(f"Wrote {output}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(export_command)
