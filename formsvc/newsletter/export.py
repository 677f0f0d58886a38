"""Rows -> XLSX, safe to open (no cell is read as a formula). CSV is formsvc.export.csv_table, as for answers."""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook

from ..export import date_time_cell, filter_rows, list_sheet, safe_cell


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
