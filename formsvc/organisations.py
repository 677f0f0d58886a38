"""The organisation register: lookups for the organisation field, row checks, import from CSV or XLSX, `orgs`.

One set of row checks (`check_rows`) serves the command line, the upload page and the staff add/edit form,
so a row is accepted or refused for the same reason wherever it comes from.
"""

from __future__ import annotations

import csv
import io
import re
import time
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app, has_app_context
from flask.cli import AppGroup
from flask_babel import gettext
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from .audit import audit
from .extensions import db
from .models import Organisation, name_key

TYPES = {
    "kommun": "Kommun",
    "region": "Region",
    "myndighet": "Statlig myndighet",
    "naringsliv": "Företag",
    "civilsamhalle": "Ideell organisation eller förening",
    "annan": "Annan",
}
# What people write in the type column besides the keys and the labels above.
TYPE_ALIASES = {"näringsliv": "naringsliv", "civilsamhälle": "civilsamhalle", "företag": "naringsliv"}
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Column -> the headings accepted for it (compared case-insensitively), English first.
COLUMNS = {
    "name": ("name", "namn", "organisation"),
    "type": ("type", "typ", "organisationstyp"),
    "contact_name": ("contact_name", "kontaktperson", "kontakt"),
    "contact_email": ("contact_email", "e-post", "epost", "email", "e-mail", "kontakt_epost"),
}
MAX_ROWS = 5000  # lines after the heading; reading stops after one more, so a huge file costs no more
MAX_COLUMNS = 50  # columns read (the register has four; a sheet may declare 16 384)
MAX_UNPACKED_BYTES = 25 * 1024 * 1024  # an XLSX file's parts, unpacked: more is a zip bomb, not a register
# Characters no register holds: C0 and C1 control characters but tab and line breaks (which are spaces here).
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# What openpyxl raises for a part of a file it cannot read (XML that is not well formed, a shared-string
# index or cell reference that does not exist, a number or date that is not one, a broken zip):
# the file is bad, not the service.
XLSX_ERRORS = (
    zipfile.BadZipFile, zlib.error, InvalidFileException, SyntaxError, ValueError, TypeError, LookupError,
    OverflowError, OSError, EOFError,
)

def find_by_name(name: str | None) -> Organisation | None:
    if not name or not name.strip():
        return None
    return db.session.scalar(sa.select(Organisation).where(Organisation.name_key == name_key(name)))

def all_organisations() -> list[Organisation]:
    return list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name)))


def register_entries() -> tuple[sa.Row, ...]:
    """Each organisation's name and type, in name order: what a form's organisation list offers.

    Every form page shows it, so each worker reads it at most once per FORMSVC_REGISTER_CACHE_SECONDS;
    a change committed in this worker shows at once, one made in another worker within that time."""
    cache = current_app.extensions["formsvc_register"]
    age = time.monotonic() - cache.get("read_at", float("-inf"))
    if cache.get("entries") is None or age > current_app.config["FORMSVC_REGISTER_CACHE_SECONDS"]:
        query = sa.select(Organisation.name, Organisation.type).order_by(Organisation.name)
        cache["entries"] = tuple(db.session.execute(query))
        cache["read_at"] = time.monotonic()
    return cache["entries"]


def _note_register_change(_mapper, _connection, organisation: Organisation) -> None:
    """An organisation was written: forget the register once that is committed (not before: a read
    in between would cache what may yet be rolled back)."""
    sa.orm.object_session(organisation).info["register_changed"] = True


def _forget_register(session: sa.orm.Session) -> None:
    if session.info.pop("register_changed", False) and has_app_context():
        current_app.extensions["formsvc_register"]["entries"] = None


def type_key(value: str | None) -> str | None:
    """The type's key for a key, a label or a common alias ("Statlig myndighet" -> "myndighet")."""
    wanted = (value or "").strip().casefold()
    for key, label in TYPES.items():
        if wanted in (key, label.casefold()):
            return key
    return TYPE_ALIASES.get(wanted)

@dataclass(frozen=True)
class Rejected:
    line: int  # where the row is in the file (1 is the heading)
    row: dict
    field: str  # the column at fault
    reason: str

@dataclass
class ImportReport:
    accepted: list[dict] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

