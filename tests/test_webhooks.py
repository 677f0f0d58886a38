"""Webhooks: staff register endpoints; events reach a receiver on loopback once each, signed per Standard
Webhooks (checked with the standardwebhooks package), also after the receiver was down; two senders never
deliver one event twice; refused addresses; a slow receiver never holds up an answer."""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from conftest import free_port
from helpers import csrf_token, hidden_values, login, personal_link_client, submit, text_of
from standardwebhooks import Webhook

from formsvc.extensions import db
from formsvc.models import Organisation, Response, utcnow
from formsvc.newsletter.models import CONFIRM, UNSUBSCRIBE, Subscription
from formsvc.newsletter.subscriptions import new_token, sign_up
from formsvc.webhooks import sender as sender_module
from formsvc.webhooks.models import EVENTS, WebhookDelivery, WebhookEndpoint
from formsvc.webhooks.sender import send_webhooks

# The service's own address in these tests (http://localhost:PUBLIC_PORT); nothing listens there. Fixed, not a free
# port drawn at import: pytest-xdist needs every worker to collect the same parametrised test ids.
PUBLIC_PORT = 48765
ANSLUTNING = {
    "organisation": "Exempelkommunen", "organisationstyp": "kommun", "kontaktperson": "Ada Andersson",
    "epost": "ada@example.org", "fokusomraden": ["makt"], "samtycke": "y",
}  # fmt: skip
NOMINERING = {
    "ledamot_namn": "Lea Ledamot", "ledamot_befattning": "Förvaltningschef", "ledamot_epost": "lea@example.org",
    "ersattare_namn": "Eva Ersättare", "ersattare_befattning": "Biträdande chef", "ersattare_epost": "eva@example.org",
    "mandat": "y",
}  # fmt: skip


class Receiver:
    """A webhook receiver on loopback (http.server in threads): keeps what it gets; can be down, slow or
    failing, or hold a request until the test lets it go."""

    def __init__(self):
        self.port = free_port()
        self.received: list[tuple[dict, bytes]] = []
        self.status = 204
        self.delay = 0.0
        self.hold: threading.Event | None = None
        self.in_request = threading.Event()
        self.lock = threading.Lock()
        self.server = None
        self.thread = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.in_request.set()
                if receiver.hold is not None:
                    receiver.hold.wait(20)
                time.sleep(receiver.delay)
                with receiver.lock:
                    if 200 <= receiver.status < 300:
                        receiver.received.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def verified(self, secret: str) -> list[dict]:
        """Every received body, each checked against its signature headers (raises on a bad one)."""
        with self.lock:
            return [Webhook(secret).verify(body, headers) for headers, body in self.received]

    def ids(self) -> list[str]:
        with self.lock:
            return [headers["webhook-id"] for headers, _ in self.received]


@pytest.fixture
def receiver():
    made = Receiver()
    made.start()
    yield made
    if made.hold is not None:
        made.hold.set()
    made.stop()


def settings(**extra) -> dict:
    return {
        "FORMSVC_WEBHOOK_ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "FORMSVC_PUBLIC_URL": f"http://localhost:{PUBLIC_PORT}",
        **extra,
    }


@pytest.fixture
def app(make_app):
    return make_app(**settings())


def register(staff_client, url: str, events=EVENTS):
    """Add an endpoint on the staff page as staff would; returns the response of the POST."""
    token = csrf_token(staff_client, "/staff/webhooks/new")
    return staff_client.post(
        "/staff/webhooks/new", data={"csrf_token": token, "url": url, "description": "Diariet", "events": list(events)}
    )


def registered_secret(staff_client, url: str, events=EVENTS) -> str:
    """Register an endpoint and read its secret from the page shown once after saving."""
    response = register(staff_client, url, events)
    assert response.status_code == 303, text_of(response)
    page = staff_client.get(response.headers["Location"])
    secret = re.search(r'<code id="secret">(whsec_[A-Za-z0-9+/=]+)</code>', page.get_data(as_text=True)).group(1)
    assert "whsec_" not in staff_client.get(response.headers["Location"]).get_data(as_text=True)  # shown once
    return secret


def send(app) -> tuple[int, int]:
    with app.app_context():
        try:
            return send_webhooks()
        finally:
            db.session.remove()


def deliveries(app) -> list[WebhookDelivery]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(WebhookDelivery).order_by(WebhookDelivery.id)))
        db.session.expunge_all()
        return rows


def add_organisation(app, name: str) -> None:
    with app.app_context():
        db.session.add(Organisation(name=name, name_key=name.casefold(), type="kommun"))
        db.session.commit()


