"""The council roster: the current nominations per organisation, and who has not nominated; page and XLSX."""

from __future__ import annotations

import io

import sqlalchemy as sa
from helpers import csrf_token, login, personal_link_client, submit, text_of
from openpyxl import load_workbook

from formsvc.answers import store_answer
from formsvc.audit import AuditEvent
from formsvc.catalog import catalog
from formsvc.extensions import db
from formsvc.models import Organisation, name_key
from formsvc.staff.models import StaffUser

ORGANISATIONS = {"Västerås stad": "kommun", "Region Västmanland": "region", "Sala kommun": "kommun"}


def nomination(organisation: str, person: str, **changes) -> dict:
    return {
        "organisation": organisation,
        "ledamot_namn": f"{person} Ledamot",
        "ledamot_befattning": "Kommundirektör",
        "ledamot_epost": f"{person.lower()}.ledamot@example.org",
        "ledamot_telefon": "+46 21 39 00 00",
        "ersattare_namn": f"{person} Ersättare",
        "ersattare_befattning": "Biträdande kommundirektör",
        "ersattare_epost": f"{person.lower()}.ersattare@example.org",
        "mandat": "y",
        **changes,
    }


def setup_round(app, staff_client) -> None:
    """Three organisations invited; Västerås nominates twice (the second replaces), Region once, Sala not at all,
    each through its personal link."""
    with app.app_context():
        for name, kind in ORGANISATIONS.items():
            db.session.add(Organisation(name=name, name_key=name_key(name), type=kind,
                                        contact_email=f"{kind}@example.org"))
        db.session.commit()
    token = csrf_token(staff_client)
    assert staff_client.post("/staff/invitations/nominering/create",
                             data={"csrf_token": token, "all": "1"}).status_code == 303
    visitor = personal_link_client(app, "nominering", "Västerås stad")
    assert submit(visitor, "nominering", nomination("Västerås stad", "Gammal")).status_code == 303
    assert submit(visitor, "nominering", nomination("Västerås stad", "Ny")).status_code == 303
    # A title that a spreadsheet program would run as a formula.
    visitor = personal_link_client(app, "nominering", "Region Västmanland")
    assert submit(visitor, "nominering", nomination("Region Västmanland", "Region",
                                                    ledamot_befattning="=HYPERLINK(\"http://x\")")).status_code == 303


def test_roster_page_lists_the_current_nominations_and_who_is_missing(app, staff_client):
    setup_round(app, staff_client)
    page = text_of(staff_client.get("/staff/roster"))
    assert "2 organisationer har nominerat" in page
    assert "Ny Ledamot" in page and "Ny Ersättare" in page and "Region Ledamot" in page
    assert "Gammal" not in page  # replaced: history, not the roster
    assert "Fast ersättare" in page and "Ordinarie ledamot" in page and "+46 21 39 00 00" in page
    missing = page[page.index("Har inte nominerat"):]
    assert "Sala kommun" in missing and "Västerås stad" not in missing


def test_roster_export_lists_exactly_the_current_nominations(app, staff_client):
    setup_round(app, staff_client)
    response = staff_client.get("/staff/roster.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    council = list(workbook["Rådet"].iter_rows(values_only=True))
    assert council[0][:7] == ("Organisation", "Typ", "Roll", "Namn", "Befattning", "E-post", "Telefon")
    people = sorted(row[:4] for row in council[1:])
    assert people == [
        ("Region Västmanland", "Region", "Fast ersättare", "Region Ersättare"),
        ("Region Västmanland", "Region", "Ordinarie ledamot", "Region Ledamot"),
        ("Västerås stad", "Kommun", "Fast ersättare", "Ny Ersättare"),
        ("Västerås stad", "Kommun", "Ordinarie ledamot", "Ny Ledamot"),
    ]
    # Text that looks like a formula is kept as text, and a phone number's + as well.
    cells = {c.value: c.data_type for row in workbook["Rådet"].iter_rows() for c in row if isinstance(c.value, str)}
    assert cells['=HYPERLINK("http://x")'] == "s" and cells["+46 21 39 00 00"] == "s"
    missing = [row[0] for row in workbook["Har inte nominerat"].iter_rows(min_row=2, values_only=True)]
    assert missing == ["Sala kommun"]
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="export"))
        assert event.target == "nominering" and event.detail["kind"] == "roster.xlsx" and event.detail["rows"] == 4


