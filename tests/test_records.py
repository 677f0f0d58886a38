"""Registrar copies: every answer to a record form reaches the registrar's mailbox once as a tagged PDF/UA
copy, made by the mail sender after the answer is stored; staff download the copies too."""

from __future__ import annotations

import asyncio
import io
import re
import threading
import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from conftest import Mailbox, free_port
from helpers import csrf_token, flush_mail, login, personal_link_client, submit, text_of
from pypdf import PdfReader

from formsvc import mail as mail_module
from formsvc.audit import AuditEvent
from formsvc.config import resource_dir
from formsvc.definitions import DefinitionError, load_directory, parse_definition
from formsvc.extensions import db
from formsvc.mail import FAILED, PENDING, SENT, OutboxMessage
from formsvc.models import Organisation, Response, name_key
from formsvc.records import registration, staff_views

REGISTRAR = "registrator@example.org"
MONTHS = ["januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober",
          "november", "december"]  # fmt: skip
ORGANISATIONS = {"Arboga kommun": "kommun", "Region Västmanland": "region", "Länsstyrelsen Västmanland": "myndighet"}


def nomination(organisation: str, person: str) -> dict:
    return {
        "organisation": organisation,
        "ledamot_namn": f"{person} Ledamotsson",
        "ledamot_befattning": "Kommundirektör",
        "ledamot_epost": f"{person.lower()}.ledamot@example.org",
        "ledamot_telefon": "021-12 34 56",
        "ersattare_namn": f"{person} Ersättarsson",
        "ersattare_befattning": "Biträdande kommundirektör",
        "ersattare_epost": f"{person.lower()}.ersattare@example.org",
        "mandat": "y",
        "kommentar": f"{person} äter vegetariskt",
    }


# What the receipt shows for each answer above (display_value): the copy must say the same.
def shown(organisation: str, person: str) -> list[str]:
    return [organisation, f"{person} Ledamotsson", "Kommundirektör", f"{person.lower()}.ledamot@example.org",
            "021-12 34 56", f"{person} Ersättarsson", "Biträdande kommundirektör",
            f"{person.lower()}.ersattare@example.org", "Ja", f"{person} äter vegetariskt"]  # fmt: skip


@pytest.fixture
def registrar_app(make_app):
    app = make_app(FORMSVC_REGISTRAR_EMAIL=REGISTRAR)
    with app.app_context():
        for name, kind in ORGANISATIONS.items():
            db.session.add(Organisation(name=name, name_key=name_key(name), type=kind))
        db.session.commit()
    return app


@pytest.fixture
def registrar_staff(registrar_app, staff):
    """Staff signed in to the service that has the registrar's address (the processes of one service share
    their settings)."""
    client = registrar_app.test_client()
    assert login(client, *staff).status_code == 303
    return client


def nominate(app, organisation: str, person: str) -> str:
    """Answer the nomination through the organisation's personal link; returns the answer's reference."""
    browser = personal_link_client(app, "nominering", organisation)
    sent = submit(browser, "nominering", nomination(organisation, person))
    assert sent.status_code == 303
    return sent.headers["Location"].rsplit("/", 1)[-1]


def pdf_text(data: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def registrar_copies(messages) -> list[tuple[str, bytes]]:
    """(subject, PDF) of each mail to the registrar."""
    found = []
    for message in messages:
        if REGISTRAR not in message["To"]:
            continue
        [attachment] = list(message.iter_attachments())
        assert attachment.get_content_type() == "application/pdf"
        found.append((str(message["Subject"]), attachment.get_content()))
    return found


def assert_tagged_pdf_ua(data: bytes) -> None:
    reader = PdfReader(io.BytesIO(data))
    root = reader.trailer["/Root"]
    assert root["/MarkInfo"]["/Marked"].value is True  # tagged
    assert "/StructTreeRoot" in root
    assert root["/Lang"] == "sv"
    xmp = root["/Metadata"].get_object().get_data().decode()
    assert re.search(r'pdfuaid:part(="1"|>1<)', xmp), xmp  # claims PDF/UA-1


# --- The definition -------------------------------------------------------------------------------------------


def test_the_shipped_joining_and_nomination_forms_are_records():
    forms = load_directory(resource_dir("forms"))
    assert forms["nominering"].record
    assert forms["nominering"].record_series == "Nomineringar till Samverkansrådet för social hållbarhet"
    assert forms["anslutning"].record and forms["anslutning"].record_series
    assert not forms["nyhetsbrev"].record


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"record": "ja"}, "'record' must be true or false"),
        ({"record": True}, "'record: true' needs 'record_series'"),
        ({"record": True, "record_series": "   "}, "'record: true' needs 'record_series'"),
        ({"record_series": "Nomineringar"}, "'record_series' is set but 'record' is not true"),
        ({"record": True, "record_series": ["Nomineringar"]}, "'record_series' must be text"),
    ],
)
def test_wrong_record_settings_are_refused_with_the_reason(settings, reason):
    """Bad input: a record flag that is not true/false, a record with no series (or a blank one), a series
    without the flag, a series that is a list."""
    raw = {"title": "Test", "fields": [{"key": "namn", "type": "text", "label": "Namn"}], **settings}
    with pytest.raises(DefinitionError) as refused:
        parse_definition(raw, slug="test", source="forms/test.yaml")
    assert reason in str(refused.value) and "forms/test.yaml" in str(refused.value)


