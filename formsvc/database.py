"""The database: engine settings that make SQLite safe, migrations, `init-db`, `backup` and /healthz.

The rule for transactions (docs/architecture.md): functions that change data never commit; the request
or CLI command that called them commits, once. tests/test_transactions.py checks it.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache, partial, wraps
from pathlib import Path

import click
import flask_migrate
import sqlalchemy as sa
from flask import Flask, current_app, g, has_app_context
from flask.cli import with_appcontext
from sqlalchemy import event, text
from sqlalchemy.dialects import postgresql, sqlite

from .backup import backup_command
from .checkpoints import LogCheckpointer
from .config import PACKAGE_DIR
from .extensions import db, migrate

MIGRATIONS_DIR = str(PACKAGE_DIR / "migrations")
BUSY_TIMEOUT_MS = 15000


def init_app(app: Flask) -> None:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        # A server may have closed an idle connection (a restart, a firewall): check each before use.
        app.config["SQLALCHEMY_ENGINE_OPTIONS"].setdefault("pool_pre_ping", True)
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_connect)
            lock = writers_lock(db.engine)
            event.listen(db.engine, "begin", partial(_sqlite_begin, lock))
            if lock:
                checkpointer = LogCheckpointer(db.engine, lock, BUSY_TIMEOUT_MS)
                app.wsgi_app = checkpointer.after_each_response(app.wsgi_app)
    app.cli.add_command(init_db_command)
    app.cli.add_command(backup_command)
    app.add_url_rule("/healthz", "healthz", read_only(healthz))


def _sqlite_connect(dbapi_connection, _record) -> None:
    # WAL lets readers work while one writes; FULL makes a commit durable before we answer;
    # the busy timeout makes a writer wait its turn instead of failing with "database is locked".
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(lock: WritersLock | None, connection) -> None:
    # Take the write lock at the start: a transaction that reads and then writes could otherwise
    # fail at once with SQLITE_BUSY when another writer got in between (the busy timeout does not help).
    # A view marked read_only only reads: WAL lets it read beside a writer, so it need not wait for one.
    WritersLock.release(connection.info)  # this connection's last transaction is over
    if has_app_context() and g.get("read_only"):
        connection.exec_driver_sql("BEGIN")
        return
    if lock:
        lock.acquire(connection.info)
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except Exception:
        WritersLock.release(connection.info)
        raise


class WritersLock:
    """A lock file that the writers of one SQLite database queue on, in every process.

    SQLite's own busy handler polls: a waiting writer sleeps in growing steps (up to 100 ms) and may sleep
    on well after the lock came free, which made answers slow under load. flock() hands the lock on as
    soon as it is released, and the kernel releases it when a process dies. Held from BEGIN until the
    connection goes back to the pool, or begins again: not released at SQLAlchemy's commit event, which
    comes before SQLite's COMMIT has run (the next writer would then meet SQLite's lock and poll after all).
    Its descriptor is kept in the connection's info."""

    def __init__(self, path: str):
        self.path = path

    def acquire(self, info: dict) -> None:
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        info["writers_lock"] = descriptor
        _held_here.count = WritersLock.held_here() + 1

    @staticmethod
    def release(info: dict) -> None:
        descriptor = info.pop("writers_lock", None)
        if descriptor is not None:
            os.close(descriptor)  # closing the file releases the flock
            _held_here.count = max(0, WritersLock.held_here() - 1)  # (a pool may drop it from another thread)

    @staticmethod
    def held_here() -> int:
        """How many of this thread's connections hold the lock (another acquire would wait forever)."""
        return getattr(_held_here, "count", 0)


_held_here = threading.local()


def writers_lock(engine: sa.Engine) -> WritersLock | None:
    """The database file's writers lock, released when its connection goes back to the pool (after the
    COMMIT or ROLLBACK) or is dropped; None in memory."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    for name in ("reset", "invalidate", "close"):
        event.listen(engine.pool, name, _release_with_pool)
    return WritersLock(f"{database}.writers")


def _release_with_pool(_dbapi_connection, connection_record, _reason=None) -> None:
    WritersLock.release(connection_record.info)


def read_only(view):
    """Mark a view that never writes, so its SQLite transactions do not queue for the write lock.

    Opt-in, not by HTTP method: some GETs write (exports are audited, links are confirmed)."""

    @wraps(view)
    def marked(*args, **kwargs):
        g.read_only = True
        return view(*args, **kwargs)

    return marked


@contextmanager
def write_transaction() -> Iterator[sa.Connection]:
    """A short transaction for plain INSERTs and UPDATEs, committed when the block ends (rolled back if
    it raises).

    It runs on a connection of its own, not through the ORM session: the session's bookkeeping costs
    more than the statements an answer needs, and on SQLite every other answer waits for this one.
    When the session has a transaction open already, that one is used (a second connection would wait
    for the SQLite writers lock the first holds). In a rehearsal (rehearsal.py) nothing is kept."""
    if has_app_context() and g.get("rehearsal"):
        yield db.session.connection()
        db.session.rollback()
        return
    if db.session().in_transaction():
        try:
            yield db.session.connection()
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return
    with db.engine.begin() as connection:
        yield connection


@cache
def insert_unless_present(table: sa.Table, dialect_name: str, returning: str | None = None):
    """INSERT ... ON CONFLICT DO NOTHING: where a unique column already holds the value, nothing is
    inserted (and RETURNING `returning` returns no row), without the error and savepoint a plain INSERT
    would need. Built once per table and dialect."""
    statement = (sqlite if dialect_name == "sqlite" else postgresql).insert(table).on_conflict_do_nothing()
    return statement.returning(table.c[returning]) if returning else statement


def upgrade_schema() -> None:
    """Create the schema, or bring it up to date."""
    flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="heads")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database schema, or migrate it to the newest version; then load the forms folder's
    definitions that the database does not have yet (once: later changes are made by staff)."""
    from .editor.publishing import import_path  # the editor's store uses this module's helpers

    upgrade_schema()
    added = import_path(Path(current_app.config["FORMSVC_FORMS_DIR"]), actor="system", only_new=True)
    db.session.commit()
    for slug, _ in added:
        click.echo(f"Form {slug} loaded from the forms folder.")
    click.echo("The database is up to date.")


def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", which is the answer
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
