"""`formsvc backup PATH`: a consistent copy of the SQLite database, made while the service runs.

SQLite's online backup API copies the whole database in one step, inside one read transaction: the copy
holds every answer committed before it began and none half-written, and in WAL mode answers go on being
written meanwhile. PostgreSQL has its own tool for this (pg_dump); the command says how to use it.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
from contextlib import closing
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.engine import URL

from .extensions import db


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy the database at `source` to `target` (replaced whole, never left half-written)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # A plain connection, not the app's: it takes no writers lock, so answers never wait for it.
        # mode=rw: a database that is not there is an error, not a new empty file.
        reading = sqlite3.connect(f"{source.as_uri()}?mode=rw", uri=True, timeout=15)
        with closing(reading), closing(sqlite3.connect(partial)) as copy:
            reading.backup(copy)  # pages=-1: all pages in one step, so one snapshot
            # The copy is one file that needs no -wal beside it (a restore copies just that file).
            copy.execute("PRAGMA journal_mode=DELETE")
            check = copy.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise click.ClickException(f"The copy failed SQLite's check ({check}); {target} was not written.")
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        directory = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(directory)  # the rename itself survives a power cut
        finally:
            os.close(directory)
    finally:
        partial.unlink(missing_ok=True)


def pg_dump_advice(url: URL, target: Path) -> str:
    """What to run instead on PostgreSQL: the configured database, without its password."""
    # Built anew, as URL.set() cannot take a password away; psycopg's name would mean nothing to pg_dump.
    address = URL.create(
        "postgresql", username=url.username, host=url.host, port=url.port, database=url.database, query=url.query
    ).render_as_string(hide_password=False)
    dump = shlex.join(["pg_dump", "--format=custom", f"--file={target}", f"--dbname={address}"])
    restore = shlex.join(["pg_restore", "--clean", "--if-exists", "--no-owner", f"--dbname={address}", str(target)])
    return (
        "formsvc backup copies SQLite databases only; this service uses PostgreSQL, so nothing was copied.\n"
        "Back it up with pg_dump (the password comes from ~/.pgpass or PGPASSWORD):\n\n"
        f"  {dump}\n\n"
        "and restore it, with the service stopped, with\n\n"
        f"  {restore}\n"
        "  formsvc init-db\n"
    )


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write a consistent copy of the SQLite database to PATH while the service runs.

    On PostgreSQL it copies nothing, prints the pg_dump command for the configured database and exits 1.
    """
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        click.echo(pg_dump_advice(url, path), err=True)
        raise SystemExit(1)
    if not url.database or url.database == ":memory:":
        raise click.ClickException("The database is in memory: there is no file to back up.")
    source, target = Path(url.database).resolve(), path.resolve()
    if target == source:
        raise click.ClickException(f"{path} is the database itself; give another path.")
    if not target.parent.is_dir():
        raise click.ClickException(f"The folder {target.parent} does not exist.")
    try:
        copy_sqlite(source, target)
    except (sqlite3.Error, OSError) as error:
        raise click.ClickException(f"Could not back up {source} to {target}: {error}") from None
    click.echo(f"Backed up {source} to {target} ({target.stat().st_size} bytes).")
