"""The outbox: mail is stored with the answer, survives a mail server that is down, and is sent once."""

from __future__ import annotations

import socket
import time
from email import message_from_bytes, policy

import sqlalchemy as sa
from helpers import flush_mail, submit

from formsvc.extensions import db
from formsvc.mail import FAILED, PENDING, SENT, OutboxMessage, enqueue, send_outbox
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
