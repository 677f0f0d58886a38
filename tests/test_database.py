"""The database: durable SQLite settings, the schema from migrations, and /healthz."""

from __future__ import annotations

import sqlalchemy as sa

from formsvc.extensions import db


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
