"""What follows an answer is the senders' work (formsvc/dispatch.py): the answer only marks itself, and a
sender queues its registrar copy and its answer.stored deliveries afterwards, once, even with two senders
racing, or a sender that dies halfway; an endpoint added after an answer does not get that answer's event."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import sqlalchemy as sa
from helpers import flush_mail, login, submit
from test_records import REGISTRAR, joining, registrar_copies
from test_retention import age, forms_dir  # noqa: F401 (the forms with "seminarium", a fixture)
from test_webhooks import Receiver, registered_secret, send, settings

from formsvc import dispatch, mail
from formsvc.extensions import db
from formsvc.mail import OutboxMessage
from formsvc.models import Response, utcnow
from formsvc.records.models import RegistrarCopy
from formsvc.webhooks.models import WebhookDelivery, WebhookEndpoint

ANSWERS = 4


@pytest.fixture
def receiver():
    made = Receiver()
    made.start()
    yield made
    made.stop()


@pytest.fixture
def app(make_app):
    return make_app(**settings(FORMSVC_REGISTRAR_EMAIL=REGISTRAR))


def answer(app, number: int) -> str:
    """An answer to the joining form (a record form); its reference."""
    sent = submit(app.test_client(), "anslutning", joining(f"Organisation {number}"))
    assert sent.status_code == 303
    return sent.headers["Location"].rsplit("/", 1)[-1]


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def test_the_answer_writes_no_row_for_the_integrations_only_a_mark(app, staff_client, receiver):
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    reference = answer(app, 1)
    assert count(app, RegistrarCopy) == count(app, WebhookDelivery) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(Response.integrations_pending).filter_by(reference=reference))
        assert not db.session.scalars(sa.select(OutboxMessage).filter_by(recipient=REGISTRAR)).all()


def test_answers_stored_while_no_sender_ran_reach_the_registrar_and_the_receiver_once_with_two_senders(
    make_app, app, staff_client, receiver, smtp, monkeypatch
):
    """Bad input: two senders (two apps, as on two hosts) that both read the same marked answers and made
    their rows ready before either writes them: the claim lets one write them."""
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    references = [answer(app, number) for number in range(ANSWERS)]
    apps = [app, make_app(**settings(FORMSVC_REGISTRAR_EMAIL=REGISTRAR))]
    both_ready = threading.Barrier(2, timeout=10)
    real_prepare = dispatch._prepare
    raced = []

    def prepare_then_wait(answers, broken):
        prepared = real_prepare(answers, broken)
        if not raced:  # the first batch: both senders hold the same answers now
            both_ready.wait()
            raced.append(len(answers))
        return prepared

    monkeypatch.setattr(dispatch, "_prepare", prepare_then_wait)
    errors = []

    def run_senders(sender_app):
        try:
            flush_mail(sender_app)
            send(sender_app)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=run_senders, args=(sender_app,)) for sender_app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors and raced == [ANSWERS, ANSWERS]  # both made the same answers ready
    flush_mail(app)
    send(app)
    copies = [subject for subject, _ in registrar_copies(smtp.messages)]
    assert sorted(Counter(next(r for r in references if r in s) for s in copies).values()) == [1] * ANSWERS
    events = receiver.verified(secret)  # every signature checks out
    assert sorted(event["data"]["reference"] for event in events) == sorted(references)
    assert len(set(receiver.ids())) == ANSWERS
    assert count(app, RegistrarCopy) == ANSWERS and count(app, WebhookDelivery) == ANSWERS


def test_an_endpoint_added_after_an_answer_does_not_get_its_event(app, staff_client, receiver):
    """Bad input: an endpoint registered after the answer came in but before any sender ran."""
    later = Receiver()
    later.start()
    try:
        first_secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
        before = answer(app, 1)
        later_secret = registered_secret(staff_client, later.url, ["answer.stored"])
        after = answer(app, 2)
        send(app)
        assert sorted(e["data"]["reference"] for e in receiver.verified(first_secret)) == sorted([before, after])
        assert [e["data"]["reference"] for e in later.verified(later_secret)] == [after]
    finally:
        later.stop()


def test_nothing_is_lost_when_a_sender_dies_before_sending_the_copy(app, staff_client, receiver, smtp, monkeypatch):
    """Bad input: the sender dies right after it queued the copy and the delivery, before it claimed anything
    to send; another sender run sends them, once."""
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    reference = answer(app, 1)

    def dies(*args, **kwargs):
        raise SystemExit("killed")

    monkeypatch.setattr(mail, "_claim", dies)
    with pytest.raises(SystemExit):
        flush_mail(app)
    monkeypatch.undo()
    assert count(app, RegistrarCopy) == count(app, WebhookDelivery) == 1  # queued, not sent
    assert not smtp.messages and not receiver.received
    flush_mail(app)
    send(app)
    flush_mail(app)
    send(app)
    [(subject, _)] = registrar_copies(smtp.messages)
    assert reference in subject
    [event] = receiver.verified(secret)
    assert event["data"]["reference"] == reference


def test_nothing_is_half_done_when_a_sender_dies_while_queueing(app, staff_client, receiver, smtp, monkeypatch):
    """Bad input: the sender dies in the middle of its transaction, after the copy's rows and before the
    webhook delivery's: nothing of it stays, the answer keeps its mark, and the next run does it all once."""
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    reference = answer(app, 1)
    hooks = app.extensions[dispatch.HOOKS]
    registrar_hook = next(hook for hook in hooks if hook[1].__module__.endswith("registration"))
    real_wanted, real_hook = registrar_hook

    def dies_after_writing(definition, response):
        write = real_hook(definition, response)

        def then_die(connection):
            write(connection)
            raise SystemExit("killed")

        return then_die

    hooks[hooks.index(registrar_hook)] = (real_wanted, dies_after_writing)
    try:
        with pytest.raises(SystemExit):
            flush_mail(app)
    finally:
        hooks[hooks.index((real_wanted, dies_after_writing))] = registrar_hook
    assert count(app, RegistrarCopy) == count(app, WebhookDelivery) == 0
    with app.app_context():
        assert not db.session.scalars(sa.select(OutboxMessage).filter_by(recipient=REGISTRAR)).all()
        assert db.session.scalar(sa.select(Response.integrations_pending).filter_by(reference=reference))
    flush_mail(app)
    send(app)
    flush_mail(app)
    send(app)
    [(subject, _)] = registrar_copies(smtp.messages)
    assert reference in subject
    assert [e["data"]["reference"] for e in receiver.verified(secret)] == [reference]