def check_rows(rows: list[dict], first_line: int = 2, ignore: Organisation | None = None) -> ImportReport:
    """Sort rows into accepted (cleaned) and rejected (with the reason), against each other and the register.

    `ignore`: the organisation being edited, whose own name is not a duplicate of itself.
    """
    report = ImportReport()
    known = set(db.session.scalars(sa.select(Organisation.name_key)))
    if ignore is not None:
        known.discard(ignore.name_key)
    in_file: set[str] = set()
    for line, row in enumerate(rows, start=first_line):
        line = row["_line"] if isinstance(row.get("_line"), int) else line
        name = " ".join(_text(row, "name").split())
        kind = type_key(_text(row, "type"))
        email = _text(row, "contact_email").strip()
        problem = None
        control = next((column for column in COLUMNS if CONTROL.search(_text(row, column))), None)
        if control:
            problem = (control, gettext("innehåller ett styrtecken (ett osynligt tecken som inte hör hemma i text)"))
        elif not name:
            problem = ("name", gettext("namn saknas"))
        elif len(name) > 200:
            problem = ("name", gettext("namnet är längre än 200 tecken"))
        elif name_key(name) in in_file:
            problem = ("name", gettext("finns flera gånger i filen"))
        elif name_key(name) in known:
            problem = ("name", gettext("finns redan i registret"))
        elif kind is None:
            problem = ("type", gettext("okänd typ '%(kind)s' (tillåtna: %(known)s)",
                                       kind=_text(row, "type").strip(), known=", ".join(TYPES)))
        elif not email:
            problem = ("contact_email", gettext("e-postadress saknas"))
        elif not EMAIL.match(email) or len(email) > 254:
            problem = ("contact_email", gettext("ogiltig e-postadress '%(email)s'", email=email))
        if name:
            in_file.add(name_key(name))
        if problem:
            report.rejected.append(Rejected(line, row, *problem))
            continue
        report.accepted.append(
            {"name": name, "type": kind, "contact_name": " ".join(_text(row, "contact_name").split())[:200]
             or None, "contact_email": email.lower()}
        )
    return report


def _text(row: dict, column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value)

def add_organisations(rows: list[dict]) -> list[Organisation]:
    added = [Organisation(name_key=name_key(r["name"]), **r) for r in rows]
    db.session.add_all(added)
    return added

class FileProblem(ValueError):
    """A file that cannot be read as a register at all (not its rows: those are reported one by one)."""

def read_rows(filename: str, data: bytes) -> list[dict]:
    """The rows of a CSV or XLSX file as dicts keyed name/type/contact_name/contact_email, with `_line`."""
    _check_size(len(data))
    suffix = Path(filename or "").suffix.lower()
    if suffix == ".csv":
        table = _csv_table(data)
    elif suffix == ".xlsx":
        table = _xlsx_table(data)
    else:
        raise FileProblem(gettext("Filen måste vara en CSV- eller XLSX-fil (.csv eller .xlsx)."))
    return _rows_from_table(table)


def read_file(path: Path) -> list[dict]:
    _check_size(path.stat().st_size)  # before reading it all into memory
    return read_rows(path.name, path.read_bytes())