# --- The copy to the registrar ------------------------------------------------------------------------------


def test_a_nomination_reaches_the_registrar_once_as_a_tagged_pdf_ua_with_every_answer(registrar_app, smtp):
    reference = nominate(registrar_app, "Arboga kommun", "Anna")
    with registrar_app.app_context():  # the answer's transaction only marked it: the sender queues the copy
        assert not db.session.scalars(sa.select(OutboxMessage).filter_by(recipient=REGISTRAR)).all()
        assert db.session.scalar(sa.select(Response.integrations_pending).filter_by(reference=reference))
    flush_mail(registrar_app)
    flush_mail(registrar_app)
    [(subject, pdf)] = registrar_copies(smtp.messages)  # exactly once
    assert reference in subject
    assert_tagged_pdf_ua(pdf)
    text = pdf_text(pdf)
    for value in [reference, *shown("Arboga kommun", "Anna")]:
        assert value in text, value
    assert "Nomineringar till Samverkansrådet för social hållbarhet" in text
    assert "Organisationens personliga länk" in text
    with registrar_app.app_context():
        received = db.session.scalar(sa.select(Response.submitted_at).filter_by(reference=reference))
    local = received.astimezone(ZoneInfo("Europe/Stockholm"))
    assert f"Inkommet den {local.day} {MONTHS[local.month - 1]} {local.year} kl. {local:%H.%M}" in text
    assert "Ersätter" not in text  # the organisation's first answer replaces none


def test_a_replacement_says_what_it_replaces_and_an_open_link_answer_that_it_waits(registrar_app, smtp,
                                                                                   staff_client):
    first = nominate(registrar_app, "Arboga kommun", "Anna")
    second = nominate(registrar_app, "Arboga kommun", "Bertil")
    stranger = submit(registrar_app.test_client(), "nominering", nomination("Arboga kommun", "Cecilia"))
    assert stranger.status_code == 303
    flush_mail(registrar_app)
    copies = dict(registrar_copies(smtp.messages))
    assert len(copies) == 3  # every incoming answer is registered, the unreviewed one too
    by_reference = {re.search(r"\w{4}-\w{4}", subject).group(0): pdf_text(pdf) for subject, pdf in copies.items()}
    assert f"Ersätter Svar {first}" in by_reference[second]
    [third] = set(by_reference) - {first, second}
    assert "Formulärets öppna länk" in by_reference[third] and "Väntar på granskning" in by_reference[third]
    assert "Ersätter" not in by_reference[third]

    # Staff accept it: the copy they download now says by whom, and which answer it replaced.
    accepted = staff_client.post(f"/staff/invitations/nominering/answers/{third}/accept",
                                 data={"csrf_token": csrf_token(staff_client)})
    assert accepted.status_code == 303
    download = staff_client.get(f"/staff/forms/nominering/responses/{third}/diariekopia.pdf")
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    text = pdf_text(download.data)
    assert "Godkänt av handlaggare@example.org" in text and f"Ersätter Svar {second}" in text


