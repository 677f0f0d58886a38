"""The export downloads: /staff/forms/<slug>/export.xlsx and .csv, each written to the audit log."""

from __future__ import annotations

import tempfile
from datetime import datetime

from flask import Response, send_file, stream_with_context

from ..audit import audit
from ..catalog import catalog
from ..definitions import TIMEZONE
from ..export import csv_chunks, write_xlsx
from ..extensions import db
from .blueprint import bp

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _download_name(slug: str, suffix: str) -> str:
    return f"{slug}-{datetime.now(TIMEZONE):%Y-%m-%d}.{suffix}"


@bp.get("/forms/<slug>/export.xlsx")
def export_xlsx(slug: str):
    """The answers as an Excel file, built in a temporary file (deleted when sent), not in memory."""
    definition = catalog().get_or_404(slug)
    audit("export", target=slug, format="xlsx")
    db.session.commit()  # before the file is built: the export reads in short transactions of its own
    spool = tempfile.TemporaryFile()  # noqa: SIM115 (send_file closes it once sent, and then it is gone)
    try:
        write_xlsx(definition, spool)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return send_file(spool, mimetype=XLSX, as_attachment=True, download_name=_download_name(slug, "xlsx"))


@bp.get("/forms/<slug>/export.csv")
def export_csv(slug: str):
    """The answers as CSV (UTF-8 with BOM, semicolons), streamed as it is read."""
    definition = catalog().get_or_404(slug)
    audit("export", target=slug, format="csv")
    db.session.commit()  # before the file is built: the export reads in short transactions of its own
    # Flask adds "; charset=utf-8" to a text type itself: given here too, the header said it twice.
    response = Response(stream_with_context(csv_chunks(definition)), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_download_name(slug, "csv")}"'
    return response