def test_roster_needs_login(client):
    for path in ("/staff/roster", "/staff/roster.xlsx"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_without_invitations_there_is_no_list_of_who_has_not_nominated(app, staff_client):
    """Organisations in the register, none invited: nobody was asked, so nobody is listed as missing."""
    with app.app_context():
        for name, kind in ORGANISATIONS.items():
            db.session.add(Organisation(name=name, name_key=name_key(name), type=kind))
        db.session.commit()
    page = text_of(staff_client.get("/staff/roster"))
    assert "Inga organisationer är inbjudna" in page and "Sala kommun" not in page
    workbook = load_workbook(io.BytesIO(staff_client.get("/staff/roster.xlsx").data))
    assert workbook.sheetnames == ["Rådet"]


BOARD = """
title: Styrelse
fields:
  - {key: organisation, type: organisation, label: Organisation, required: true}
  - {key: ordf_namn, type: text, label: Ordförande, required: true}
  - {key: ordf_epost, type: email, label: Ordförandens e-post, required: true}
  - {key: sekr_namn, type: text, label: Sekreterare}
  - {key: sekr_epost, type: email, label: Sekreterarens e-post}
  - {key: annat, type: textarea, label: Annat}
roster:
  people:
    - {role: Ordförande, name: ordf_namn, email: ordf_epost}
    - {role: Sekreterare, name: sekr_namn, email: sekr_epost}
  other: annat
"""


def test_the_roster_reads_its_people_and_other_column_from_the_definition(make_app, tmp_path):
    """A form with other keys than nominering's (no ledamot_/ersattare_ prefixes, no kommentar, no titles or
    phones): its `roster:` setting alone decides the rows, roles and the Övrigt column."""
    (tmp_path / "styrelse.yaml").write_text(BOARD, encoding="utf-8")
    app = make_app(FORMSVC_FORMS_DIR=str(tmp_path), FORMSVC_ROSTER_FORM="styrelse")
    with app.app_context():
        organisation = Organisation(name="Sala kommun", name_key=name_key("Sala kommun"), type="kommun")
        db.session.add(organisation)
        db.session.flush()
        answers = {"organisation": "Sala kommun", "ordf_namn": "Alva Ordf", "ordf_epost": "alva@example.org",
                   "annat": "Vegetarisk kost"}
        store_answer(catalog().get("styrelse"), answers, "board-1", organisation=organisation)
        db.session.commit()
    staff_client = app.test_client()
    with app.app_context():
        user = StaffUser(email="roster@example.org")
        user.set_password("ett långt lösenord")
        db.session.add(user)
        db.session.commit()
    login(staff_client, "roster@example.org", "ett långt lösenord")
    page = text_of(staff_client.get("/staff/roster"))
    assert "Ordförande Alva Ordf" in page and "Vegetarisk kost" in page and "Sekreterare" in page
    book = load_workbook(io.BytesIO(staff_client.get("/staff/roster.xlsx").data))
    rows = [[c.value for c in row] for row in book["Rådet"].iter_rows(min_row=2)]
    assert [(r[2], r[3], r[5], r[9]) for r in rows] == [
        ("Ordförande", "Alva Ordf", "alva@example.org", "Vegetarisk kost"),
        ("Sekreterare", None, None, "Vegetarisk kost"),
    ]


def test_a_form_without_a_roster_setting_has_no_roster(make_app, tmp_path, staff_client):
    """Bad input: FORMSVC_ROSTER_FORM naming a form that says nothing about a roster gives 404, not a guess."""
    staff_client.application.config["FORMSVC_ROSTER_FORM"] = "anslutning"
    assert staff_client.get("/staff/roster").status_code == 404
    assert staff_client.get("/staff/roster.xlsx").status_code == 404
