"""The outbox: mail is stored with the answer, survives a mail server that is down, and is sent once."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from datetime import timedelta
from email import message_from_bytes, policy

import sqlalchemy as sa
from aiosmtpd.controller import Controller
from conftest import STAFF_EMAIL, STAFF_PASSWORD, Mailbox, free_port, staff_user
from helpers import csrf_token, flush_mail, login, submit, text_of

from formsvc import mail as mail_module
from formsvc import senders
from formsvc.audit import AuditEvent
from formsvc.extensions import db
from formsvc.mail import FAILED, HELD, PENDING, SENT, OutboxMessage, enqueue, send_outbox
from formsvc.models import Response, utcnow

NYHETSBREV = {"epost": "ada@example.org", "samtycke": "y"}


def outbox(app):
    with app.app_context():
        return [(m.recipient, m.status, m.attempts) for m in db.session.scalars(sa.select(OutboxMessage))]


def make_due(app):
    """Skip the back-off wait, as time passing would."""
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))
        db.session.commit()


def test_a_mail_server_that_is_down_delays_mail_and_loses_none(app, client, smtp):
    smtp.stop()
    response = submit(client, "nyhetsbrev", NYHETSBREV)
    assert response.status_code == 303  # the person is not kept waiting for the mail server
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 1

    assert flush_mail(app) == (0, 1)
    [(recipient, status, attempts)] = outbox(app)
    assert (recipient, status, attempts) == ("ada@example.org", PENDING, 1)
    assert flush_mail(app) == (0, 0)  # not due again until the back-off has passed

    smtp.start()
    make_due(app)
    assert flush_mail(app) == (1, 0)
    assert outbox(app) == [("ada@example.org", SENT, 1)]
    assert len(smtp.to("ada@example.org")) == 1
    assert flush_mail(app) == (0, 0)
    assert len(smtp.messages) == 1  # delivered once, not again


def test_a_batch_goes_over_one_connection_and_a_server_that_is_down_is_tried_once(app, client, smtp):
    for number in range(3):
        assert submit(client, "nyhetsbrev", {**NYHETSBREV, "epost": f"p{number}@example.org"}).status_code == 303
    smtp.stop()
    assert flush_mail(app) == (0, 1)  # the first attempt says the server is down; the rest are left untried
    assert sorted(attempts for _, _, attempts in outbox(app)) == [0, 0, 1]
    smtp.start()
    make_due(app)
    assert flush_mail(app) == (3, 0)
    assert len(smtp.messages) == 3 and smtp.connections == 1


def test_a_mail_server_that_never_answers_does_not_hold_the_sender(make_app, client):
    """Bad input: a server that accepts the connection and then says nothing (no greeting)."""
    silent = socket.create_server(("127.0.0.1", 0))
    app = make_app(MAIL_PORT=silent.getsockname()[1], FORMSVC_SMTP_TIMEOUT=0.5)
    try:
        assert submit(app.test_client(), "nyhetsbrev", NYHETSBREV).status_code == 303
        started = time.monotonic()
        assert flush_mail(app) == (0, 1)
        assert time.monotonic() - started < 10
    finally:
        silent.close()
    with app.app_context():
        [message] = db.session.scalars(sa.select(OutboxMessage))
        assert message.status == PENDING and "timed out" in message.last_error  # tried again later


def test_mail_that_keeps_failing_is_marked_failed(make_app, smtp):
    app = make_app(FORMSVC_MAIL_MAX_ATTEMPTS=2)
    smtp.stop()
    with app.test_request_context():
        enqueue("ada@example.org", "kvitto", definition=_definition(app), response=_fake_response(), answers={},
                lines=[])
        db.session.commit()
    flush_mail(app)
    make_due(app)
    flush_mail(app)
    assert outbox(app) == [("ada@example.org", FAILED, 2)]


def test_without_a_mail_server_mail_is_kept_as_eml_files(make_app, tmp_path):
    app = make_app(MAIL_SERVER=None, FORMSVC_MAIL_DIR=str(tmp_path / "post"))
    client = app.test_client()
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    with app.app_context():
        assert send_outbox() == (1, 0)
    [eml] = (tmp_path / "post").glob("*.eml")
    message = message_from_bytes(eml.read_bytes(), policy=policy.default)
    assert message["To"] == "ada@example.org" and message["Subject"].startswith("Bekräfta")  # the newsletter's


def test_a_message_keeps_its_message_id_across_attempts(app, client, smtp):
    smtp.stop()
    submit(client, "nyhetsbrev", NYHETSBREV)
    flush_mail(app)
    with app.app_context():
        first_id = db.session.scalar(sa.select(OutboxMessage.message_id))
    smtp.start()
    make_due(app)
    flush_mail(app)
    assert smtp.messages[0]["Message-ID"] == first_id


def _definition(app):
    return app.extensions["formsvc_catalog"].get("nyhetsbrev")


def _fake_response():
    return Response(reference="TEST-0001", submitted_at=utcnow(), answers={})


# --- Links: the service does not become a way to mail strangers -------------------------------------------

PHISHING = "Logga in här https://evil.example/login?next=1 eller på www.evil.example."


def html_part(message) -> str:
    return message.get_body(("html",)).get_content()


def test_links_typed_into_a_form_are_never_links_in_the_mail(app, client, smtp):
    """Bad input: an accessibility report whose text and page field hold links, sent with a stranger's
    address as the receipt's: the receipt and the notice quote them as text, never as <a> links."""
    report = {"sida": "https://evil.example/a", "problem": PHISHING, "epost": "offer@example.org"}
    assert submit(client, "tillganglighet", report).status_code == 303
    flush_mail(app)
    [receipt] = smtp.to("offer@example.org")
    [notice] = smtp.to("sekretariat@example.org")
    for message in (receipt, notice):
        html = html_part(message)
        assert "evil.example/login?next=1" in html and "https://evil.example/a" in html  # shown, as text
        hrefs = re.findall(r'<a href="([^"]+)"', html)
        assert hrefs == ["http://localhost/personuppgifter"], html  # the footer's link only
        assert "<https://evil.example" not in message.get_body(("plain",)).get_content()