def test_an_answer_purged_before_any_sender_ran_still_has_its_event_sent(make_app, request, staff, receiver):
    """Bad input: `formsvc purge` deletes an answer (its form says delete after 10 days) that no sender had
    followed up: the purge queues its answer.stored first."""
    app = make_app(**settings(FORMSVC_FORMS_DIR=str(request.getfixturevalue("forms_dir"))))
    staff_client = app.test_client()
    login(staff_client, *staff)
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    sent = submit(app.test_client(), "seminarium", {"namn": "Ada", "mat": "vego"})
    reference = sent.headers["Location"].rsplit("/", 1)[-1]
    age(app, reference, 11)
    with app.app_context():  # the endpoint was there before the answer came in
        db.session.execute(sa.update(WebhookEndpoint).values(created_at=utcnow() - timedelta(days=12)))
        db.session.commit()
    assert "Did delete 1 answer(s) of seminarium." in app.test_cli_runner().invoke(args=["purge"]).output
    assert count(app, Response) == 0
    send(app)
    [event] = receiver.verified(secret)
    assert event["type"] == "answer.stored" and event["data"]["reference"] == reference


def test_a_purged_answer_is_announced_as_deleted(make_app, request, staff, receiver):
    """`formsvc purge` deletes an answer past its time: an endpoint that wants answer.deleted hears of it, as
    when staff delete one (before, the purge told no one, and a copy elsewhere outlived the retention)."""
    app = make_app(**settings(FORMSVC_FORMS_DIR=str(request.getfixturevalue("forms_dir"))))
    staff_client = app.test_client()
    login(staff_client, *staff)
    secret = registered_secret(staff_client, receiver.url, ["answer.deleted"])
    sent = submit(app.test_client(), "seminarium", {"namn": "Ada", "mat": "vego"})
    reference = sent.headers["Location"].rsplit("/", 1)[-1]
    age(app, reference, 11)
    assert "Did delete 1 answer(s) of seminarium." in app.test_cli_runner().invoke(args=["purge"]).output
    send(app)
    [event] = receiver.verified(secret)
    assert event["type"] == "answer.deleted"
    assert event["data"]["reference"] == reference and event["data"]["form"] == "seminarium"
