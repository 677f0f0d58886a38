"""Nobody replaces another organisation's nominees: an open-link answer to the nomination waits for staff.

The attack tried here: a stranger opens /f/nominering with no personal link, names an invited organisation
that has already answered (spelled oddly: case, spaces), and nominates people of their own choosing.
"""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from helpers import csrf_token, flush_mail, personal_link_client, submit, text_of
from openpyxl import load_workbook

from formsvc.audit import AuditEvent
from formsvc.extensions import db
from formsvc.models import Organisation, Response, name_key

ORGANISATIONS = {"Arboga kommun": "kommun", "Region Västmanland": "region"}


def nomination(organisation: str, person: str, **changes) -> dict:
    return {
        "organisation": organisation,
        "ledamot_namn": f"{person} Ledamot",
        "ledamot_befattning": "Kommundirektör",
        "ledamot_epost": f"{person.lower()}.ledamot@example.org",
        "ersattare_namn": f"{person} Ersättare",
        "ersattare_befattning": "Biträdande kommundirektör",
        "ersattare_epost": f"{person.lower()}.ersattare@example.org",
        "mandat": "y",
        "kommentar": f"{person}: vegetarisk kost",
        **changes,
    }


@pytest.fixture
def round_with_answer(app, staff_client, smtp):
    """Both organisations invited; Arboga has nominated "Riktig" through its personal link; mail sent."""
    with app.app_context():
        for name, kind in ORGANISATIONS.items():
            db.session.add(Organisation(name=name, name_key=name_key(name), type=kind,
                                        contact_email=f"{kind}@example.org"))
        db.session.commit()
    assert staff_client.post("/staff/invitations/nominering/create",
                             data={"csrf_token": csrf_token(staff_client), "all": "1"}).status_code == 303
    arboga = personal_link_client(app, "nominering", "Arboga kommun")
    assert submit(arboga, "nominering", nomination("Arboga kommun", "Riktig")).status_code == 303
    flush_mail(app)
    smtp.clear()
    return arboga


def roster_people(staff_client) -> list[tuple]:
    book = load_workbook(io.BytesIO(staff_client.get("/staff/roster.xlsx").data))
    return sorted(row[:4] for row in list(book["Rådet"].iter_rows(values_only=True))[1:])


def answers_of(app, name: str = "Arboga kommun") -> list[Response]:
    with app.app_context():
        rows = list(db.session.scalars(
            sa.select(Response).filter_by(form_slug="nominering", organisation_name=name).order_by(Response.id)
        ))
        db.session.expunge_all()
        return rows


def stranger_nominates(app, spelling: str, person: str = "Falsk"):
    """An anonymous browser on the open link names the organisation as `spelling`; returns the receipt page."""
    stranger = app.test_client()
    sent = submit(stranger, "nominering", nomination(spelling, person))
    assert sent.status_code == 303
    return stranger.get(sent.headers["Location"])


def pending_reference(app) -> str:
    [pending] = [r for r in answers_of(app) if r.review == "pending"]
    return pending.reference


def decide(staff_client, reference: str, decision: str):
    return staff_client.post(f"/staff/invitations/nominering/answers/{reference}/{decision}",
                             data={"csrf_token": csrf_token(staff_client)})


@pytest.mark.parametrize("spelling", ["arboga   KOMMUN", " Arboga kommun ", "ARBOGA KOMMUN", "Arboga Kommun"])
def test_an_open_link_answer_for_an_answered_organisation_changes_nothing(
    app, staff_client, smtp, round_with_answer, spelling
):
    before_roster = roster_people(staff_client)
    before_export = staff_client.get("/staff/forms/nominering/export.csv").get_data(as_text=True)

    receipt = text_of(stranger_nominates(app, spelling))
    assert "gäller det först när sekretariatet har kontrollerat det" in receipt

    # The answer is kept, for Arboga, flagged, and not current.
    real, fake = answers_of(app)
    assert real.is_current and real.source == "invitation"
    assert not fake.is_current and fake.review == "pending" and fake.source == "open"
    assert fake.organisation_id == real.organisation_id

    # The roster page, its XLSX and the form's export are as they were.
    assert roster_people(staff_client) == before_roster
    page = text_of(staff_client.get("/staff/roster"))
    assert "Riktig Ledamot" in page and "Falsk" not in page
    assert "1 svar via öppen länk väntar på granskning" in page
    after_export = staff_client.get("/staff/forms/nominering/export.csv").get_data(as_text=True)
    assert after_export == before_export and "Falsk" not in after_export

    # Behind Arboga's personal link the real answer is what is filled in.
    form = round_with_answer.get("/f/nominering").get_data(as_text=True)
    assert 'value="Riktig Ledamot"' in form and "Falsk" not in form

    # No "Du är nominerad" mail to the stranger's addresses; only the secretariat hears of it.
    flush_mail(app)
    assert smtp.to("falsk.ledamot@example.org") == [] and smtp.to("falsk.ersattare@example.org") == []
    assert [m["To"] for m in smtp.messages] == ["sekretariat@example.org"]

    # Staff see it on the round's page, flagged.
    round_page = text_of(staff_client.get("/staff/invitations/nominering"))
    assert "1 svar via öppen länk väntar på granskning" in round_page
    assert "via öppen länk, ej bekräftad" in round_page


