"""Broken register files get the import's clear report, on the upload page and from `formsvc orgs import`.

Each bad file is made here: CSV text, or an XLSX whose parts are rewritten with zipfile. Whatever the file,
the answer is a 422 page or a command that exits with a message, and nothing is imported."""

from __future__ import annotations

import io
import json
import re
import zipfile
from html import unescape

import pytest
import sqlalchemy as sa
from helpers import csrf_token, text_of
from openpyxl import Workbook

from formsvc.extensions import db
from formsvc.models import Organisation

SHEET = "xl/worksheets/sheet1.xml"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
HEADING = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>name</t></is></c>'
    '<c r="B1" t="inlineStr"><is><t>type</t></is></c>'
    '<c r="C1" t="inlineStr"><is><t>contact_email</t></is></c></row>'
)
GOOD_ROW = (
    '<row r="2"><c r="A2" t="inlineStr"><is><t>Sala kommun</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t>kommun</t></is></c>'
    '<c r="C2" t="inlineStr"><is><t>sala@example.org</t></is></c></row>'
)


def workbook_bytes() -> bytes:
    """A good XLSX written by openpyxl: a heading row only."""
    workbook = Workbook()
    workbook.active.append(["name", "type", "contact_email"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xlsx_with(parts: dict[str, bytes | str]) -> bytes:
    """A good XLSX with some parts replaced or added."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, parts.get(name, source.read(name)))
        for name, content in parts.items():
            if name not in source.namelist():
                archive.writestr(name, content)
    return out.getvalue()


def sheet(rows: str, dimension: str = "") -> str:
    return f'<worksheet xmlns="{MAIN}">{dimension}<sheetData>{HEADING}{rows}</sheetData></worksheet>'


def zip_bomb() -> bytes:
    """30 MB of zeros (well over the unpacked limit), compressed to some tens of kB."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook_bytes())) as source, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in source.namelist():
            archive.writestr(name, source.read(name))
        archive.writestr("xl/media/padding.bin", b"\0" * 30 * 1024 * 1024)
    return out.getvalue()


# (file name, bytes, what the report says). Bad input, one file each:
BROKEN = {
    "csv_field_over_the_csv_limit": (
        "register.csv", ("name,type\nSala kommun,kommun\n\"" + "x" * 200_000 + "\",kommun\n").encode(),
        "Rad 3 kunde inte läsas",
    ),
    "csv_unclosed_quote_to_the_end": ("register.csv", b'name,type\n"' + b"x" * 300_000, "Rad 2 kunde inte läsas"),
    # Without a <dimension>, openpyxl reads the whole sheet to find it when it opens the file.
    "xlsx_sheet_xml_not_well_formed": (
        "register.xlsx", xlsx_with({SHEET: sheet(GOOD_ROW + '<row r="3"><c r="A3"><v>1</v></row>')}),
        "kunde inte läsas som en Excel-fil",
    ),
    "xlsx_sheet_xml_not_well_formed_after_its_dimension": (
        "register.xlsx",
        xlsx_with({SHEET: sheet(GOOD_ROW + '<row r="3"><c r="A3"><v>1</v></row>', '<dimension ref="A1:C3"/>')}),
        "Excel-filen är skadad: rad 3 kunde inte läsas",
    ),
    "xlsx_shared_string_index_that_does_not_exist": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="A2" t="s"><v>99</v></c></row>')}),
        "Excel-filen är skadad: rad 2 kunde inte läsas",
    ),
    "xlsx_shared_string_index_not_a_number": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="A2" t="s"><v>x</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_cell_reference_backwards": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="2A"><v>1</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_cell_reference_past_the_last_column": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="ZZZZ2"><v>1</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_row_number_not_a_number": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="x"><c><v>1</v></c></row>')}), "Excel-filen är skadad",
    ),
    "xlsx_number_that_is_not_one": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="A2"><v>abc</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_number_infinity": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="A2"><v>inf</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_date_that_is_not_one": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="A2" t="d"><v>den 32 maj</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_boolean_that_is_not_one": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row r="2"><c r="A2" t="b"><v>ja</v></c></row>')}),
        "Excel-filen är skadad",
    ),
    "xlsx_workbook_xml_not_well_formed": (
        "register.xlsx", xlsx_with({"xl/workbook.xml": "<workbook"}), "kunde inte läsas som en Excel-fil",
    ),
    "xlsx_styles_xml_not_well_formed": (
        "register.xlsx", xlsx_with({"xl/styles.xml": "<styleSheet><numFmts>"}), "kunde inte läsas som en Excel-fil",
    ),
    "xlsx_zip_bomb": ("register.xlsx", zip_bomb(), "för stor när den packas upp"),
    "xlsx_200_000_rows": (
        "register.xlsx", xlsx_with({SHEET: sheet('<row><c><v>1</v></c><c><v>2</v></c></row>' * 200_000)}),
        "fler än 5000 rader",
    ),
    "xlsx_200_000_rows_declared": (
        "register.xlsx",
        xlsx_with({SHEET: sheet('<row><c><v>1</v></c></row>' * 200_000, '<dimension ref="A1:XFD200001"/>')}),
        "fler än 5000 rader",
    ),
    # Reading stops at the row limit: what comes after it is never read, broken or not.
    "xlsx_broken_after_the_row_limit": (
        "register.xlsx",
        xlsx_with({SHEET: sheet('<row><c><v>1</v></c></row>' * 6000 + '<row><c r="A9000"><v>1</v></row>',
                                '<dimension ref="A1:C9000"/>')}),
        "fler än 5000 rader",
    ),
    "csv_broken_after_the_row_limit": (
        "register.csv", b"name,type\n" + b"x,kommun\n" * 6000 + b'"' + b"x" * 300_000, "fler än 5000 rader",
    ),
    "csv_200_000_rows": ("register.csv", b"name,type\n" + b"x,kommun\n" * 200_000, "fler än 5000 rader"),
}


