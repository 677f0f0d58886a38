"""`formsvc backup PATH`: a consistent copy of the SQLite database while answers keep coming, and a restore.

On PostgreSQL the command copies nothing and says how to use pg_dump instead."""

from __future__ import annotations

import shutil
import sqlite3
import threading
from contextlib import closing

import sqlalchemy as sa
from conftest import _settings
from helpers import SQLITE_ONLY, submit
from test_invitations import PUBLIC, answer_via_link, enter, invited_tokens, nomination

from formsvc import create_app
from formsvc.extensions import db
from formsvc.mail import OutboxMessage
from formsvc.models import Organisation, Response


def joining(number: int) -> dict:
    """An answer to the joining form from organisation `number`, with its own contact address."""
    return {
        "organisation": f"Förening {number}",
        "organisationstyp": "civilsamhalle",
        "kontaktperson": f"Kontakt {number}",
        "epost": f"kontakt{number}@example.org",
        "fokusomraden": ["makt", "vald"],
        "valkomstpaket": ["natverk"],
        "samtycke": "y",
    }


class AnswerStream(threading.Thread):
    """Answers the joining form, one after another, as visitors would, until told to stop.

    `acknowledged` lists (number, reference) of each answer that got its 303 and receipt address."""

    def __init__(self, app):
        super().__init__(daemon=True)
        self.client = app.test_client()
        self.acknowledged: list[tuple[int, str]] = []
        self.failures: list[int] = []
        self.stop = threading.Event()

    def run(self):
        number = 0
        while not self.stop.is_set():
            number += 1
            response = submit(self.client, "anslutning", joining(number))
            if response.status_code != 303:
                self.failures.append(response.status_code)
                continue
            self.acknowledged.append((number, response.headers["Location"].rsplit("/", 1)[1]))

    def wait_for(self, count: int) -> None:
        while len(self.acknowledged) < count and self.is_alive():
            self.stop.wait(0.01)


def outbox_of(app, recipient: str) -> list[tuple]:
    with app.app_context():
        rows = db.session.execute(
            sa.select(OutboxMessage.message_id, OutboxMessage.template, OutboxMessage.subject)
            .filter_by(recipient=recipient).order_by(OutboxMessage.id)
        )
        return [tuple(row) for row in rows]


@SQLITE_ONLY
def test_a_backup_during_a_stream_of_answers_restores_every_acknowledged_one(
    make_app, smtp, tmp_path, backend
):
    app = make_app(FORMSVC_PUBLIC_URL=PUBLIC)
    runner = app.test_cli_runner()

    # History: three organisations answer through their invitation links, each twice (the first is kept,
    # replaced by the second).
    tokens = invited_tokens(app, smtp, runner, 3)
    for number, token in enumerate(tokens.values(), start=1):
        browser, _ = enter(app, token)
        assert answer_via_link(app, token, nomination(number), browser).status_code == 303
        answer = nomination(number, ledamot_namn=f"Ny ledamot {number}")
        assert answer_via_link(app, token, answer, browser).status_code == 303

    stream = AnswerStream(app)
    stream.start()
    try:
        stream.wait_for(5)
        before = list(stream.acknowledged)  # every answer acknowledged before the backup begins
        backup = tmp_path / "backups" / "formsvc-copy.sqlite3"
        backup.parent.mkdir()
        result = runner.invoke(args=["backup", str(backup)])
        assert result.exit_code == 0, result.output
        assert "Backed up" in result.output
        stream.wait_for(len(stream.acknowledged) + 5)  # answers keep coming after it
    finally:
        stream.stop.set()
        stream.join(30)
    assert stream.failures == []
    assert len(stream.acknowledged) > len(before) >= 5

    # Restore as docs/operations.md says: the one file into place, then init-db.
    restored_file = tmp_path / "restored" / "formsvc.sqlite3"
    restored_file.parent.mkdir()
    shutil.copy(backup, restored_file)
    restored = create_app(_settings(f"sqlite:///{restored_file}", tmp_path / "restored", smtp.port))
    try:
        assert restored.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
        with restored.app_context():
            references = set(db.session.scalars(sa.select(Response.reference).filter_by(form_slug="anslutning")))
            for number, reference in before:
                assert reference in references, (number, reference)
                answer = db.session.scalar(sa.select(Response).filter_by(reference=reference))
                assert answer.answers["epost"] == f"kontakt{number}@example.org"
            # The history: two answers per organisation, the first replaced by the second.
            for name in tokens:
                history = db.session.execute(
                    sa.select(Response.answers["ledamot_namn"].as_string(), Response.is_current)
                    .join(Organisation).filter(Organisation.name == name).order_by(Response.id)
                ).all()
                number = int(name.split()[-1])
                assert [tuple(row) for row in history] == [(f"Ledamot {number}", False),
                                                          (f"Ny ledamot {number}", True)]
        # Each acknowledged answer's mails, exactly as they were queued.
        for number, _reference in before:
            address = f"kontakt{number}@example.org"
            assert outbox_of(restored, address) == outbox_of(app, address) != []
        assert outbox_of(restored, "sekretariat@example.org")[: len(before)] == \
            outbox_of(app, "sekretariat@example.org")[: len(before)]
    finally:
        with restored.app_context():
            db.engine.dispose()