def test_the_services_own_links_stay_links_and_a_typed_name_does_not_become_one(app, client, smtp):
    """Bad input: a newsletter sign-up whose name is a link. The confirm and unsubscribe links the service
    wrote are links in the HTML part; the name is text."""
    answers = {"epost": "ny@example.org", "namn": "https://evil.example/x", "samtycke": "y"}
    assert submit(client, "nyhetsbrev", answers).status_code == 303
    flush_mail(app)
    [mail] = smtp.to("ny@example.org")
    html = html_part(mail)
    hrefs = re.findall(r'<a href="([^"]+)"', html)
    assert len(hrefs) == 3 and all("/newsletter/" in href for href in hrefs[:2])
    assert hrefs[2] == "http://localhost/personuppgifter"  # the footer's
    assert "https://evil.example/x" in html and 'href="https://evil.example' not in html


# --- A cap per address and hour: mail over it is held for staff --------------------------------------------


def statuses(app) -> list[tuple[str, str, str]]:
    with app.app_context():
        rows = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id))
        return [(m.recipient, m.template, m.status) for m in rows]


def test_mail_to_an_address_over_the_hourly_cap_is_held_and_staff_release_or_discard_it(make_app, smtp):
    """Bad input: one address entered in four answers in a row (four receipts to it, half of them written in
    capitals) with a cap of two an hour. Two go, two are held; the secretariat's notices are not capped."""
    app = make_app(FORMSVC_MAIL_PER_ADDRESS_HOUR=2)
    client = app.test_client()
    for address in ("offer@example.org", "OFFER@example.org") * 2:
        report = {"problem": "Knappen syns inte.", "epost": address}
        assert submit(client, "tillganglighet", report).status_code == 303
    flush_mail(app)

    def to_offer() -> int:
        return sum("offer@example.org" in message["To"].lower() for message in smtp.messages)

    assert to_offer() == 2 and len(smtp.to("sekretariat@example.org")) == 4
    held = [row for row in statuses(app) if row[2] == HELD]
    assert [recipient.lower() for recipient, _, _ in held] == ["offer@example.org"] * 2

    assert client.get("/staff/outbox").status_code == 302  # behind login
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()
    assert login(client, STAFF_EMAIL, STAFF_PASSWORD).status_code == 303
    page = client.get("/staff/outbox")
    assert page.status_code == 200
    text = text_of(page)
    assert text.lower().count("offer@example.org") == 2 and "Hålls kvar" in text and "senaste timmen" in text
    with app.app_context():
        query = sa.select(OutboxMessage.id).filter_by(status=HELD).order_by(OutboxMessage.id)
        first, second = db.session.scalars(query)
    token = csrf_token(client, "/staff/outbox")
    released = client.post(f"/staff/outbox/{first}/release", data={"csrf_token": token})
    assert released.status_code == 303
    discarded = client.post(f"/staff/outbox/{second}/discard", data={"csrf_token": token})
    assert discarded.status_code == 303
    flush_mail(app)
    assert to_offer() == 3  # the released one went, past the cap
    with app.app_context():
        assert db.session.get(OutboxMessage, second) is None
        actions = set(db.session.scalars(sa.select(AuditEvent.action)))
        assert {"mail_released", "mail_discarded"} <= actions
    assert "Inga mejl hålls kvar eller har misslyckats" in text_of(client.get("/staff/outbox"))


