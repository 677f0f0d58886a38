"""The database: engine settings that make SQLite safe, migrations, `init-db` and /healthz."""

from __future__ import annotations

from functools import wraps

import click
import flask_migrate
from flask import Flask, g, has_app_context
from flask.cli import with_appcontext
from sqlalchemy import event, text

from .config import PACKAGE_DIR
from .extensions import db, migrate

MIGRATIONS_DIR = str(PACKAGE_DIR / "migrations")


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_connect)
            event.listen(db.engine, "begin", _sqlite_begin)
    app.cli.add_command(init_db_command)
    app.add_url_rule("/healthz", "healthz", read_only(healthz))


def _sqlite_connect(dbapi_connection, _record) -> None:
    # WAL lets readers work while one writes; FULL makes a commit durable before we answer;
    # the busy timeout makes a writer wait its turn instead of failing with "database is locked".
    dbapi_connection.isolation_level = None  # we issue BEGIN ourselves, below
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection) -> None:
    # Take the write lock at the start: a transaction that reads and then writes could otherwise
    # fail at once with SQLITE_BUSY when another writer got in between (the busy timeout does not help).
    # A view marked read_only only reads: WAL lets it read beside a writer, so it need not wait for one.
    if has_app_context() and g.get("read_only"):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def read_only(view):
    """Mark a view that never writes, so its SQLite transactions do not queue for the write lock.

    Opt-in, not by HTTP method: some GETs write (exports are audited, links are confirmed)."""

    @wraps(view)
    def marked(*args, **kwargs):
        g.read_only = True
        return view(*args, **kwargs)

    return marked


def upgrade_schema() -> None:
    """Create the schema, or bring it up to date."""
    flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="heads")


@click.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Create the database schema, or migrate it to the newest version."""
    upgrade_schema()
    click.echo("The database is up to date.")


def healthz():
    """200 when the database answers, 503 when it does not."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not healthy", which is the answer
        return {"status": "database unavailable"}, 503
    return {"status": "ok"}
