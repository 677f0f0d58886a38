"""SQLite's write-ahead log is copied into the database file after a response, never inside an answer's
commit, and it keeps its size under steady writes (formsvc/checkpoints.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import sqlalchemy as sa
from helpers import SQLITE_ONLY, hidden_values

from formsvc import checkpoints
from formsvc.extensions import db

READ_THE_FILE_ALONE = """
import sqlite3, sys
# immutable: SQLite reads the database file alone, not its log (and takes no lock)
database = sqlite3.connect(f"file:{sys.argv[1]}?immutable=1", uri=True)
print(database.execute(sys.argv[2]).fetchone()[0])
"""


def database_path(app) -> str:
    return sa.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database


def in_database_file(app, query: str) -> int:
    """A count read from the database file without its log, in another process: a process that opens and
    closes a database file drops its own SQLite locks on it."""
    run = subprocess.run([sys.executable, "-c", READ_THE_FILE_ALONE, database_path(app), query],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return int(run.stdout)


@SQLITE_ONLY
def test_an_answer_reaches_the_database_file_after_its_response_not_during_it(app, monkeypatch):
    """Sent: a newsletter sign-up, with a checkpoint due at every turn. When the whole response has been
    read, the answer is still in the log only (nobody waited for a checkpoint); once the server closes the
    response, it is in the database file. Before, SQLite checkpointed inside a COMMIT, under the writers
    lock, and this answer stayed in the log until 1000 pages had come."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_SECONDS", 0)
    client = app.test_client()
    hidden = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))
    answer = {**hidden, "epost": "ada@example.org", "samtycke": "y"}
    signed_up = "SELECT count(*) FROM newsletter_subscriptions WHERE email = 'ada@example.org'"

    response = client.post("/f/nyhetsbrev", data=answer, buffered=False)
    assert response.status_code == 303 and response.get_data() is not None
    assert in_database_file(app, signed_up) == 0
    response.close()
    assert in_database_file(app, signed_up) == 1


@SQLITE_ONLY
def test_the_log_is_written_again_from_its_start_under_steady_writes(app, monkeypatch):
    """Sent: three threads committing 20 kB rows as fast as they can for 2 seconds, outside requests (as the
    mail senders do), with a checkpoint every 50 ms. The log file never holds more than a fraction of what
    was written: each checkpoint caught up with the writers, and they started the log anew. (A checkpoint
    beside the writers alone never caught up: 282 MB of log after 20 s.) Every row is kept."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_SECONDS", 0.05)
    with app.app_context():
        db.session.execute(sa.text("CREATE TABLE filler (body BLOB)"))
        db.session.commit()
    log_path = database_path(app) + "-wal"
    rows = []
    stop = time.monotonic() + 2

    def write() -> None:
        with app.app_context():
            while time.monotonic() < stop:
                with db.engine.begin() as connection:
                    connection.execute(sa.text("INSERT INTO filler VALUES (randomblob(20000))"))
                rows.append(1)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    largest = 0
    while any(writer.is_alive() for writer in writers):
        largest = max(largest, os.path.getsize(log_path))
        time.sleep(0.01)
    assert len(rows) > 50  # enough written to tell
    assert largest < len(rows) * 20000 / 4, (largest, len(rows))
    with app.app_context():
        assert db.session.execute(sa.text("SELECT count(*) FROM filler")).scalar() == len(rows)


@SQLITE_ONLY
def test_a_checkpoint_never_waits_for_the_writers_lock_its_own_thread_holds(app, monkeypatch):
    """Tried: a connection going back to the pool while the same thread's session holds the writers lock
    (a command in the middle of its transaction). The checkpoint's turn leaves out the part that needs the
    lock, instead of waiting forever for it; the transaction then commits."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY_SECONDS", 0)
    done = []

    def command() -> None:
        with app.app_context():
            db.session.execute(sa.text("CREATE TABLE notes (body TEXT)"))
            db.session.execute(sa.text("INSERT INTO notes VALUES ('kept')"))
            db.engine.raw_connection().close()
            db.session.commit()
            done.append(db.session.execute(sa.text("SELECT body FROM notes")).scalar())

    thread = threading.Thread(target=command, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert done == ["kept"]
