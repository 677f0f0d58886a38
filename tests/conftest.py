"""Fixtures: app, client, runner, smtp (a real SMTP server on loopback), and the database per backend.

Every test that takes `app` runs on SQLite and, when FORMSVC_TEST_DATABASE_URL is set, on PostgreSQL.
The schema is built once per backend and test worker by the real migrations.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import uuid
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from sqlalchemy.engine import make_url
from werkzeug.security import generate_password_hash

from formsvc import create_app
from formsvc.database import upgrade_schema
from formsvc.extensions import db
from formsvc.staff.models import StaffUser

POSTGRES_URL = os.environ.get("FORMSVC_TEST_DATABASE_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Mailbox:
    """Collects what the SMTP server receives."""

    def __init__(self):
        self.messages: list[EmailMessage] = []
        self.peers: list[tuple[str, int]] = []  # the client's address for each message: one per connection
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        with self.lock:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            self.peers.append(session.peer)
        return "250 OK"


class SMTPServer:
    def __init__(self):
        self.port = free_port()
        self.mailbox = Mailbox()
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.running = False

    def start(self):
        if not self.running:
            self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
            self.controller.start()
            self.running = True

    def stop(self):
        if self.running:
            self.controller.stop()
            self.running = False

    @property
    def messages(self) -> list[EmailMessage]:
        return list(self.mailbox.messages)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in m["To"]]

    def clear(self):
        with self.mailbox.lock:
            self.mailbox.messages.clear()
            self.mailbox.peers.clear()

    @property
    def connections(self) -> int:
        return len(set(self.mailbox.peers))


@pytest.fixture(scope="session")
def smtp_server():
    server = SMTPServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium through Playwright, one per test worker: Playwright's sync API allows only one
    running instance per process, so every browser test shares this one."""
    from browser_support import CHROMIUM, CHROMIUM_ARGS
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make chromium` installs it (apt-get install -y chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def smtp(smtp_server):
    """The loopback SMTP server, emptied for this test and running."""
    smtp_server.start()
    smtp_server.clear()
    yield smtp_server
    smtp_server.start()


def _migrate(url: str, tmp_path) -> None:
    app = create_app(_settings(url, tmp_path, mail_port=25))
    with app.app_context():
        upgrade_schema()
        db.engine.dispose()


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory, worker_id):
    """One migrated database per backend for this test worker."""
    folder = tmp_path_factory.mktemp("db")
    urls = {"sqlite": f"sqlite:///{folder / 'template.sqlite3'}"}
    _migrate(urls["sqlite"], folder)
    admin = None
    if POSTGRES_URL:
        base = make_url(POSTGRES_URL)
        # Unique per run: several test runs may share this PostgreSQL server at once.
        name = f"formsvc_test_{worker_id}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        urls["postgresql"] = base.set(database=name).render_as_string(hide_password=False)
        _migrate(urls["postgresql"], folder)
    yield urls
    if admin is not None:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _settings(url: str, tmp_path, mail_port: int, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": mail_port,
        "MAIL_SUPPRESS_SEND": False,  # Flask-Mail would not send when TESTING; we want real SMTP
        "MAIL_DEFAULT_SENDER": "Social hållbarhet <social.hallbarhet@example.org>",
        "FORMSVC_SECRETARIAT_EMAIL": "sekretariat@example.org",
        "FORMSVC_MAIL_DIR": str(tmp_path / "mail"),
        "RATELIMIT_ENABLED": False,
        **extra,
    }


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def make_app(backend, database_urls, smtp_server, tmp_path):
    """Build an app on a clean database of this test's backend; settings may be overridden."""
    made = []
    if backend == "sqlite":
        template = make_url(database_urls["sqlite"]).database
        copy = tmp_path / "formsvc.sqlite3"
        shutil.copy(template, copy)
        url = f"sqlite:///{copy}"
    else:
        url = database_urls["postgresql"]

    def make(**extra):
        app = create_app(_settings(url, tmp_path, smtp_server.port, **extra))
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    if backend == "postgresql":  # SQLite got a fresh copy; PostgreSQL is emptied for the next test
        engine = sa.create_engine(url)
        tables = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        engine.dispose()


@pytest.fixture
def app(make_app):
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


STAFF_EMAIL = "handlaggare@example.org"
STAFF_PASSWORD = "ett långt lösenord 42"


# A quick hash of the same password: login checks any werkzeug hash, and a scrypt hash per test costs
# a quarter of a second. Accounts made the real way (`staff add`) get scrypt; test_staff_auth checks it.
QUICK_STAFF_HASH = generate_password_hash(STAFF_PASSWORD, "pbkdf2:sha256:1000")


def staff_user() -> StaffUser:
    """The test staff account (an Administratör), with the quick hash."""
    return StaffUser(email=STAFF_EMAIL, password_hash=QUICK_STAFF_HASH, session_token=uuid.uuid4().hex, role="admin")


@pytest.fixture
def staff(app):
    """A staff account; returns (email, password)."""
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()
    return STAFF_EMAIL, STAFF_PASSWORD


@pytest.fixture
def staff_client(app, client, staff):
    """A test client logged in as staff."""
    from helpers import login

    assert login(client, *staff).status_code == 303
    return client
