"""The organisation register: import from CSV and XLSX (command and upload page), add and edit by staff."""

from __future__ import annotations

import io
import re
from html import unescape

import pytest
import sqlalchemy as sa
from helpers import csrf_token, hidden_values, text_of
from openpyxl import Workbook

from formsvc.extensions import db
from formsvc.models import Organisation, name_key

GOOD_CSV = (
    "name,type,contact_name,contact_email\n"
    "Västerås stad,kommun,Kim Exempel,kim@example.org\n"
    "Region Västmanland,Region,,region@example.org\n"  # a type's label is fine, in any case
    "Röda Korset Västmanland,civilsamhälle,Sam,sam@example.org\n"
)
BAD_CSV = (
    "name,type,contact_name,contact_email\n"
    "Sala kommun,kommun,Alex,alex@example.org\n"  # line 2: good
    "Sala  KOMMUN,kommun,Alex,alex2@example.org\n"  # line 3: the same name twice in the file
    "Köpings kommun,kommun,Robin,\n"  # line 4: no e-mail
    "Skogsbolaget,skogsbruk,Ola,ola@example.org\n"  # line 5: unknown type
    "Befintlig förening,annan,Eva,eva@example.org\n"  # line 6: already in the register
    "Fel adress AB,naringsliv,Per,per-at-example.org\n"  # line 7: not an e-mail address
)


def organisation_names(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Organisation.name).order_by(Organisation.name)))


def add(app, name: str, kind: str = "annan", email: str = "finns@example.org") -> None:
    with app.app_context():
        db.session.add(Organisation(name=name, name_key=name_key(name), type=kind, contact_email=email))
        db.session.commit()


