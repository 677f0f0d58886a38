"""The database: durable SQLite settings, the schema from migrations, and /healthz."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

import pytest
import sqlalchemy as sa
from helpers import SQLITE_ONLY, hidden_values

from formsvc.answers import store_answer
from formsvc.catalog import catalog
from formsvc.extensions import db
from formsvc.mail import OutboxMessage
from formsvc.models import Organisation, Response
from formsvc.newsletter.models import NewsletterToken, Subscription


def test_commits_are_durable(app, backend):
    """SQLite: WAL, synchronous FULL, a busy timeout, foreign keys. PostgreSQL: synchronous commit on."""
    with app.app_context():
        connection = db.session.connection()
        if backend == "postgresql":
            assert connection.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
            assert connection.exec_driver_sql("SHOW fsync").scalar() == "on"
            return
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_the_migrated_schema_matches_the_models(app):
    """Every model's table and column exists in the database the migrations built."""
    with app.app_context():
        inspector = sa.inspect(db.engine)
        for table in db.metadata.sorted_tables:
            columns = {c["name"] for c in inspector.get_columns(table.name)}
            assert {c.name for c in table.columns} <= columns, table.name


def test_healthz_answers_when_the_database_does(client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_healthz_says_so_when_the_database_is_gone(make_app, tmp_path):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/folder/db.sqlite3")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503




@SQLITE_ONLY
def test_a_form_page_is_served_while_another_process_holds_the_sqlite_write_lock(app):
    """Pages that only read do not queue behind a writer (which would take up to the 15 s busy timeout);
    an answer sent meanwhile waits its turn and is stored once the writer is done."""
    writer = sqlite3.connect(sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    try:
        client = app.test_client()
        page = client.get("/f/nyhetsbrev")
        assert page.status_code == 200
        assert client.get("/healthz").status_code == 200
        answer = {**hidden_values(page.get_data(as_text=True)), "epost": "ada@example.org", "samtycke": "y"}
        result = {}
        sender = threading.Thread(target=lambda: result.update(status=client.post("/f/nyhetsbrev", data=answer)
                                                               .status_code))
        sender.start()
        sender.join(timeout=0.5)
        assert sender.is_alive()  # the answer waits for the write lock...
    finally:
        writer.execute("COMMIT")
        writer.close()
    sender.join(timeout=10)
    assert result == {"status": 303}  # ...and is stored once it is free


def writers_lock_is_free(app) -> bool:
    """Whether another process could take the SQLite writers lock (formsvc.database.WritersLock) now."""
    path = sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database + ".writers"
    with open(path, "rb") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
    return True


@SQLITE_ONLY
def test_the_sqlite_writers_lock_is_free_after_every_request(app):
    """Writers queue on a lock file (formsvc.database.WritersLock); a request that ends in any way, a
    stored answer, a refused one or the same answer sent twice, must leave it free for the next writer."""
    client = app.test_client()
    hidden = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))
    answers = [{"epost": "ada@example.org", "samtycke": "y"}, {"epost": "inte en adress"}]
    statuses = []
    for answer in [*answers, answers[0]]:  # the last one repeats the first one's submission key
        statuses.append(client.post("/f/nyhetsbrev", data={**hidden, **answer}).status_code)
        assert writers_lock_is_free(app)
    assert statuses == [303, 422, 303]


@SQLITE_ONLY
def test_the_sqlite_writers_lock_is_held_until_sqlite_has_committed(app):
    """SQLAlchemy's commit event comes before SQLite's COMMIT (and its fsync) has run: a lock given up
    there would send the next writer into SQLite's own lock, where it polls with sleeps."""
    held_at_commit = []

    def try_lock(_connection):
        held_at_commit.append(not writers_lock_is_free(app))

    client = app.test_client()
    answer = {**hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True)), "epost": "ada@example.org"}
    with app.app_context():
        sa.event.listen(db.engine, "commit", try_lock)
        assert client.post("/f/nyhetsbrev", data={**answer, "samtycke": "y"}).status_code == 303
        sa.event.remove(db.engine, "commit", try_lock)
    assert held_at_commit == [True]
    assert writers_lock_is_free(app)  # and free once the request is done