def _check_size(size: int) -> None:
    limit = current_app.config["FORMSVC_UPLOAD_MAX_BYTES"]
    if size > limit:
        raise FileProblem(gettext("Filen är för stor (högst %(n)d MB).", n=limit // (1024 * 1024)))


def _csv_table(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # Excel in Sweden saves CSV as Windows-1252
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel  # one column, or too little to tell: plain commas
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    table = []
    try:
        for row in islice(reader, MAX_ROWS + 2):
            table.append(row[:MAX_COLUMNS])
    except csv.Error as error:  # e.g. a field longer than the csv module's limit (131 072 characters)
        raise FileProblem(
            gettext("Rad %(line)d kunde inte läsas: ett fält är för långt eller felaktigt.", line=reader.line_num)
        ) from error
    return table

def _xlsx_table(data: bytes) -> list[list[str]]:
    """The first sheet's rows, read one at a time (openpyxl's read-only mode) up to the row limit."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
    except XLSX_ERRORS as error:
        raise FileProblem(gettext("Filen kunde inte läsas som en Excel-fil (.xlsx).")) from error
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileProblem(gettext("Excel-filen blir för stor när den packas upp (högst %(n)d MB).",
                                  n=MAX_UNPACKED_BYTES // (1024 * 1024)))
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = workbook.worksheets[0]
    except XLSX_ERRORS as error:
        raise FileProblem(gettext("Filen kunde inte läsas som en Excel-fil (.xlsx).")) from error
    table = []
    try:
        # Not the declared width when it is wider: it pads every row to it (A1:XFD1 is 16 384 columns).
        rows = sheet.iter_rows(values_only=True, max_col=min(sheet.max_column or MAX_COLUMNS, MAX_COLUMNS))
        for row in islice(rows, MAX_ROWS + 2):
            table.append(["" if v is None else str(v) for v in row])
    except XLSX_ERRORS as error:
        raise FileProblem(
            gettext("Excel-filen är skadad: rad %(line)d kunde inte läsas.", line=len(table) + 1)
        ) from error
    finally:
        workbook.close()
    return table

def _rows_from_table(table: list[list[str]]) -> list[dict]:
    if not table:
        raise FileProblem(gettext("Filen är tom."))
    headings = [unicodedata.normalize("NFC", h or "").strip().casefold() for h in table[0]]
    columns = {}
    for column, names in COLUMNS.items():
        found = next((i for i, h in enumerate(headings) if h in names), None)
        if found is not None:
            columns[column] = found
    if "name" not in columns or "type" not in columns:
        raise FileProblem(
            gettext("Första raden ska ha kolumnrubrikerna name och type (och gärna contact_name, contact_email).")
        )
    if len(table) - 1 > MAX_ROWS:
        raise FileProblem(gettext("Filen har fler än %(n)d rader.", n=MAX_ROWS))
    rows = []
    for line, cells in enumerate(table[1:], start=2):
        if not any((c or "").strip() for c in cells):
            continue  # blank lines are not rows
        row = {column: (cells[i] if i < len(cells) else "") for column, i in columns.items()}
        row["_line"] = line
        rows.append(row)
    return rows

def demo_email(name: str) -> str:
    """kontakt.<name>@example.org: demo contacts never reach a real person."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return f"kontakt.{re.sub(r'[^a-z0-9]+', '-', ascii_name.lower()).strip('-')}@example.org"

@click.group("orgs", cls=AppGroup)
def orgs_cli() -> None:
    """The organisation register."""

@orgs_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--demo-contacts", is_flag=True, help="Give rows without contact an example.org address.")
@click.option("--dry-run", is_flag=True, help="Check the file and report; import nothing.")
def import_command(path: Path, demo_contacts: bool, dry_run: bool) -> None:
    """Import organisations from a CSV or XLSX file (name,type,contact_name,contact_email).

    Nothing is imported when any row is rejected; the report says which rows and why.
    """
    try:
        rows = read_file(path)
    except FileProblem as problem:
        raise click.ClickException(f"{path}: {problem}") from None
    if demo_contacts:
        for row in rows:
            row["contact_email"] = row.get("contact_email") or demo_email(row.get("name") or "")
    report = check_rows(rows)
    for rejected in report.rejected:
        name = CONTROL.sub("?", _text(rejected.row, "name")) or "(no name)"  # no escape sequences to the terminal
        click.echo(f"{path}:{rejected.line}: {name}: {rejected.reason}", err=True)
    if report.rejected:
        raise click.ClickException(f"{len(report.rejected)} rows rejected; nothing was imported.")
    if dry_run:
        click.echo(f"{len(report.accepted)} organisations would be imported (dry run: nothing imported).")
        return
    add_organisations(report.accepted)
    audit("organisations_import", target=path.name, actor="system", count=len(report.accepted))
    db.session.commit()
    click.echo(f"Imported {len(report.accepted)} organisations.")

def init_app(app: Flask) -> None:
    app.extensions["formsvc_register"] = {}
    for change in ("after_insert", "after_update", "after_delete"):
        if not sa.event.contains(Organisation, change, _note_register_change):
            sa.event.listen(Organisation, change, _note_register_change)
    if not sa.event.contains(sa.orm.Session, "after_commit", _forget_register):
        sa.event.listen(sa.orm.Session, "after_commit", _forget_register)
    app.cli.add_command(orgs_cli)