def test_no_registrar_address_means_no_copy_and_other_forms_send_none(make_app, smtp):
    """Bad input: FORMSVC_REGISTRAR_EMAIL not set; and an answer to a form that is not a record."""
    app = make_app()
    assert submit(app.test_client(), "anslutning", joining("Köping kommun")).status_code == 303
    registrar = make_app(FORMSVC_REGISTRAR_EMAIL=REGISTRAR)
    newsletter = {"epost": "ada@example.org", "samtycke": "y"}
    assert submit(registrar.test_client(), "nyhetsbrev", newsletter).status_code == 303
    flush_mail(app)
    assert smtp.messages and not registrar_copies(smtp.messages)
    with app.app_context():
        copies = sa.select(sa.func.count()).select_from(OutboxMessage).filter_by(template="diariekopia")
        assert db.session.scalar(copies) == 0


def joining(organisation: str) -> dict:
    return {"organisation": organisation, "organisationstyp": "kommun", "kontaktperson": "Eva Ek",
            "epost": "eva.ek@example.org", "fokusomraden": ["makt", "halsa"], "samtycke": "y"}  # fmt: skip


def test_a_joining_answer_is_registered_too(registrar_app, smtp):
    sent = submit(registrar_app.test_client(), "anslutning", joining("Köping kommun"))
    assert sent.status_code == 303
    flush_mail(registrar_app)
    [(subject, pdf)] = registrar_copies(smtp.messages)
    text = pdf_text(pdf)
    assert "Köping kommun" in text and "En jämn fördelning av makt och inflytande; Jämställd hälsa" in text
    assert "Formulärets öppna länk" in text and "Väntar på granskning" not in text  # no review in this form


class SlowMailbox(Mailbox):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        await asyncio.sleep(0.25)
        return await super().handle_DATA(server, session, envelope)


def test_two_senders_send_each_registrar_copy_once(make_app, monkeypatch):
    """Two senders (two apps, as on two hosts) keep sending while a slow server takes each mail in a
    quarter second and claims go stale after one second: each copy arrives once."""
    monkeypatch.setattr(mail_module, "CLAIM_TIMEOUT", timedelta(seconds=1))
    mailbox = SlowMailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        apps = [make_app(MAIL_PORT=server.port, FORMSVC_REGISTRAR_EMAIL=REGISTRAR) for _ in range(2)]
        with apps[0].app_context():
            for name, kind in ORGANISATIONS.items():
                db.session.add(Organisation(name=name, name_key=name_key(name), type=kind))
            db.session.commit()
        people = zip(ORGANISATIONS, ["Anna", "Bo", "Cy"], strict=True)
        references = [nominate(apps[0], name, person) for name, person in people]
        errors = []

        def keep_sending(app):
            try:
                for _ in range(200):  # a bound, not a timing: stops when nothing is left
                    flush_mail(app)
                    with app.app_context():
                        statuses = set(db.session.scalars(sa.select(OutboxMessage.status)))
                        db.session.remove()
                    if statuses == {SENT}:
                        return
                    time.sleep(0.05)
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)

        threads = [threading.Thread(target=keep_sending, args=(app,)) for app in apps]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        server.stop()
    assert not errors
    subjects = [subject for subject, _ in registrar_copies(mailbox.messages)]
    assert sorted(re.search(r"\w{4}-\w{4}", s).group(0) for s in subjects) == sorted(references)


