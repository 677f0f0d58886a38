"""Under load and under faults, nothing acknowledged is lost.

- load: gunicorn with several workers, 2 000+ submissions from 32 concurrent clients; every answer that got
  its 303 is in the database; no 5xx; no "database is locked".
- crash: a worker killed with SIGKILL while submissions run; no acknowledged answer lost, none half-stored.
- mail outage: the mail server down while 200 answers and 50 newsletter sign-ups arrive; submissions never
  wait for it; once it is back, two senders at once deliver every mail exactly once.
Run on SQLite and PostgreSQL (FORMSVC_TEST_DATABASE_URL). The database runs with the service's own settings
(WAL, durable commits, busy timeout), but the SQLite file lives in memory (/dev/shm) and PostgreSQL commits
without waiting for its disk: these tests are about concurrency and crashes of the app, kept to seconds;
the durability of the disk itself is the database's business, not something a test here can show.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
from conftest import free_port
from helpers import hidden_values
from sqlalchemy.engine import make_url

from formsvc.extensions import db
from formsvc.mail import PENDING, SENT, OutboxMessage, send_outbox
from formsvc.models import AnswerCount, AnswerValue, Response, utcnow

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = 32
SUBMISSIONS = int(os.environ.get("FORMSVC_LOAD_SUBMISSIONS", "2016"))  # 63 per client
REFERENCE = re.compile(r"/tack/([A-Z0-9]{4}-[A-Z0-9]{4})")


class Gunicorn:
    """The app under gunicorn with the project's gunicorn.conf.py, on a free port, in production mode."""

    def __init__(self, database_url: str, tmp_path: Path, workers: int):
        self.port = free_port()
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        settings = {
            "SECRET_KEY": uuid.uuid4().hex,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "FORMSVC_PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "RATELIMIT_ENABLED": False,  # the load comes from one address; the limits are tested elsewhere
            "FORMSVC_SECRETARIAT_EMAIL": "sekretariat@example.org",
            "MAIL_SERVER": None,
            "FORMSVC_MAIL_DIR": str(tmp_path / "mail"),
        }
        command = [
            sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
            "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers), "--access-logfile", "/dev/null",
            f"formsvc:create_app({settings!r})",
        ]  # fmt: skip
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(command, cwd=ROOT, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until_ready(workers)

    def wait_until_ready(self, workers: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, self.log_path.read_text()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/healthz")
                if connection.getresponse().status == 200 and len(self.worker_pids()) == workers:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise AssertionError("gunicorn did not start:\n" + self.log_path.read_text())

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]

    def stop(self) -> str:
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def fast_url(backend, database_urls):
    """A clean database of this test's backend that commits without waiting for a disk."""
    if backend == "sqlite":
        folder = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(database_urls["sqlite"]).parent
        path = folder / f"formsvc-load-{uuid.uuid4().hex}.sqlite3"
        shutil.copy(make_url(database_urls["sqlite"]).database, path)
        yield f"sqlite:///{path}"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    else:
        url = make_url(database_urls["postgresql"]).update_query_dict({"options": "-c synchronous_commit=off"})
        yield url.render_as_string(hide_password=False)


@pytest.fixture
def app(make_app, fast_url):
    return make_app(SQLALCHEMY_DATABASE_URI=fast_url)


@pytest.fixture
def serve(app, tmp_path):
    started = []

    def start(workers: int) -> Gunicorn:
        server = Gunicorn(app.config["SQLALCHEMY_DATABASE_URI"], tmp_path, workers)
        started.append(server)
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


class Browser:
    """One client: a kept-alive connection, a session cookie and the form's CSRF token, as a browser has."""

    def __init__(self, port: int, slug: str):
        self.port, self.slug = port, slug
        self.connect()
        response = self.request("GET", f"/f/{slug}")
        html = response.read().decode()
        self.cookie = response.getheader("Set-Cookie").split(";")[0]
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)

    def connect(self) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def request(self, method: str, path: str, body: str | None = None, headers: dict | None = None):
        self.connection.request(method, path, body=body, headers=headers or {})
        return self.connection.getresponse()

    def post(self, fields: dict) -> tuple[int, str | None]:
        """POST an answer; (status, reference of the receipt when acknowledged)."""
        body = urlencode({"csrf_token": self.csrf, **fields}, doseq=True)
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie}
        response = self.request("POST", f"/f/{self.slug}", body, headers)
        response.read()
        location = response.getheader("Location") or ""
        match = REFERENCE.search(location)
        return response.status, match.group(1) if match else None


def stored_references(app) -> list[str]:
    with app.app_context():
        references = list(db.session.scalars(sa.select(Response.reference)))
        db.session.remove()
        return references