def nothing_of_the_answer_is_stored(key: str, address: str) -> bool:
    """No answer with this submission key, and no sign-up, token or mail for the address."""
    db.session.rollback()  # read what is committed
    return not (
        db.session.scalar(sa.select(Response.id).filter_by(submission_key=key))
        or db.session.scalar(sa.select(Subscription.id).filter_by(email=address))
        or db.session.scalar(sa.select(sa.func.count()).select_from(NewsletterToken))
        or db.session.scalar(sa.select(OutboxMessage.id).filter_by(recipient=address))
    )


def in_a_thread(function, seconds: float = 15):
    """function() in a daemon thread: a test that would wait for a lock its own request holds fails here
    instead of hanging the run. Returns what it returned; raises what it raised."""
    outcome = {}

    def run():
        try:
            outcome["value"] = function()
        except BaseException as error:  # handed to the test
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=seconds)
    assert outcome, f"still waiting after {seconds} s: a lock its own request holds?"
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


def read_through_the_session() -> None:
    """What a request does before it stores an answer, e.g. reading its invitation: the session's
    transaction is then open (on SQLite, with the writers lock)."""
    db.session.scalar(sa.select(Organisation.id).limit(1))
    assert db.session().in_transaction()


@pytest.mark.parametrize("reads_first", [False, True], ids=["own-transaction", "request-transaction"])
def test_an_answer_that_fails_halfway_leaves_nothing_stored(app, reads_first):
    """The answer, its newsletter sign-up, tokens and confirmation mail go in together or not at all, on
    the answer's own connection or in the transaction the request had open."""
    address, key = "ada@example.org", "failing-1"

    def fail_after_the_sign_up(response, connection):
        signed_up = sa.select(Subscription.id).filter_by(email=address)
        assert response.id and connection.execute(signed_up).scalar()  # written, in this transaction
        raise RuntimeError("the disk is full")

    def answer():
        with app.test_request_context("/f/nyhetsbrev", method="POST"):
            if reads_first:
                read_through_the_session()
            with pytest.raises(RuntimeError, match="the disk is full"):
                store_answer(catalog().get("nyhetsbrev"), {"epost": address, "samtycke": True}, key,
                             on_stored=fail_after_the_sign_up)  # fmt: skip
            return nothing_of_the_answer_is_stored(key, address)

    assert in_a_thread(answer)


def test_an_answer_stored_after_the_request_has_read_joins_its_transaction(app):
    """The answer goes into the transaction the request has open: a second connection would wait for the
    SQLite writers lock that one holds, for ever."""

    def answer():
        with app.test_request_context("/f/nyhetsbrev", method="POST"):
            read_through_the_session()
            _response, created = store_answer(catalog().get("nyhetsbrev"), {"epost": "ada@example.org"}, "joined-1")
            return created, db.session().in_transaction()

    assert in_a_thread(answer) == (True, False)  # stored, and that transaction committed
    with app.app_context():
        assert db.session.scalar(sa.select(Response.form_slug).filter_by(submission_key="joined-1")) == "nyhetsbrev"


@pytest.mark.parametrize("backend", ["postgresql"] if os.environ.get("FORMSVC_TEST_DATABASE_URL") else [],
                         indirect=True)  # fmt: skip
def test_postgresql_connections_dropped_by_the_server_are_replaced_unseen(app):
    """A database restart or a firewall ends idle connections; the next request must not fail on a dead one
    (pool_pre_ping on PostgreSQL)."""
    client = app.test_client()
    hidden = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))
    assert client.get("/healthz").status_code == 200  # the pool now holds a connection
    with app.app_context():
        killer = sa.create_engine(app.config["SQLALCHEMY_DATABASE_URI"])
        with killer.connect() as connection:
            ended = connection.exec_driver_sql(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).scalar()
        killer.dispose()
    assert ended >= 1
    assert client.get("/healthz").status_code == 200
    assert client.post("/f/nyhetsbrev", data={**hidden, "epost": "ada@example.org", "samtycke": "y"}).status_code == 303