# --- One message that cannot be sent stops nothing else ----------------------------------------------------


def _enqueue(app, *recipients, images=()):
    with app.test_request_context():
        for recipient in recipients:
            enqueue(recipient, "kvitto", images=images, definition=_definition(app), response=_fake_response(),
                    answers={}, lines=[])
        db.session.commit()


def test_an_address_the_server_refuses_fails_with_its_reason_and_the_others_go(app, smtp):
    """Bad input: a recipient with a non-ASCII local part (åsa@) in the outbox, e.g. from an older form or
    the register; the server does not offer SMTPUTF8. It fails at once, with why; the next two are sent."""
    _enqueue(app, "åsa@example.org", "bo@example.org", "cy@example.org")
    assert flush_mail(app) == (2, 1)
    assert sorted(len(smtp.to(a)) for a in ("bo@example.org", "cy@example.org")) == [1, 1]
    with app.app_context():
        rows = {m.recipient: m for m in db.session.scalars(sa.select(OutboxMessage))}
        assert rows["åsa@example.org"].status == FAILED and rows["åsa@example.org"].last_error
        assert {rows[a].status for a in ("bo@example.org", "cy@example.org")} == {SENT}
        assert all(m.claimed_by is None for m in rows.values())
    assert flush_mail(app) == (0, 0)  # not tried again: the server will not take it


def test_a_message_that_cannot_be_built_fails_and_the_others_go(app, smtp):
    """Bad input: a mail naming an image file that does not exist (any error while building a message)."""
    _enqueue(app, "bo@example.org", images=["saknas.png"])
    _enqueue(app, "cy@example.org")
    assert flush_mail(app) == (1, 1)
    with app.app_context():
        broken = db.session.scalar(sa.select(OutboxMessage).filter_by(recipient="bo@example.org"))
        assert broken.status == FAILED and "saknas.png" in broken.last_error
    assert len(smtp.to("cy@example.org")) == 1


def test_mail_stuck_as_sending_by_the_old_sender_is_sent(app, smtp):
    """A mail left `sending` with no claim time (what an error left behind before) is taken up again."""
    _enqueue(app, "bo@example.org")
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(status="sending", claimed_at=None))
        db.session.commit()
    assert flush_mail(app) == (1, 0)


def test_the_form_refuses_an_address_with_non_ascii_before_the_at_sign(app, client, smtp):
    """Bad input: åsa@example.org in the newsletter form: many mail servers refuse it, so the form says so
    next to the field (422) instead of taking an address no mail would reach. After the @ such letters are
    a domain name, which mail reaches: anna@åre.example is taken."""
    response = submit(client, "nyhetsbrev", {"epost": "åsa@example.org", "samtycke": "y"})
    assert response.status_code == 422
    assert "å, ä, ö" in text_of(response)
    assert submit(client, "nyhetsbrev", {"epost": "anna@åre.example", "samtycke": "y"}).status_code == 303
    assert flush_mail(app) == (1, 0)


def test_mail_send_watch_keeps_going_after_an_error(app, monkeypatch):
    """Bad input: the outbox cannot be read for a moment (the database is away): the watcher says so and
    tries again, instead of ending with a traceback."""
    calls = []

    def send_outbox_once_failing():
        calls.append(1)
        if len(calls) == 1:
            raise sa.exc.OperationalError("SELECT", {}, Exception("server closed the connection"))
        return 0, 0

    class Stop(Exception):
        pass

    def sleep(seconds):
        if len(calls) >= 2:
            raise Stop

    monkeypatch.setattr(mail_module, "send_outbox", send_outbox_once_failing)
    monkeypatch.setattr(senders.time, "sleep", sleep)
    result = app.test_cli_runner().invoke(args=["mail", "send", "--watch", "1"])
    assert isinstance(result.exception, Stop), result.output
    assert len(calls) == 2 and "Sent 0, failed 0." in result.output and "server closed" in result.output


# --- Two senders never send one mail twice ------------------------------------------------------------------


class SlowMailbox(Mailbox):
    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        await asyncio.sleep(0.25)
        return await super().handle_DATA(server, session, envelope)


def test_two_senders_with_a_slow_mail_server_send_each_mail_once(make_app, monkeypatch):
    """Two senders (each its own app and connections, as on two hosts) keep sending while a slow server
    takes each mail in a quarter second, longer together than a claim lasts unrenewed (one second here
    instead of ten minutes). Every mail arrives once."""
    monkeypatch.setattr(mail_module, "CLAIM_TIMEOUT", timedelta(seconds=1))
    mailbox = SlowMailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        apps = [make_app(MAIL_PORT=server.port) for _ in range(2)]
        recipients = [f"p{n}@example.org" for n in range(16)]
        _enqueue(apps[0], *recipients)
        errors = []

        def keep_sending(app):
            try:
                for _ in range(200):  # a bound, not a timing: stops when nothing is left
                    flush_mail(app)
                    if all(status == SENT for _, _, status in statuses(app)):
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
    received = sorted(message["To"] for message in mailbox.messages)
    assert received == sorted(recipients)  # each once: none missing, none twice
    assert {status for _, _, status in statuses(apps[0])} == {SENT}