def test_no_answer_is_lost_under_load(app, serve):
    server = serve(workers=3)
    per_client = -(-SUBMISSIONS // CLIENTS)

    def client(number: int) -> list[tuple[int, str | None]]:
        browser = Browser(server.port, "nyhetsbrev")
        results = []
        for index in range(per_client):
            key = f"load-{number}-{index}"
            results.append(browser.post({"submission_key": key, "epost": f"p{number}.{index}@example.org",
                                         "samtycke": "y"}))
        return results

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [result for batch in pool.map(client, range(CLIENTS)) for result in batch]
    log = server.stop()

    statuses = Counter(status for status, _ in results)
    assert len(results) >= SUBMISSIONS
    assert statuses == {303: len(results)}, statuses
    acknowledged = {reference for _, reference in results}
    assert len(acknowledged) == len(results)
    assert set(stored_references(app)) == acknowledged
    assert "database is locked" not in log and "Traceback" not in log, log[-3000:]


ANSLUTNING = {
    "organisation": "Exempelkommunen", "organisationstyp": "kommun", "kontaktperson": "Ada Andersson",
    "fokusomraden": ["makt", "halsa", "vald"], "nyhetsbrev": "nej", "samtycke": "y",
}
VALUES_PER_ANSWER = 5  # organisationstyp 1 + fokusomraden 3 + nyhetsbrev 1


def test_a_worker_killed_mid_submission_loses_no_acknowledged_answer_and_leaves_none_half_stored(app, serve):
    server = serve(workers=2)
    clients, per_client = 8, 25
    acknowledged: dict[str, str] = {}  # submission key -> reference
    lock = threading.Lock()
    killed = threading.Event()
    broken = Counter()

    def client(number: int) -> None:
        browser = Browser(server.port, "anslutning")
        for index in range(per_client):
            key = f"crash-{number}-{index}"
            fields = {**ANSLUTNING, "submission_key": key, "epost": f"k{number}.{index}@example.org"}
            for _attempt in range(20):  # a person whose page failed presses "Skicka" again
                try:
                    status, reference = browser.post(fields)
                except (OSError, http.client.HTTPException):
                    broken["connection lost"] += 1
                    browser.connect()
                    continue
                if status == 303:
                    with lock:
                        acknowledged[key] = reference
                    break
                broken[status] += 1
                time.sleep(0.05)

    def killer() -> None:
        while len(acknowledged) < clients * per_client // 4:
            time.sleep(0.01)
        os.kill(server.worker_pids()[0], signal.SIGKILL)
        killed.set()

    threading.Thread(target=killer, daemon=True).start()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    log = server.stop()

    assert killed.is_set()
    assert "SIGKILL" in log, log[-2000:]
    assert len(acknowledged) == clients * per_client, broken
    assert not [status for status in broken if isinstance(status, int) and status >= 500], broken
    with app.app_context():
        stored = dict(db.session.execute(sa.select(Response.submission_key, Response.reference)).all())
        assert stored == acknowledged  # every acknowledged answer, once, and nothing unacknowledged
        values = Counter(db.session.scalars(sa.select(AnswerValue.response_id)))
        assert sorted(set(values.values())) == [VALUES_PER_ANSWER]  # every answer whole
        assert len(values) == len(stored)
        kept = db.session.scalar(sa.select(AnswerCount.count).filter_by(field="fokusomraden", value="makt"))
        assert kept == len(stored)  # the counts kept by triggers, under concurrent answers
        mails = Counter(db.session.scalars(sa.select(OutboxMessage.recipient)))
        assert mails.pop("sekretariat@example.org") == len(stored)
        assert len(mails) == len(stored) and len(set(mails.values())) == 1  # each answer's mails, all of them
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(sa.text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()


class Tarpit:
    """A mail server that takes connections and never answers: anything that waits for it hangs."""

    def __init__(self):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)
        self.port = self.socket.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        held = []
        while True:
            try:
                held.append(self.socket.accept()[0])
            except OSError:
                return
            self.connections += 1

    def close(self):
        self.socket.close()


def test_a_mail_outage_slows_no_submission_and_every_mail_is_delivered_once_when_it_is_back(
    make_app, fast_url, smtp
):
    tarpit = Tarpit()
    app = make_app(SQLALCHEMY_DATABASE_URI=fast_url, MAIL_PORT=tarpit.port)
    client = app.test_client()
    token = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))["csrf_token"]
    slowest = 0.0
    for number in range(250):
        if number % 5 == 4:  # 50 newsletter sign-ups among 200 organisations joining
            answer, slug = {"epost": f"n{number}@example.org", "samtycke": "y"}, "nyhetsbrev"
        else:
            answer, slug = {**ANSLUTNING, "epost": f"a{number}@example.org"}, "anslutning"
        started = time.monotonic()
        sent = client.post(f"/f/{slug}", data={**answer, "csrf_token": token, "submission_key": f"mail-{number}"})
        assert sent.status_code == 303
        slowest = max(slowest, time.monotonic() - started)
    assert tarpit.connections == 0  # no submission touched the mail server: none waited for it
    assert slowest < 5, slowest
    tarpit.close()

    smtp.stop()  # still down for the first delivery round: one attempt says so, every mail is kept
    with app.app_context():
        assert send_outbox() == (0, 1)
        assert set(db.session.scalars(sa.select(OutboxMessage.status))) == {PENDING}
        expected = set(db.session.scalars(sa.select(OutboxMessage.message_id)))
        db.session.execute(sa.update(OutboxMessage).values(next_attempt_at=utcnow()))  # the back-off has passed
        db.session.commit()
        db.session.remove()

    smtp.start()
    # The same database and the mail server's right port: as a sender on another host would be.
    sender_app = make_app(SQLALCHEMY_DATABASE_URI=fast_url)

    def sender(_number: int) -> int:
        total = 0
        with sender_app.app_context():
            while True:
                sent, _failed = send_outbox(limit=10)
                total += sent
                if not sent:
                    db.session.remove()
                    return total
    with ThreadPoolExecutor(2) as pool:  # two senders at once, as on two hosts
        per_sender = list(pool.map(sender, range(2)))

    delivered = Counter(message["Message-ID"] for message in smtp.messages)
    assert set(delivered) == expected
    assert set(delivered.values()) == {1}  # every mail exactly once
    assert sum(per_sender) == len(expected) and min(per_sender) > 0  # both senders took part
    with app.app_context():
        assert set(db.session.scalars(sa.select(OutboxMessage.status))) == {SENT}
