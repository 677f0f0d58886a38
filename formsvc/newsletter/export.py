"""Rows -> XLSX or CSV, streamed and safe to open (no cell is read as a formula).

Small on purpose: formsvc/export.py (results) does the same for answers; the two can share its helper.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime

from openpyxl import Workbook

from ..export import FORMULA_STARTS, date_time_cell, filter_rows, list_sheet, local_time, safe_cell


def csv_text(value) -> str:
    """A CSV cell: text that a spreadsheet would read as a formula gets a leading apostrophe."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return local_time(value).strftime("%Y-%m-%d %H:%M")
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence]) -> Iterator[str]:
    """CSV in pieces: UTF-8 with a BOM and semicolons, as Swedish Excel opens it."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow([csv_text(h) for h in header])
    for row in rows:
        writer.writerow([csv_text(v) for v in row])
        if buffer.tell() > 64 * 1024:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _xlsx_cell(sheet, value):
    if isinstance(value, datetime):
        return date_time_cell(sheet, value)
    return safe_cell(sheet, value)


def xlsx_file(
    title: str, header: Sequence[str], rows: Iterable[Sequence], widths: dict[int, int] | None = None
) -> tempfile.SpooledTemporaryFile:
    """The workbook in a temporary file (write-only mode: memory does not grow with the rows)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(list_sheet(sheet, list(header), widths))
    count = 0
    for row in rows:
        sheet.append([_xlsx_cell(sheet, v) for v in row])
        count += 1
    filter_rows(sheet, len(header), count)
    # Handed to send_file, which closes it when the response is done.
    out = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    workbook.save(out)
    out.seek(0)
    return out