class BlockingMailbox(Mailbox):
    """Takes each mail only when the test says so (or after 20 s)."""

    def __init__(self):
        super().__init__()
        self.receiving, self.go = threading.Event(), threading.Event()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.receiving.set()
        await asyncio.get_running_loop().run_in_executor(None, self.go.wait, 20)
        return await super().handle_DATA(server, session, envelope)


def test_answers_are_stored_while_a_slow_mail_server_takes_a_mail(make_app):
    """Bad input: a mail server that takes its time over a mail. The sender holds no transaction meanwhile,
    so an answer given while the server is busy is stored at once (on SQLite it would wait for the write
    lock until the server had finished)."""
    mailbox = BlockingMailbox()
    server = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    server.start()
    try:
        app = make_app(MAIL_PORT=server.port)
        _enqueue(app, "bo@example.org")
        sender = threading.Thread(target=flush_mail, args=(app,))
        sender.start()
        assert mailbox.receiving.wait(10)  # the sender is in the middle of the mail
        answer = submit(app.test_client(), "nyhetsbrev", NYHETSBREV)
        server_still_busy = not mailbox.go.is_set() and not mailbox.messages
        mailbox.go.set()
        sender.join()
    finally:
        mailbox.go.set()
        server.stop()
    assert answer.status_code == 303 and server_still_busy
    assert mailbox.messages[0]["To"] == "bo@example.org"  # then the answer's own mail, in the same run


def test_a_mail_shows_the_images_its_definition_names(make_app, smtp, tmp_path):
    """`images:` on a mail in the definition decides which mail carries the sticker, whatever its template:
    here a receipt (kvitto) carries it and the notice to the secretariat does not."""
    (tmp_path / "prov.yaml").write_text(
        "title: Prov\nfields:\n  - {key: epost, type: email, label: E-post, required: true}\n"
        "mails:\n  - {template: kvitto, to: epost, images: [sticker.png]}\n  - {template: notis, to: secretariat}\n",
        encoding="utf-8",
    )
    app = make_app(FORMSVC_FORMS_DIR=str(tmp_path))
    assert submit(app.test_client(), "prov", {"epost": "bo@example.org"}).status_code == 303
    flush_mail(app)
    [receipt] = smtp.to("bo@example.org")
    [notice] = smtp.to("sekretariat@example.org")
    [image] = [part for part in receipt.walk() if part.get_content_type() == "image/png"]
    assert image["Content-ID"] == "<klistermarke>" and 'src="cid:klistermarke"' in html_part(receipt)
    assert not [part for part in notice.walk() if part.get_content_type() == "image/png"]
    assert "cid:klistermarke" not in html_part(notice)


def test_a_mail_has_the_subject_and_message_its_definition_gives(make_app, smtp, tmp_path):
    """`subject` replaces the template's subject; `message` (two paragraphs, the second indented and with a
    link) comes above the template's text, in the plain and the HTML version, and its link stays text. The
    notice without them keeps the template's subject and opening."""
    (tmp_path / "prov.yaml").write_text(
        "title: Prov\nfields:\n  - {key: epost, type: email, label: E-post, required: true}\n"
        "mails:\n  - template: kvitto\n    to: epost\n    subject: Tack för din anmälan till mötet\n"
        "    message: |\n      Vi ses den 12 maj i Västerås.\n\n\n        Läs mer på https://evil.example/x\n"
        "  - {template: notis, to: secretariat}\n",
        encoding="utf-8",
    )
    app = make_app(FORMSVC_FORMS_DIR=str(tmp_path))
    assert submit(app.test_client(), "prov", {"epost": "bo@example.org"}).status_code == 303
    flush_mail(app)
    [receipt] = smtp.to("bo@example.org")
    [notice] = smtp.to("sekretariat@example.org")
    assert receipt["Subject"] == "Tack för din anmälan till mötet"
    body = receipt.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Vi ses den 12 maj i Västerås.\n\nLäs mer på https://evil.example/x\n\nHej!\n\nTack för")
    html = html_part(receipt)
    assert ">Vi ses den 12 maj i Västerås.</p>" in html and ">Läs mer på https://evil.example/x</p>" in html
    assert html.index("Västerås") < html.index("Hej!") and 'href="https://evil.example' not in html
    assert notice["Subject"] == "Nytt svar: Prov"
    assert notice.get_body(("plain",)).get_content().startswith("Ett nytt svar har kommit in")
