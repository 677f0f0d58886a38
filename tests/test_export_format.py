"""Every spreadsheet opens ready to use: columns as wide as their headers (at most 50 characters), the
header row frozen, an autofilter over the list, and times as date cells shown as 2026-12-01 19:28.

Each export is downloaded as staff download it and re-read with openpyxl. The bad output these tests
refuse is what the exports gave before: default 8.43-character columns under long Swedish headers, no
frozen row or filter, the live vote's opening and closing times as text, and a CSV Content-Type that said
"charset=utf-8" twice.
"""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from helpers import csrf_token, open_to_all, submit
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from test_live import start_round, vote

from formsvc.answers import INVITATION, store_answer
from formsvc.catalog import catalog
from formsvc.export import MAX_WIDTH
from formsvc.extensions import db
from formsvc.models import Organisation, name_key, utcnow
from formsvc.newsletter.models import Subscription

DATE_TIME = "yyyy-mm-dd hh:mm"


def workbook(response):
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.data))


def assert_ready_list(sheet, date_columns: tuple[str, ...] = (), rows_at_least: int = 0) -> None:
    """Header widths (capped), frozen header, autofilter over every row; the named columns hold date cells."""
    header = [cell.value for cell in sheet[1]]
    assert header and all(header), f"{sheet.title}: the first row is the header"
    assert sheet.freeze_panes == "A2", f"{sheet.title}: header row not frozen"
    last = get_column_letter(len(header))
    assert sheet.auto_filter.ref == f"A1:{last}{sheet.max_row}", f"{sheet.title}: no filter over the list"
    assert sheet.max_row - 1 >= rows_at_least, f"{sheet.title}: {sheet.max_row - 1} rows"
    for index, text in enumerate(header, start=1):
        width = sheet.column_dimensions[get_column_letter(index)].width
        assert min(len(text), MAX_WIDTH) <= width <= MAX_WIDTH, f"{sheet.title}: column {text!r} is {width} wide"
    for name in date_columns:
        column = header.index(name) + 1
        cells = [row[0] for row in sheet.iter_rows(min_row=2, min_col=column, max_col=column) if row[0].value]
        assert cells, f"{sheet.title}: no {name} to check"
        for cell in cells:
            assert isinstance(cell.value, datetime), f"{sheet.title}: {name} {cell.value!r} is not a date cell"
            assert cell.number_format == DATE_TIME, f"{sheet.title}: {name} shown as {cell.number_format}"


def test_the_answers_export_is_a_ready_list(app, client, staff_client):
    """A long question label (the ranking's places) gets a wide column, capped at 50."""
    open_to_all(app)
    for ranking in (["folkhalsa", "barnratt", "demokrati"], ["demokrati", "folkhalsa", "barnratt"]):
        assert submit(client, "prioritering", {"prioriteringar": ranking}).status_code == 303
    book = workbook(staff_client.get("/staff/forms/prioritering/export.xlsx"))
    assert_ready_list(book["Svar"], date_columns=("Inskickat",), rows_at_least=2)
    summary = book["Sammanfattning"]  # blocks, each with its own header: frozen title and widths, no filter
    assert summary.freeze_panes == "A2" and summary.column_dimensions["A"].width == MAX_WIDTH
    exported = [row for row in summary.iter_rows(max_row=3) if row[0].value == "Exporterad"][0][1]
    assert isinstance(exported.value, datetime) and exported.number_format == DATE_TIME


def test_the_nomination_export_and_who_has_not_answered_are_ready_lists(app, staff_client):
    with app.app_context():
        sala = Organisation(name="Sala kommun", name_key=name_key("Sala kommun"), type="kommun",
                            contact_name="Kim Kontakt", contact_email="kommun@example.org")
        arboga = Organisation(name="Arboga kommun", name_key=name_key("Arboga kommun"), type="kommun",
                              contact_email="arboga@example.org")
        db.session.add_all([sala, arboga])
        db.session.commit()
        sala_id = sala.id
    token = csrf_token(staff_client)
    assert staff_client.post("/staff/invitations/nominering/create",
                             data={"csrf_token": token, "all": "1"}).status_code == 303
    with app.test_request_context():
        sala = db.session.get(Organisation, sala_id)
        answers = {"organisation": "Sala kommun", "ledamot_namn": "Kim Ledamot", "ledamot_epost": "kim@example.org",
                   "ersattare_namn": "Robin Ersättare", "ersattare_epost": "robin@example.org", "mandat": True}
        store_answer(catalog().get("nominering"), answers, "format-1", organisation=sala, source=INVITATION)

    book = workbook(staff_client.get("/staff/forms/nominering/export.xlsx"))
    assert_ready_list(book["Svar"], date_columns=("Inskickat",), rows_at_least=1)
    assert_ready_list(book["Ej svarat"], rows_at_least=1)

    roster = workbook(staff_client.get("/staff/roster.xlsx"))
    assert_ready_list(roster["Rådet"], date_columns=("Nominerad",), rows_at_least=2)
    assert_ready_list(roster["Har inte nominerat"], rows_at_least=1)


def test_the_live_vote_export_has_date_cells_and_a_ready_ranking(app, staff_client):
    """The round's opening and closing times were text ("2026-12-01 19:28"); now they are dates."""
    round_id, code = start_round(app, staff_client)
    assert vote(app.test_client(), code, ["folkhalsa", "integration", "barnratt"]).status_code == 303
    token = csrf_token(staff_client, f"/staff/live/{round_id}")
    staff_client.post(f"/staff/live/{round_id}/stang", data={"csrf_token": token})
    book = workbook(staff_client.get(f"/staff/live/{round_id}/resultat.xlsx"))
    assert_ready_list(book["Resultat"], rows_at_least=3)
    facts = book["Omröstning"]
    assert_ready_list(facts)
    times = {row[0].value: row[1] for row in facts.iter_rows(min_row=2)}
    for name in ("Öppnad", "Stängd"):
        assert isinstance(times[name].value, datetime), f"{name}: {times[name].value!r}"
        assert times[name].number_format == DATE_TIME


def test_the_subscriber_export_is_a_ready_list(app, staff_client):
    with app.app_context():
        db.session.add(Subscription(email="bekraftad@example.org", name="Sam Exempel", status="confirmed",
                                    confirmed_at=utcnow(), source_form="nyhetsbrev", consent_version="1"))
        db.session.commit()
    book = workbook(staff_client.get("/staff/newsletter/export.xlsx"))
    assert_ready_list(book["Prenumeranter"], date_columns=("Bekräftad", "Anmäld"), rows_at_least=1)


@pytest.mark.parametrize("path", ["/staff/forms/prioritering/export.csv", "/staff/newsletter/export.csv"])
def test_the_csv_content_type_says_its_charset_once(staff_client, path):
    response = staff_client.get(path)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
