"""SQLite's write-ahead log, copied into the database file off the answers' path.

Every commit appends the pages it changed to the log (`<database>-wal`); a checkpoint copies them into the
database file, and then the log can be written again from its start. SQLite runs one itself inside the
COMMIT that takes the log past 1000 pages, while that writer still holds the writers lock
(database.WritersLock): every other answer queued behind it, now and then for 35 to 85 ms. Here it runs
after a response has been sent, in two steps: the bulk beside the writers, then the few pages written
meanwhile under the writers lock. (A checkpoint that only ever runs beside the writers never catches up
with steady writes, and the log grows without end.)
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

import sqlalchemy as sa
from sqlalchemy import event
from werkzeug.wsgi import ClosingIterator

log = logging.getLogger(__name__)

# At 300 answers a second, about 10 MB of log a turn.
CHECKPOINT_EVERY_SECONDS = 0.5


class LogCheckpointer:
    """Checkpoints one SQLite database file every half second while it is used: after the response of the
    request that found it due, or at once where there is no request (the mail sender, commands)."""

    def __init__(self, engine: sa.Engine, writers_lock, busy_timeout_ms: int):
        self.engine = engine
        self.writers_lock = writers_lock
        self.busy_timeout_ms = busy_timeout_ms
        # Per thread: serving (a request is under way), due (a checkpoint after its response), running.
        self.state = threading.local()
        event.listen(engine, "connect", _no_checkpoint_in_commit)
        event.listen(engine.pool, "reset", self._transaction_ended)

    def after_each_response(self, wsgi_app):
        """WSGI middleware: a checkpoint that a request found due runs once its response has been sent
        (when the server closes the response; a client has it all by then)."""

        def app(environ, start_response):
            self.state.serving = True
            try:
                return ClosingIterator(wsgi_app(environ, start_response), self._response_sent)
            except BaseException:
                self._response_sent()
                raise

        return app

    def checkpoint_due(self) -> bool:
        """Whether the last checkpoint began half a second ago or more.

        The time is the writers lock file's modification time, which every process sees. (The log file's
        size cannot tell: SQLite writes the log again from its start, in place; emptying the file instead
        made commits slower, its blocks freed and allocated over and over. The log's index, the -shm
        file, must not be opened: closing it would drop this process's SQLite locks on it.)"""
        try:
            return time.time() - os.stat(self.writers_lock.path).st_mtime >= CHECKPOINT_EVERY_SECONDS
        except FileNotFoundError:
            return False  # nothing has been written yet

    def checkpoint(self, dbapi_connection) -> None:
        """Copy the log into the database file beside the writers, then what they wrote meanwhile under
        their lock, so that the next writer starts the log from its beginning. It never waits for
        readers, nor for another checkpoint: those leave it to a later turn."""
        held: dict = {}
        cursor = dbapi_connection.cursor()
        try:
            os.utime(self.writers_lock.path)  # the turn is taken
            busy, _frames, _copied = cursor.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if busy or self.writers_lock.held_here():  # (another of this thread's connections holds it)
                return
            self.writers_lock.acquire(held)
            cursor.execute("PRAGMA busy_timeout=0")
            cursor.execute("PRAGMA wal_checkpoint(RESTART)")
        except (sqlite3.Error, OSError):
            log.warning("SQLite checkpoint failed; the next turn tries again", exc_info=True)
        finally:
            cursor.execute(f"PRAGMA busy_timeout={self.busy_timeout_ms}")
            self.writers_lock.release(held)
            cursor.close()

    def _transaction_ended(self, dbapi_connection, _record, _reset_state) -> None:
        # Every connection going back to the pool looks (a stat() call), whichever process wrote. This
        # comes before the pool's own rollback: a connection still in a transaction leaves the turn.
        if getattr(self.state, "running", False) or dbapi_connection.in_transaction or not self.checkpoint_due():
            return
        if getattr(self.state, "serving", False):
            self.state.due = True
            return
        self.state.running = True
        try:
            self.checkpoint(dbapi_connection)
        finally:
            self.state.running = False

    def _response_sent(self) -> None:
        self.state.serving = False
        if not self.state.__dict__.pop("due", False):
            return
        self.state.running = True
        connection = self.engine.raw_connection()  # the request's own went back to the pool
        try:
            self.checkpoint(connection)
        finally:
            connection.close()
            self.state.running = False


def _no_checkpoint_in_commit(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA wal_autocheckpoint=0")