def test_a_copy_that_cannot_be_made_is_tried_again_and_then_shown_to_staff(registrar_app, smtp, monkeypatch,
                                                                           staff_client):
    """Bad input: the PDF renderer fails (as when Pango is missing). The answer is stored all the same, the
    other mails go, the copy's mail keeps the reason and is tried again; it arrives once the renderer works."""

    def broken(*args, **kwargs):
        raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setattr(registration, "render_pdf", broken)
    reference = nominate(registrar_app, "Arboga kommun", "Anna")
    sent, failed = flush_mail(registrar_app)
    assert (sent, failed) == (3, 1)  # the nominees' and the secretariat's mails went; the copy did not
    with registrar_app.app_context():
        copy = db.session.scalar(sa.select(OutboxMessage).filter_by(recipient=REGISTRAR))
        assert copy.status == PENDING and copy.attempts == 1 and "libpango" in copy.last_error
        # Its attempts run out: it is failed, and staff see it with its reason.
        db.session.execute(sa.update(OutboxMessage).where(OutboxMessage.id == copy.id)
                           .values(attempts=registrar_app.config["FORMSVC_MAIL_MAX_ATTEMPTS"] - 1,
                                   next_attempt_at=copy.created_at))  # fmt: skip
        db.session.commit()
    assert flush_mail(registrar_app) == (0, 1)
    with registrar_app.app_context():
        assert db.session.scalar(sa.select(OutboxMessage.status).filter_by(recipient=REGISTRAR)) == FAILED
        copy_id = db.session.scalar(sa.select(OutboxMessage.id).filter_by(recipient=REGISTRAR))
    page = text_of(staff_client.get("/staff/outbox"))
    assert f"Diariekopia {reference}" in page and "libpango" in page and "Misslyckades" in page
    answer_page = text_of(staff_client.get(f"/staff/forms/nominering/responses/{reference}"))
    assert "Kunde inte mejlas till registratorn. Se utkorgen" in answer_page and "libpango" in answer_page
    assert not registrar_copies(smtp.messages)

    monkeypatch.undo()  # the renderer works again; staff try once more
    staff_client.post(f"/staff/outbox/{copy_id}/release", data={"csrf_token": csrf_token(staff_client)})
    assert flush_mail(registrar_app) == (1, 0)
    flush_mail(registrar_app)
    [(subject, pdf)] = registrar_copies(smtp.messages)
    assert reference in subject and reference in pdf_text(pdf)
    assert "Mejlad till registratorn den" in text_of(staff_client.get(f"/staff/forms/nominering/responses/{reference}"))


def test_a_failed_copy_is_retried_by_the_next_send(registrar_app, smtp, monkeypatch):
    """Bad input: the renderer raises once; the next send that is due makes and sends the copy."""
    calls = []
    real = registration.render_pdf

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("out of memory while laying out the page")
        return real(*args, **kwargs)

    monkeypatch.setattr(registration, "render_pdf", fails_once)
    reference = nominate(registrar_app, "Arboga kommun", "Anna")
    flush_mail(registrar_app)
    with registrar_app.app_context():
        copy = db.session.scalar(sa.select(OutboxMessage).filter_by(recipient=REGISTRAR))
        assert copy.status == PENDING and "out of memory" in copy.last_error
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=copy.created_at))  # time passes
        db.session.commit()
    assert flush_mail(registrar_app) == (1, 0)
    [(subject, _)] = registrar_copies(smtp.messages)
    assert reference in subject


def test_answers_are_stored_while_the_sender_makes_a_copy(registrar_app, smtp, monkeypatch):
    """Bad input: a PDF that takes long to make. The sender holds no transaction meanwhile, so an answer
    given then is stored at once (on SQLite it would otherwise wait for the write lock until the PDF was made)."""
    making, go, made = threading.Event(), threading.Event(), threading.Event()
    real = registration.render_pdf

    def slow(*args, **kwargs):
        making.set()
        go.wait(20)
        made.set()
        return real(*args, **kwargs)

    monkeypatch.setattr(registration, "render_pdf", slow)
    nominate(registrar_app, "Arboga kommun", "Anna")
    sender = threading.Thread(target=flush_mail, args=(registrar_app,))
    sender.start()
    try:
        assert making.wait(10)  # the sender is in the middle of the PDF
        reference = nominate(registrar_app, "Region Västmanland", "Bo")
        still_making = not made.is_set()
    finally:
        go.set()
        sender.join()
    assert still_making
    with registrar_app.app_context():
        assert db.session.scalar(sa.select(Response.id).filter_by(reference=reference))
    flush_mail(registrar_app)
    assert len(registrar_copies(smtp.messages)) == 2


def test_a_copy_of_an_answer_deleted_before_it_was_sent_fails_with_that_reason(registrar_app, smtp,
                                                                              registrar_staff):
    """Bad input: staff delete the answer before the sender ran: the deletion queues its copy first."""
    reference = nominate(registrar_app, "Arboga kommun", "Anna")
    deleted = registrar_staff.post(f"/staff/forms/nominering/responses/{reference}/delete",
                                   data={"csrf_token": csrf_token(registrar_staff)})
    assert deleted.status_code == 303
    flush_mail(registrar_app)
    with registrar_app.app_context():
        copy = db.session.scalar(sa.select(OutboxMessage).filter_by(recipient=REGISTRAR))
        assert copy.status == PENDING and "deleted" in copy.last_error
    assert not registrar_copies(smtp.messages)