def test_an_open_link_answer_for_an_organisation_without_answer_does_not_count_either(app, staff_client, smtp,
                                                                                     round_with_answer):
    stranger_nominates(app, "region västmanland")
    [fake] = answers_of(app, "Region Västmanland")
    assert not fake.is_current and fake.review == "pending"
    missing = text_of(staff_client.get("/staff/roster")).split("Har inte nominerat")[1]
    assert "Region Västmanland" in missing
    flush_mail(app)
    assert [m["To"] for m in smtp.messages] == ["sekretariat@example.org"]


def test_staff_accept_makes_it_current_and_the_people_get_their_mail_once(app, staff_client, smtp,
                                                                         round_with_answer):
    stranger_nominates(app, "arboga kommun", "Ny")
    flush_mail(app)
    smtp.clear()
    reference = pending_reference(app)

    accepted = decide(staff_client, reference, "accept")
    assert accepted.status_code == 303
    assert f"Svaret {reference} är godkänt och gäller nu för Arboga kommun" in text_of(
        staff_client.get(accepted.headers["Location"]))
    real, new = answers_of(app)
    assert new.is_current and not real.is_current
    assert (new.review, new.reviewed_by) == ("accepted", "handlaggare@example.org")

    assert ("Arboga kommun", "Kommun", "Ordinarie ledamot", "Ny Ledamot") in roster_people(staff_client)
    assert 'value="Ny Ledamot"' in round_with_answer.get("/f/nominering").get_data(as_text=True)
    flush_mail(app)
    assert sorted(m["To"] for m in smtp.messages) == ["ny.ersattare@example.org", "ny.ledamot@example.org"]

    # A second click (another tab, a resent POST) changes and sends nothing more.
    again = decide(staff_client, reference, "accept")
    assert "väntade inte på granskning" in text_of(staff_client.get(again.headers["Location"]))
    assert flush_mail(app) == (0, 0)

    # Where each answer came from: answer list, export, roster.
    listing = text_of(staff_client.get("/staff/forms/nominering/responses"))
    assert "godkänd av handlaggare@example.org" in listing and "personlig länk" in listing
    csv_text = staff_client.get("/staff/forms/nominering/export.csv").get_data(as_text=True)
    assert "Källa" in csv_text.splitlines()[0] and f"{reference};" in csv_text
    assert "godkänd av handlaggare@example.org" in csv_text
    book = load_workbook(io.BytesIO(staff_client.get("/staff/roster.xlsx").data))
    header, *rows = book["Rådet"].iter_rows(values_only=True)
    assert header[-2:] == ("Övrigt", "Källa")
    assert {row[-2:] for row in rows if row[0] == "Arboga kommun"} == {
        ("Ny: vegetarisk kost", "godkänd av handlaggare@example.org")}
    with app.app_context():
        [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="answer_accepted"))
        assert event.target == reference and event.actor == "handlaggare@example.org"
    assert "Godkänt svar via öppen länk" in text_of(staff_client.get("/staff/audit"))


def test_staff_reject_leaves_it_flagged_and_never_current(app, staff_client, smtp, round_with_answer):
    stranger_nominates(app, "ARBOGA kommun")
    flush_mail(app)
    smtp.clear()
    reference = pending_reference(app)
    before = roster_people(staff_client)

    rejected = decide(staff_client, reference, "reject")
    assert rejected.status_code == 303
    assert "är avvisat" in text_of(staff_client.get(rejected.headers["Location"]))
    real, fake = answers_of(app)
    assert real.is_current and not fake.is_current and fake.review == "rejected"
    assert "väntar på granskning" not in text_of(staff_client.get("/staff/invitations/nominering"))

    # Accepting it later does nothing: a rejected answer never becomes current.
    decide(staff_client, reference, "accept")
    assert not answers_of(app)[1].is_current
    assert roster_people(staff_client) == before
    assert flush_mail(app) == (0, 0)
    history = text_of(staff_client.get(f"/staff/invitations/nominering/organisations/{real.organisation_id}"))
    assert "avvisat" in history and "avvisad av handlaggare@example.org" in history
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AuditEvent.id)).filter_by(action="answer_rejected")) == 1


def test_deleting_the_current_answer_makes_the_previous_accepted_one_current(app, staff_client, smtp,
                                                                            round_with_answer):
    assert submit(round_with_answer, "nominering", nomination("Arboga kommun", "Andra")).status_code == 303
    stranger_nominates(app, "arboga kommun")  # newer, but unreviewed: it must not come back instead
    first, second, fake = answers_of(app)
    assert second.is_current and not first.is_current

    token = csrf_token(staff_client)
    deleted = staff_client.post(f"/staff/forms/nominering/responses/{second.reference}/delete",
                                data={"csrf_token": token})
    assert deleted.status_code == 303
    first, fake = answers_of(app)
    assert first.is_current and fake.review == "pending" and not fake.is_current
    page = text_of(staff_client.get("/staff/roster"))
    assert "Riktig Ledamot" in page
    assert "Arboga kommun" not in page.split("Har inte nominerat")[1]

    # With no accepted answer left, the organisation has not nominated (the pending one still waits).
    staff_client.post(f"/staff/forms/nominering/responses/{first.reference}/delete", data={"csrf_token": token})
    [fake] = answers_of(app)
    assert not fake.is_current and fake.review == "pending"
    assert "Arboga kommun" in text_of(staff_client.get("/staff/roster")).split("Har inte nominerat")[1]


def test_accepting_needs_a_csrf_token(app, staff_client, round_with_answer):
    stranger_nominates(app, "arboga kommun")
    reference = pending_reference(app)
    response = staff_client.post(f"/staff/invitations/nominering/answers/{reference}/accept")  # no token
    assert response.status_code == 400
    assert not answers_of(app)[1].is_current