def organisation_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Organisation.id)))


def upload(client, filename: str, data: bytes):
    token = csrf_token(client, "/staff/organisations/import")
    return client.post(
        "/staff/organisations/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_upload_gets_a_clear_report(app, staff_client, case):
    filename, data, message = BROKEN[case]
    response = upload(staff_client, filename, data)
    assert response.status_code == 422, response.status_code
    assert "Filen kunde inte läsas in" in text_of(response) and message in text_of(response)
    assert organisation_count(app) == 0


@pytest.mark.parametrize("case", BROKEN)
def test_a_broken_file_stops_the_command_with_a_message(app, runner, tmp_path, case):
    filename, data, message = BROKEN[case]
    path = tmp_path / filename
    path.write_bytes(data)
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a message, not a traceback
    assert message in result.output
    assert organisation_count(app) == 0


def test_a_declared_width_of_16_384_columns_does_not_pad_every_row(app, staff_client):
    """Bad input: a sheet declaring A1:XFD5000 with its columns far apart; the first columns still read."""
    rows = GOOD_ROW + '<row r="3"><c r="XFD3"><v>1</v></c></row>'
    response = upload(staff_client, "register.xlsx", xlsx_with({SHEET: sheet(rows, '<dimension ref="A1:XFD3"/>')}))
    assert response.status_code == 200 and "Sala kommun" in text_of(response)


CONTROL_CSV = (
    "name,type,contact_name,contact_email\n"
    "Sala kommun,kommun,Alex,alex@example.org\n"
    "Köping\x1b[2Jkommun,kommun,Robin,robin@example.org\n"  # line 3: an escape sequence in the name
    "Arboga kommun,kommun,Kim\x07,kim@example.org\n"  # line 4: a bell in the contact's name
)


def test_control_characters_are_refused_naming_the_row(app, staff_client, runner, tmp_path):
    response = upload(staff_client, "register.csv", CONTROL_CSV.encode())
    assert response.status_code == 422
    table = re.findall(r"<tr><td class=\"number\">(\d+)</td><td>.*?</td><td>(.*?)</td></tr>",
                       response.get_data(as_text=True))
    assert [(line, "styrtecken" in reason) for line, reason in table] == [("3", True), ("4", True)]

    path = tmp_path / "register.csv"
    path.write_text(CONTROL_CSV, encoding="utf-8")
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3: Köping?[2Jkommun: innehåller ett styrtecken" in result.output
    assert f"{path}:4: Arboga kommun: innehåller ett styrtecken" in result.output
    assert "\x1b" not in result.output  # the terminal gets no escape sequence
    assert organisation_count(app) == 0


def test_control_characters_in_a_returned_preview_are_refused(app, staff_client):
    """Bad input: the preview's rows sent back with NUL and ESC in them (JSON escapes pass the NUL check)."""
    rows = [{"name": "Sala\u0000kommun", "type": "kommun", "contact_email": "sala@example.org", "_line": 2},
            {"name": "Köping kommun", "type": "kommun", "contact_email": "k\u001b@example.org", "_line": 3}]
    token = csrf_token(staff_client, "/staff/organisations/import")
    response = staff_client.post("/staff/organisations/import/confirm",
                                 data={"csrf_token": token, "rows": json.dumps(rows), "filename": "x.csv"})
    assert response.status_code == 422
    assert unescape(text_of(response)).count("innehåller ett styrtecken") == 2
    assert organisation_count(app) == 0


def test_the_command_refuses_a_file_over_the_upload_limit(make_app, tmp_path):
    """Bad input: a 2 MB register file to a service whose upload limit is 1 MB."""
    app = make_app(FORMSVC_UPLOAD_MAX_BYTES=1024 * 1024)
    path = tmp_path / "register.csv"
    path.write_bytes(b"name,type\n" + b"Sala kommun,kommun\n" * 110_000)
    result = app.test_cli_runner().invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 1 and "Filen är för stor (högst 1 MB)" in result.output
    assert organisation_count(app) == 0