@SQLITE_ONLY
def test_the_backup_is_one_file_and_replaces_an_older_one_whole(app, runner, tmp_path, backend):
    backup = tmp_path / "formsvc-copy.sqlite3"
    backup.write_bytes(b"an older backup")
    result = runner.invoke(args=["backup", str(backup)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("formsvc-copy")) == ["formsvc-copy.sqlite3"]
    assert backup.read_bytes()[:16] == b"SQLite format 3\0"
    with app.app_context():
        database = db.engine.url.database
    refused = runner.invoke(args=["backup", database])
    assert refused.exit_code == 1 and "is the database itself" in refused.output
    nowhere = runner.invoke(args=["backup", str(tmp_path / "no-such-folder" / "copy.sqlite3")])
    assert nowhere.exit_code == 1 and "does not exist" in nowhere.output


def test_a_missing_database_is_an_error_not_a_new_empty_file(tmp_path):
    missing = tmp_path / "gone.sqlite3"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{missing}"})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 1 and "Could not back up" in result.output
    assert not missing.exists() and not (tmp_path / "copy.sqlite3").exists()


def test_on_postgresql_it_copies_nothing_and_gives_the_pg_dump_command(tmp_path):
    """The configured URL has a password: the printed command line leaves it out."""
    url = "postgresql+psycopg://formsvc:hemligt-l%C3%B6senord@db.example.org:5433/formsvc?sslmode=require"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "formsvc.dump")])
    assert result.exit_code == 1
    assert "copies SQLite databases only" in result.output and "nothing was copied" in result.output
    expected = (f"pg_dump --format=custom --file={tmp_path / 'formsvc.dump'} "
                "'--dbname=postgresql://formsvc@db.example.org:5433/formsvc?sslmode=require'")
    assert expected in result.output
    assert "hemligt" not in result.output and "l%C3%B6senord" not in result.output
    assert "pg_restore --clean --if-exists --no-owner" in result.output
    assert not (tmp_path / "formsvc.dump").exists()


@SQLITE_ONLY
def test_the_copy_leaves_out_what_is_not_committed_and_does_not_wait_for_it(app, runner, tmp_path, backend):
    """A write transaction is open (an answer half-stored) while the backup runs: the copy is made
    without waiting for it, and holds none of it."""
    with app.app_context():
        database = db.engine.url.database
    writer = sqlite3.connect(database, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("INSERT INTO organisations (name, name_key, type, created_at) "
                       "VALUES ('Halvsparad förening', 'halvsparad förening', 'annan', '2026-12-01 19:00:00')")
        result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
        assert result.exit_code == 0, result.output
        writer.execute("COMMIT")
    finally:
        writer.close()
    with closing(sqlite3.connect(tmp_path / "copy.sqlite3")) as copy:
        assert copy.execute("SELECT count(*) FROM organisations").fetchone() == (0,)
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    with closing(sqlite3.connect(database)) as source:
        assert source.execute("SELECT name FROM organisations").fetchall() == [("Halvsparad förening",)]