def test_every_event_reaches_the_receiver_once_with_a_valid_signature(app, staff_client, receiver):
    secret = registered_secret(staff_client, receiver.url)
    # answer.stored (x3), answer.replaced: the organisation's second nomination replaces its first
    anslutning = submit(app.test_client(), "anslutning", ANSLUTNING)
    assert anslutning.status_code == 303
    add_organisation(app, "Exempelkommunen")
    browser = personal_link_client(app, "nominering", "Exempelkommunen")
    first = submit(browser, "nominering", NOMINERING).headers["Location"].rsplit("/", 1)[-1]
    second = submit(browser, "nominering", {**NOMINERING, "ledamot_namn": "Ny Ledamot"})
    second = second.headers["Location"].rsplit("/", 1)[-1]
    # answer.deleted
    reference = anslutning.headers["Location"].rsplit("/", 1)[-1]
    path = f"/staff/forms/anslutning/responses/{reference}/delete"
    assert staff_client.post(path, data={"csrf_token": csrf_token(staff_client, path)}).status_code == 303
    # subscriber.confirmed, subscriber.left
    with app.test_request_context():
        subscription = db.session.get(Subscription, sign_up("sam@example.org", "nyhetsbrev", "v1"))
        confirm = new_token(subscription, CONFIRM, expires_at=utcnow() + timedelta(days=7))
        unsubscribe = new_token(subscription, UNSUBSCRIBE)
        db.session.commit()
    visitor = app.test_client()
    for path in (f"/newsletter/confirm/{confirm}", f"/newsletter/unsubscribe/{unsubscribe}"):
        form = hidden_values(visitor.get(path).get_data(as_text=True))
        assert visitor.post(path, data=form).status_code == 303
    # live_round.closed
    token = csrf_token(staff_client, "/staff/live/")
    started = staff_client.post(
        "/staff/live/",
        data={
            "csrf_token": token,
            "question": "prioritering:prioriteringar",
            "mode": "device",
            "seats": "",
            "title": "Rådsmöte",
        },
    )
    round_id = int(started.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    close = f"/staff/live/{round_id}/stang"
    assert staff_client.post(close, data={"csrf_token": csrf_token(staff_client, "/staff/live/")}).status_code == 303
    assert staff_client.post(close, data={"csrf_token": csrf_token(staff_client, "/staff/live/")}).status_code == 303

    assert send(app) == (8, 0), " ".join(d.event_type for d in deliveries(app))
    assert send(app) == (0, 0)  # nothing twice
    events = receiver.verified(secret)  # every signature checks out
    assert Counter(event["type"] for event in events) == {
        "answer.stored": 3, "answer.replaced": 1, "answer.deleted": 1, "subscriber.confirmed": 1,
        "subscriber.left": 1, "live_round.closed": 1,
    }  # fmt: skip
    assert len(set(receiver.ids())) == 8
    by_type = {event["type"]: event for event in events}
    assert by_type["answer.replaced"]["data"] == {"reference": first, "form": "nominering", "replaced_by": second}
    assert by_type["answer.deleted"]["data"]["reference"] == reference
    stored = [e["data"] for e in events if e["type"] == "answer.stored"]
    assert {d["reference"] for d in stored} == {reference, first, second}
    nomination = next(d for d in stored if d["reference"] == second)
    assert nomination["form"] == "nominering" and nomination["source"] == "invitation"
    assert nomination["organisation"]["name"] == "Exempelkommunen" and nomination["version"]
    assert by_type["live_round.closed"]["data"]["round"] == round_id
    # Ids, never the answers or addresses themselves (personal data stays in the service).
    bodies = " ".join(json.dumps(event, ensure_ascii=False) for event in events)
    for personal in ("lea@example.org", "Lea Ledamot", "ada@example.org", "sam@example.org", "Ada Andersson"):
        assert personal not in bodies
    page = text_of(staff_client.get("/staff/webhooks/"))
    assert receiver.url in page and "HTTP 204" in page


def test_a_receiver_that_was_down_gets_every_event_once_after_the_back_off(make_app, staff, receiver):
    """Bad input: the receiver is down (connection refused) when the events are sent; it comes back later."""
    app = make_app(**settings(FORMSVC_WEBHOOK_BACKOFF_SECONDS=0.5))
    staff_client = app.test_client()
    login(staff_client, *staff)
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    receiver.stop()
    references = [
        submit(app.test_client(), "nyhetsbrev", {"epost": f"p{n}@example.org", "samtycke": "y"}).headers["Location"]
        for n in range(3)
    ]
    assert send(app) == (0, 1)  # one attempt tells it is down; the others are not tried in this run
    [tried] = [d for d in deliveries(app) if d.attempts]
    assert tried.status == "pending" and tried.next_attempt_at > utcnow() and "ConnectionRefused" in tried.last_error
    assert "ConnectionRefused" in text_of(staff_client.get("/staff/webhooks/"))  # staff see why

    receiver.start()
    for _ in range(100):  # a bound, not a timing: stops once all are in
        send(app)
        if len(receiver.received) >= 3 and all(d.status == "delivered" for d in deliveries(app)):
            break
        time.sleep(0.1)
    events = receiver.verified(secret)
    assert sorted(event["data"]["reference"] for event in events) == sorted(r.rsplit("/", 1)[-1] for r in references)
    assert len(set(receiver.ids())) == 3
    assert [d.attempts for d in deliveries(app) if d.id == tried.id] == [2]


def test_a_delivery_that_keeps_failing_is_marked_failed_after_the_retry_period(make_app, staff, receiver):
    """Bad input: the receiver answers 500 every time; retried only within FORMSVC_WEBHOOK_RETRY_SECONDS."""
    app = make_app(**settings(FORMSVC_WEBHOOK_RETRY_SECONDS=0))
    staff_client = app.test_client()
    login(staff_client, *staff)
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    receiver.status = 500
    submit(app.test_client(), "nyhetsbrev", {"epost": "p@example.org", "samtycke": "y"})
    assert send(app) == (0, 1)
    [delivery] = deliveries(app)
    assert delivery.status == "failed" and delivery.last_status == 500
    path = f"/staff/webhooks/{delivery.endpoint_id}"
    endpoint_page = text_of(staff_client.get(path))
    assert "Misslyckades" in endpoint_page and "HTTP 500" in endpoint_page
    # The receiver works again: staff send what failed once more, and it arrives.
    receiver.status = 204
    assert send(app) == (0, 0)  # failed stays failed by itself
    retry = staff_client.post(f"{path}/retry", data={"csrf_token": csrf_token(staff_client, path)})
    assert retry.status_code == 303
    assert "1 misslyckade leveranser skickas igen" in text_of(staff_client.get(path))
    assert send(app) == (1, 0) and len(receiver.received) == 1


def test_two_senders_never_deliver_one_event_twice(make_app, staff, receiver, monkeypatch):
    """Two senders (each its own app and connections, as on two hosts) keep sending while a slow receiver takes
    each event in a tenth of a second, longer together than a claim lasts unrenewed (half a second here)."""
    monkeypatch.setattr(sender_module, "CLAIM_TIMEOUT", timedelta(seconds=0.5))
    apps = [make_app(**settings()) for _ in range(2)]
    staff_client = apps[0].test_client()
    login(staff_client, *staff)
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    visitor = apps[0].test_client()
    for n in range(12):
        assert submit(visitor, "nyhetsbrev", {"epost": f"p{n}@example.org", "samtycke": "y"}).status_code == 303
    receiver.delay = 0.1
    errors = []

    def keep_sending(app):
        try:
            for _ in range(200):  # a bound, not a timing: stops when nothing is left
                send(app)
                if all(d.status == "delivered" for d in deliveries(app)):
                    return
                time.sleep(0.05)
        except Exception as error:  # noqa: BLE001 (reported below)
            errors.append(error)

    threads = [threading.Thread(target=keep_sending, args=(app,)) for app in apps]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(receiver.verified(secret)) == 12
    assert sorted(Counter(receiver.ids()).values()) == [1] * 12  # each once


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("https://system.example.net/hook", "Värden system.example.net finns inte bland"),  # host not allowed
        ("ftp://127.0.0.1/hook", "Adressen måste börja med https:// eller http://."),  # not http(s)
        ("javascript:alert(1)", "Adressen måste börja med https:// eller http://."),
        ("file:///etc/passwd", "Adressen måste börja med https:// eller http://."),
        (f"http://localhost:{PUBLIC_PORT}/staff/", "formulärtjänsten själv"),  # the service, by name
        (f"http://127.0.0.1:{PUBLIC_PORT}/f/anslutning", "formulärtjänsten själv"),  # the service, once resolved
        ("http://user:pass@127.0.0.1/hook", "Skriv inte användarnamn eller lösenord"),
        ("http://127.0.0.1:99999/hook", "Adressen går inte att läsa"),
        ("", "Skriv adressen"),
    ],
)
def test_an_address_that_is_not_allowed_is_refused_next_to_the_field(app, staff_client, url, message):
    response = register(staff_client, url)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="url-error"' in page and 'aria-invalid="true"' in page
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(WebhookEndpoint.id))) == 0