def xlsx_bytes(rows: list[list]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, filename: str, data: bytes):
    token = csrf_token(client, "/staff/organisations/import")
    return client.post(
        "/staff/organisations/import",
        data={"csrf_token": token, "file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


# --- the command -------------------------------------------------------------------------------------------------


def test_command_imports_good_rows(app, runner, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text(GOOD_CSV, encoding="utf-8")
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 organisations" in result.output
    assert organisation_names(app) == ["Region Västmanland", "Röda Korset Västmanland", "Västerås stad"]
    with app.app_context():
        region = db.session.scalar(sa.select(Organisation).filter_by(name="Region Västmanland"))
        assert (region.type, region.contact_name, region.contact_email) == ("region", None, "region@example.org")


def test_command_reports_every_bad_row_and_imports_nothing(app, runner, tmp_path):
    add(app, "Befintlig förening")
    path = tmp_path / "register.csv"
    path.write_text(BAD_CSV, encoding="utf-8")
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 1
    output = result.output
    assert f"{path}:3: Sala  KOMMUN: finns flera gånger i filen" in output
    assert f"{path}:4: Köpings kommun: e-postadress saknas" in output
    assert f"{path}:5: Skogsbolaget: okänd typ 'skogsbruk'" in output
    assert f"{path}:6: Befintlig förening: finns redan i registret" in output
    assert f"{path}:7: Fel adress AB: ogiltig e-postadress 'per-at-example.org'" in output
    assert ":2:" not in output
    assert "5 rows rejected; nothing was imported" in output
    assert organisation_names(app) == ["Befintlig förening"]  # not even the good row


def test_command_reads_xlsx_with_swedish_headings(app, runner, tmp_path):
    path = tmp_path / "register.xlsx"
    path.write_bytes(xlsx_bytes([
        ["Namn", "Typ", "Kontaktperson", "E-post"],
        ["Arbetsförmedlingen", "Statlig myndighet", "Kim", "kim@example.org"],
        [None, None, None, None],  # a blank line is not a row
        ["Mälardalens företag", "Företag", None, "info@example.org"],
    ]))
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        types = dict(db.session.execute(sa.select(Organisation.name, Organisation.type)).all())
    assert types == {"Arbetsförmedlingen": "myndighet", "Mälardalens företag": "naringsliv"}


def test_command_refuses_a_file_that_is_not_a_register(app, runner, tmp_path):
    path = tmp_path / "register.csv"
    path.write_text("organisationsnummer;ort\n1;Västerås\n", encoding="utf-8")
    result = runner.invoke(args=["orgs", "import", str(path)])
    assert result.exit_code == 1 and "kolumnrubrikerna name och type" in result.output
    assert organisation_names(app) == []


# --- the upload page ----------------------------------------------------------------------------------------------


def test_upload_shows_a_preview_and_imports_only_when_confirmed(app, staff_client):
    preview = upload(staff_client, "register.csv", GOOD_CSV.encode())
    assert preview.status_code == 200
    page = text_of(preview)
    assert "3 organisationer kan läsas in" in page and "Västerås stad" in page and "Region" in page
    assert organisation_names(app) == []  # a preview imports nothing

    confirm = hidden_values(preview.get_data(as_text=True))
    rows = re.search(r'name="rows" type="hidden" value="([^"]*)"', preview.get_data(as_text=True))
    assert rows
    done = staff_client.post("/staff/organisations/import/confirm", data={
        "csrf_token": confirm["csrf_token"], "rows": unescape(rows.group(1)), "filename": "register.csv",
    })
    assert done.status_code == 303
    assert "3 organisationer är inlästa" in text_of(staff_client.get(done.headers["Location"]))
    assert organisation_names(app) == ["Region Västmanland", "Röda Korset Västmanland", "Västerås stad"]


def test_upload_with_bad_rows_reports_them_and_offers_no_import(app, staff_client):
    add(app, "Befintlig förening")
    # Excel in Sweden saves CSV with semicolons, in Windows-1252.
    data = BAD_CSV.replace(",", ";").encode("cp1252")
    response = upload(staff_client, "register.csv", data)
    assert response.status_code == 422
    page = text_of(response)
    assert "5 rader kan inte läsas in. Ingenting har lästs in." in page
    for row in ["3 Sala KOMMUN finns flera gånger i filen", "4 Köpings kommun e-postadress saknas",
                "5 Skogsbolaget okänd typ 'skogsbruk'", "6 Befintlig förening finns redan i registret",
                "7 Fel adress AB ogiltig e-postadress 'per-at-example.org'"]:
        assert row in page, row
    assert "/staff/organisations/import/confirm" not in response.get_data(as_text=True)
    assert organisation_names(app) == ["Befintlig förening"]


def test_confirming_after_the_register_changed_imports_nothing(app, staff_client):
    preview = upload(staff_client, "register.xlsx", xlsx_bytes([
        ["name", "type", "contact_email"], ["Ny förening", "civilsamhalle", "ny@example.org"],
        ["Annan förening", "civilsamhalle", "annan@example.org"],
    ]))
    assert preview.status_code == 200
    html = preview.get_data(as_text=True)
    rows = unescape(re.search(r'name="rows" type="hidden" value="([^"]*)"', html).group(1))
    add(app, "NY FÖRENING")  # someone else added it meanwhile
    again = staff_client.post("/staff/organisations/import/confirm", data={
        "csrf_token": hidden_values(html)["csrf_token"], "rows": rows, "filename": "register.xlsx",
    })
    assert again.status_code == 422 and "finns redan i registret" in text_of(again)
    assert organisation_names(app) == ["NY FÖRENING"]


@pytest.mark.parametrize(
    ("filename", "data", "message"),
    [
        ("register.pdf", b"%PDF-1.4", "måste vara en CSV- eller XLSX-fil"),
        ("register.xlsx", b"not a zip file at all", "kunde inte läsas som en Excel-fil"),
        ("register.csv", b"", "Filen är tom"),
        ("register.csv", b"foo,bar\n1,2\n", "kolumnrubrikerna name och type"),
    ],
)
def test_an_unreadable_upload_gets_a_clear_message(app, staff_client, filename, data, message):
    response = upload(staff_client, filename, data)
    assert response.status_code == 422
    assert message in text_of(response)
    assert organisation_names(app) == []


def test_an_upload_without_a_file_is_refused(staff_client):
    token = csrf_token(staff_client, "/staff/organisations/import")
    response = staff_client.post("/staff/organisations/import", data={"csrf_token": token},
                                 content_type="multipart/form-data")
    assert response.status_code == 422 and "Välj en fil" in text_of(response)


def test_a_tampered_preview_is_refused(staff_client):
    token = csrf_token(staff_client, "/staff/organisations/import")
    response = staff_client.post("/staff/organisations/import/confirm",
                                 data={"csrf_token": token, "rows": "{not json", "filename": "x.csv"})
    assert response.status_code == 400 and "Läs in filen igen" in text_of(response)


# --- add and edit ---------------------------------------------------------------------------------------------------


def test_staff_add_an_organisation_with_the_same_checks(app, staff_client):
    add(app, "Västerås stad", "kommun")
    token = csrf_token(staff_client, "/staff/organisations/new")
    form = {"csrf_token": token, "name": " västerås  STAD ", "type": "kommun", "contact_email": "a@example.org"}
    duplicate = staff_client.post("/staff/organisations/new", data=form)
    assert duplicate.status_code == 422 and "Finns redan i registret." in text_of(duplicate)

    missing = staff_client.post("/staff/organisations/new", data={**form, "name": "Sala kommun", "contact_email": ""})
    assert missing.status_code == 422 and "E-postadress saknas." in text_of(missing)
    assert 'value="Sala kommun"' in missing.get_data(as_text=True)  # what was typed stays

    unknown = staff_client.post("/staff/organisations/new", data={**form, "name": "Sala kommun", "type": "hittepå"})
    assert unknown.status_code == 422 and "Okänd typ 'hittepå'" in text_of(unknown)

    added = staff_client.post("/staff/organisations/new", data={**form, "name": "Sala kommun"})
    assert added.status_code == 303
    listing = text_of(staff_client.get(added.headers["Location"]))
    assert "Sala kommun är tillagd i registret" in listing and "a@example.org" in listing
    assert organisation_names(app) == ["Sala kommun", "Västerås stad"]


def test_staff_edit_an_organisation(app, staff_client):
    add(app, "Västerås stad", "kommun")
    add(app, "Sala kommun", "kommun", "sala@example.org")
    with app.app_context():
        sala = db.session.scalar(sa.select(Organisation.id).filter_by(name="Sala kommun"))
    path = f"/staff/organisations/{sala}/edit"
    token = csrf_token(staff_client, path)
    form = {"csrf_token": token, "name": "Sala kommun", "type": "kommun", "contact_name": "Ny Kontakt",
            "contact_email": "ny@example.org"}
    taken = staff_client.post(path, data={**form, "name": "VÄSTERÅS STAD"})
    assert taken.status_code == 422 and "Finns redan i registret." in text_of(taken)
    assert staff_client.post(path, data=form).status_code == 303  # its own name is no duplicate
    with app.app_context():
        organisation = db.session.get(Organisation, sala)
        assert (organisation.contact_name, organisation.contact_email) == ("Ny Kontakt", "ny@example.org")
    assert staff_client.get("/staff/organisations/999999/edit").status_code == 404


def test_register_pages_need_login(client):
    for path in ("/staff/organisations", "/staff/organisations/new", "/staff/organisations/import"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_register_list_filters_by_type(app, staff_client):
    add(app, "Västerås stad", "kommun")
    add(app, "Region Västmanland", "region")
    page = text_of(staff_client.get("/staff/organisations?type=region"))
    assert "Region Västmanland" in page and "Västerås stad" not in page