# --- Staff downloads ------------------------------------------------------------------------------------------


def test_staff_download_one_answer_and_all_answers_one_a_page(registrar_app, smtp, staff_client, registrar_staff):
    people = ["Anna", "Bo", "Cy"]
    references = [nominate(registrar_app, name, person) for name, person in zip(ORGANISATIONS, people, strict=True)]
    answer_page = text_of(registrar_staff.get(f"/staff/forms/nominering/responses/{references[0]}"))
    assert "Ladda ner som PDF (diariekopia)" in answer_page
    assert "Väntar på att mejlas till registratorn" in answer_page  # the sender has not run yet
    one = staff_client.get(f"/staff/forms/nominering/responses/{references[0]}/diariekopia.pdf")
    assert one.status_code == 200 and one.mimetype == "application/pdf"
    assert_tagged_pdf_ua(one.data)
    assert all(value in pdf_text(one.data) for value in shown("Arboga kommun", "Anna"))

    assert "Ladda ner alla svar som en PDF" in text_of(staff_client.get("/staff/forms/nominering/responses"))
    everything = staff_client.get("/staff/forms/nominering/diariekopior.pdf")
    assert everything.status_code == 200
    assert_tagged_pdf_ua(everything.data)
    pages = PdfReader(io.BytesIO(everything.data)).pages
    assert len(pages) == 3  # one answer a page
    for page, reference, name, person in zip(pages, references, ORGANISATIONS, people, strict=True):  # oldest first
        text = " ".join(page.extract_text().split())
        assert reference in text and all(value in text for value in shown(name, person))

    with registrar_app.app_context():
        events = list(db.session.scalars(sa.select(AuditEvent).filter_by(action="export")))
        assert {(e.target, e.detail["format"]) for e in events} == {(references[0], "pdf"), ("nominering", "pdf")}
        assert all(e.actor == "handlaggare@example.org" for e in events)


def test_too_many_answers_for_one_pdf_are_sent_to_excel_instead(registrar_app, staff_client, monkeypatch):
    """Bad input: a form with more answers than one PDF may hold (two, with the limit at one here)."""
    monkeypatch.setattr(staff_views, "MOST_PAGES", 1)
    nominate(registrar_app, "Arboga kommun", "Anna")
    nominate(registrar_app, "Region Västmanland", "Bo")
    refused = staff_client.get("/staff/forms/nominering/diariekopior.pdf")
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/staff/forms/nominering/responses")
    answers_page = text_of(staff_client.get(refused.headers["Location"]))
    assert "Formuläret har 2 svar. Det är för många för en PDF" in answers_page


def test_the_copy_of_an_anonymised_answer_says_when_the_personal_data_went(registrar_app, staff_client):
    reference = nominate(registrar_app, "Arboga kommun", "Anna")
    with registrar_app.app_context():
        answer = db.session.scalar(sa.select(Response).filter_by(reference=reference))
        answer.answers = {**answer.answers, "ledamot_namn": None}
        answer.anonymised_at = answer.submitted_at
        db.session.commit()
    text = pdf_text(staff_client.get(f"/staff/forms/nominering/responses/{reference}/diariekopia.pdf").data)
    assert "Personuppgifterna i svaret togs bort den" in text and "Anna Ledamotsson" not in text


def test_only_record_forms_have_copies(registrar_app, staff_client):
    """Bad input: the copy of an answer to a form that is not a record, and an unknown answer."""
    sent = submit(registrar_app.test_client(), "nyhetsbrev", {"epost": "ada@example.org", "samtycke": "y"})
    reference = sent.headers["Location"].rsplit("/", 1)[-1]
    assert staff_client.get(f"/staff/forms/nyhetsbrev/responses/{reference}/diariekopia.pdf").status_code == 404
    assert staff_client.get("/staff/forms/nyhetsbrev/diariekopior.pdf").status_code == 404
    assert staff_client.get("/staff/forms/nominering/responses/XXXX-XXXX/diariekopia.pdf").status_code == 404
    answer_page = staff_client.get(f"/staff/forms/nyhetsbrev/responses/{reference}")
    assert answer_page.status_code == 200 and "diariekopia" not in answer_page.get_data(as_text=True)
    with registrar_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 1