def test_no_events_chosen_is_refused(app, staff_client, receiver):
    response = register(staff_client, receiver.url, events=[])
    assert response.status_code == 422 and "Välj minst en händelse" in response.get_data(as_text=True)
    assert "Godkända värdar: 127.0.0.1, localhost." in text_of(response)  # staff see what they may use


def test_a_host_no_longer_allowed_is_refused_when_delivering(app, staff_client, receiver):
    """Bad input: the endpoint was allowed when saved; the operators then removed its host from the list."""
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    submit(app.test_client(), "nyhetsbrev", {"epost": "p@example.org", "samtycke": "y"})
    app.config["FORMSVC_WEBHOOK_ALLOWED_HOSTS"] = ["localhost"]
    assert send(app) == (0, 1)
    [delivery] = deliveries(app)
    assert delivery.status == "failed" and "refused" in delivery.last_error and not receiver.received


def test_a_slow_receiver_does_not_hold_up_answers(make_app, staff, receiver):
    """Bad input: a receiver that takes its time over a request (longer than the test waits for answers;
    the sender would wait 30 s for it). The sender holds no transaction meanwhile, so an answer given while
    the receiver is busy is stored at once (on SQLite it would otherwise wait for the write lock until the
    receiver had finished)."""
    app = make_app(**settings(FORMSVC_WEBHOOK_TIMEOUT=30))
    staff_client = app.test_client()
    login(staff_client, *staff)
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    submit(app.test_client(), "nyhetsbrev", {"epost": "p0@example.org", "samtycke": "y"})
    receiver.hold = threading.Event()
    sender = threading.Thread(target=send, args=(app,))
    sender.start()
    try:
        assert receiver.in_request.wait(10)  # the sender is in the middle of the request
        answers = [submit(app.test_client(), "nyhetsbrev", {"epost": f"p{n}@example.org", "samtycke": "y"})
                   for n in range(1, 4)]  # fmt: skip
        still_busy = not receiver.hold.is_set() and not receiver.received and sender.is_alive()
    finally:
        receiver.hold.set()
        sender.join()
    assert [a.status_code for a in answers] == [303] * 3 and still_busy
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 4


def test_with_no_endpoint_an_answer_asks_nothing_about_webhooks(make_app):
    """The answer path reads the endpoint list at most once per FORMSVC_WEBHOOK_CACHE_SECONDS per worker."""
    app = make_app(**settings(FORMSVC_WEBHOOK_CACHE_SECONDS=600))
    statements = []
    with app.app_context():
        listener = lambda *args: statements.append(args[2])  # noqa: E731 (before_cursor_execute's statement)
        sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        for n in range(3):
            submit(app.test_client(), "nyhetsbrev", {"epost": f"p{n}@example.org", "samtycke": "y"})
    finally:
        with app.app_context():
            sa.event.remove(db.engine, "before_cursor_execute", listener)
    assert sum("webhook_endpoints" in statement for statement in statements) == 1
    assert not any("webhook_deliveries" in statement for statement in statements)


def test_staff_edit_disable_and_delete_an_endpoint_and_the_audit_log_says_so(app, staff_client, receiver):
    secret = registered_secret(staff_client, receiver.url, ["answer.stored"])
    with app.app_context():
        endpoint_id = db.session.scalar(sa.select(WebhookEndpoint.id))
    path = f"/staff/webhooks/{endpoint_id}"
    data = {"csrf_token": csrf_token(staff_client, path), "url": receiver.url, "events": ["answer.deleted"],
            "new_secret": "y"}  # fmt: skip
    response = staff_client.post(path, data=data)
    assert response.status_code == 303
    new = re.search(r'<code id="secret">(whsec_[^<]+)</code>', staff_client.get(path).get_data(as_text=True)).group(1)
    assert new != secret
    assert staff_client.post(f"{path}/disable", data={"csrf_token": csrf_token(staff_client, path)}).status_code == 303
    submit(app.test_client(), "nyhetsbrev", {"epost": "p@example.org", "samtycke": "y"})
    assert send(app) == (0, 0) and not deliveries(app)  # disabled: nothing queued
    delete = f"{path}/delete"
    assert staff_client.post(delete, data={"csrf_token": csrf_token(staff_client, delete)}).status_code == 303
    with app.app_context():
        assert db.session.get(WebhookEndpoint, endpoint_id) is None
    log = text_of(staff_client.get("/staff/audit"))
    for action in ("webhook_added", "webhook_changed", "webhook_disabled", "webhook_deleted"):
        assert action in log
    assert secret not in log and new not in log


def test_erasing_a_confirmed_subscriber_tells_that_they_left(app, staff_client, receiver):
    """`formsvc erase` removes the subscription; a mailing tool that heard of the subscriber hears they left."""
    secret = registered_secret(staff_client, receiver.url, ["subscriber.left"])
    with app.test_request_context():
        subscription = db.session.get(Subscription, sign_up("kim@example.org", "nyhetsbrev", "v1"))
        subscription.status = "confirmed"
        subscription_id = subscription.id
        db.session.commit()
    assert app.test_cli_runner().invoke(args=["erase", "KIM@example.org"]).exit_code == 0
    send(app)
    [event] = receiver.verified(secret)
    assert event["type"] == "subscriber.left" and event["data"]["subscription"] == subscription_id
    assert "kim@example.org" not in json.dumps(event)


def test_finished_deliveries_are_deleted_after_the_keeping_period(make_app, staff, receiver):
    app = make_app(**settings(FORMSVC_WEBHOOK_KEEP_DAYS=0))
    staff_client = app.test_client()
    login(staff_client, *staff)
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    submit(app.test_client(), "nyhetsbrev", {"epost": "p@example.org", "samtycke": "y"})
    assert send(app) == (1, 0)
    assert len(receiver.received) == 1 and deliveries(app) == []


def test_an_endpoint_deleted_while_its_event_is_being_sent_stops_nothing(app, staff_client, receiver):
    """Bad input: staff delete the endpoint while the sender waits for its receiver."""
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    submit(app.test_client(), "nyhetsbrev", {"epost": "p@example.org", "samtycke": "y"})
    with app.app_context():
        endpoint_id = db.session.scalar(sa.select(WebhookEndpoint.id))
    receiver.hold = threading.Event()
    outcome = []
    sender = threading.Thread(target=lambda: outcome.append(send(app)))
    sender.start()
    try:
        assert receiver.in_request.wait(10)
        delete = f"/staff/webhooks/{endpoint_id}/delete"
        assert staff_client.post(delete, data={"csrf_token": csrf_token(staff_client, delete)}).status_code == 303
    finally:
        receiver.hold.set()
        sender.join()
    assert outcome == [(0, 0)] and deliveries(app) == []


def test_the_send_command_says_what_it_did(app, staff_client, receiver):
    registered_secret(staff_client, receiver.url, ["answer.stored"])
    submit(app.test_client(), "nyhetsbrev", {"epost": "p@example.org", "samtycke": "y"})
    result = app.test_cli_runner().invoke(args=["webhooks", "send"])
    assert result.exit_code == 0 and result.output.strip() == "Delivered 1, failed 0."
    assert len(receiver.received) == 1


def test_an_open_link_answer_waits_for_review_and_accepting_it_replaces_the_current_one(app, staff_client, receiver):
    """Anyone may name an organisation on the open link: that answer is stored (and told as pending review),
    and only when staff accept it does it replace the organisation's answer from its personal link."""
    secret = registered_secret(staff_client, receiver.url)
    add_organisation(app, "Exempelkommunen")
    invited = personal_link_client(app, "nominering", "Exempelkommunen")
    current = submit(invited, "nominering", NOMINERING).headers["Location"].rsplit("/", 1)[-1]
    stranger = submit(app.test_client(), "nominering", {**NOMINERING, "organisation": "Exempelkommunen"})
    pending = stranger.headers["Location"].rsplit("/", 1)[-1]
    send(app)
    stored = {e["data"]["reference"]: e["data"] for e in receiver.verified(secret)}
    assert stored[current]["current"] is True and stored[current]["review"] is None
    assert stored[pending]["current"] is False and stored[pending]["review"] == "pending"
    assert len(stored) == 2  # nothing replaced yet
    accept = f"/staff/invitations/nominering/answers/{pending}/accept"
    assert staff_client.post(accept, data={"csrf_token": csrf_token(staff_client)}).status_code == 303
    send(app)
    [*_, replaced] = receiver.verified(secret)
    assert replaced["type"] == "answer.replaced"
    assert replaced["data"] == {"reference": current, "form": "nominering", "replaced_by": pending}


def test_allowed_hosts_written_as_one_string_in_the_config_file_work(make_app, staff, receiver):
    """Bad input: FORMSVC_WEBHOOK_ALLOWED_HOSTS in instance/config.py as "a, b" rather than a list."""
    app = make_app(**settings(FORMSVC_WEBHOOK_ALLOWED_HOSTS="localhost, 127.0.0.1"))
    staff_client = app.test_client()
    login(staff_client, *staff)
    assert register(staff_client, receiver.url).status_code == 303
    assert register(staff_client, "https://system.example.net/hook").status_code == 422
