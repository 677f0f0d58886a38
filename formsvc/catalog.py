"""The forms this instance serves: definitions loaded and checked at start-up, classes built once."""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, abort, current_app, has_app_context
from flask.cli import with_appcontext
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from .config import resource_dir
from .definitions import DefinitionError, FormDefinition, build_form_class, check_directory, load_directory, load_file
from .editor import publishing, store
from .extensions import db
from .i18n import wtforms_translations

SUBMISSION_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


class AnswerForm(FlaskForm):
    """Base of every public form: a honeypot and a resend guard.

    No CSRF field: every POST is checked before any view runs (security.check_csrf), and the page puts
    the token in itself, so an answer is not checked twice nor a token signed that no page shows."""

    # Hidden from people (CSS and aria-hidden); bots that fill every input fill this too.
    website = StringField("Lämna det här fältet tomt")
    # Only a key this service could have made is kept; anything else is dropped and the answer gets a new one.
    submission_key = HiddenField(filters=[lambda key: key if key and SUBMISSION_KEY.fullmatch(key) else None])

    class Meta:
        csrf = False

        def get_translations(self, form):
            return wtforms_translations()


class Catalog:
    """The forms served: the published definitions in the database (form_definitions), over the files
    of FORMSVC_FORMS_DIR for slugs the database does not have (a database before `init-db`).

    Each worker keeps the definitions and their form classes, and at most once per
    FORMSVC_CATALOG_CHECK_SECONDS reads one number, the catalog generation, to see whether anyone
    published since; only then does it read the definitions again. Definitions whose text did not change
    keep their objects and form classes."""

    def __init__(self, files: dict[str, FormDefinition], check_seconds: float = 1.0):
        self._files = files
        self._check_seconds = check_seconds
        self._checked = -math.inf
        self._generation: int | None = None
        self._engine: sa.Engine | None = None
        self._engine_pid = 0
        self._parsed: dict[tuple[str, str], FormDefinition] = {}  # (slug, text) -> definition
        self._classes: dict[int, type[AnswerForm]] = {}  # id(definition) of those held -> class
        self._state = self._build(files)

    def _build(self, definitions: dict[str, FormDefinition]):
        classes = {
            slug: self._classes.get(id(d)) or build_form_class(d, base=AnswerForm, translate=lazy_gettext)
            for slug, d in definitions.items()
        }
        self._classes = {id(definitions[slug]): form_class for slug, form_class in classes.items()}
        return definitions, classes

    def _fresh(self) -> dict[str, FormDefinition]:
        """The current definitions, read again when the generation moved (checked at most once per interval)."""
        now = time.monotonic()
        if now - self._checked >= self._check_seconds and has_app_context():
            self._checked = now
            self.refresh()
        return self._state[0]

    def refresh(self, force: bool = False) -> None:
        """Read the generation and, when it moved (or `force`), the published definitions.

        Through a connection of its own outside any transaction: the check must not take SQLite's write
        lock nor join the request's transaction."""
        engine = self._check_engine()
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            cursor.execute(_sql(store.GENERATION, engine))
            generation = cursor.fetchone()[0]
            if generation == self._generation and not force:
                return
            cursor.execute(_sql(store.SERVED, engine))
            rows = cursor.fetchall()
        except engine.dialect.loaded_dbapi.Error:  # no form_definitions table yet: the files are the forms
            return
        finally:
            connection.rollback()
            connection.close()
        definitions = dict(self._files)
        parsed = {}
        for slug, text, archived in rows:
            if archived:
                definitions.pop(slug, None)
                continue
            parsed[slug, text] = self._parsed.get((slug, text)) or store.read(text, slug)
            definitions[slug] = parsed[slug, text]
        self._parsed = parsed
        self._state = self._build(definitions)
        self._generation = generation

    def _check_engine(self) -> sa.Engine:
        """An engine of its own, for the check alone. A request may call the catalog while it holds one of
        the app's pooled connections (and with it SQLite's write lock): taking a second one from the same
        pool, when every other is held by a request waiting for that lock, stalled them all until the pool's
        timeout (tests/test_live.py, 200 votes at once). Its one connection is kept: a new one every second
        (on PostgreSQL a new server process) held every worker's answers up by 10 to 20 ms each second.
        Made again in a forked process, without closing the parent's connection."""
        url = db.engine.url
        if self._engine is not None and (self._engine.url != url or self._engine_pid != os.getpid()):
            self._engine.dispose(close=self._engine_pid == os.getpid())
            self._engine = None
        if self._engine is None:
            server = {"pool_size": 1, "max_overflow": 4, "pool_pre_ping": True}  # a server may drop idle ones
            self._engine = sa.create_engine(url, **({} if url.get_backend_name() == "sqlite" else server))
            self._engine_pid = os.getpid()
        return self._engine

    def dispose(self) -> None:
        """Close the check's connection (gunicorn's master, before it forks the workers)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def expire(self) -> None:
        """Check the generation on the next use (this worker published: it shows the change at once)."""
        self._checked = -math.inf

    def __iter__(self) -> Iterator[FormDefinition]:
        return iter(self._fresh().values())

    def get(self, slug: str) -> FormDefinition | None:
        return self._fresh().get(slug)

    def get_or_404(self, slug: str) -> FormDefinition:
        """The form, or a 404 page for a form this instance does not serve (as Flask-SQLAlchemy's get_or_404)."""
        definition = self.get(slug)
        if definition is None:
            abort(404)
        return definition

    def form_class(self, slug: str) -> type[AnswerForm]:
        self._fresh()
        return self._state[1][slug]


@click.group("forms")
def forms_cli() -> None:
    """Form definitions."""


@forms_cli.command("check")
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@click.option("--language", type=click.Choice(["en", "sv"]), default="en", help="language of the messages")
def check_command(paths: tuple[Path, ...], language: str) -> None:
    """Check form definitions (default: the forms folder); exit 1 naming file, field and reason."""
    if not paths:
        paths = (Path(os.environ.get("FORMSVC_FORMS_DIR") or resource_dir("forms")),)
    problems, checked = [], 0
    for path in paths:
        if path.is_dir():
            problems += check_directory(path)
            checked += len(list(path.glob("*.yaml")))
        else:
            checked += 1
            try:
                load_file(path)
            except ValueError as error:
                problems.append(error)
    for problem in problems:
        # file:line:column: code message, as compilers write it
        click.echo(problem.describe(language) if isinstance(problem, DefinitionError) else str(problem), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{checked} form definitions are valid.")


@forms_cli.command("import")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@with_appcontext
def import_command(path: Path) -> None:
    """Check and publish a YAML file, or every *.yaml in a folder: new forms are added, changed ones get a
    new version. Nothing is stored if any file is refused."""
    try:
        done = publishing.import_path(path, actor="system")
    except (DefinitionError, publishing.OptionKeyChanged) as error:
        click.echo(error.describe("en"), err=True)
        sys.exit(1)
    db.session.commit()
    for slug, outcome in done:
        click.echo(f"{slug}: {outcome}")


@forms_cli.command("export")
@click.argument("slug")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="file to write")
@with_appcontext
def export_command(slug: str, output: Path | None) -> None:
    """Write a form's published definition as YAML (to standard output, or to a file)."""
    text = store.export_text(slug)
    if text is None:
        click.echo(f"No published form {slug!r} in the database.", err=True)
        sys.exit(1)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


def init_app(app: Flask) -> None:
    # A bad definition raises DefinitionError here and stops start-up, naming file, field and reason.
    app.extensions["formsvc_catalog"] = Catalog(
        load_directory(app.config["FORMSVC_FORMS_DIR"]), app.config["FORMSVC_CATALOG_CHECK_SECONDS"]
    )
    app.cli.add_command(forms_cli)


def _sql(query: sa.Select, engine: sa.Engine) -> str:
    """A query as the driver's SQL text, its constants written in (it is sent on a DBAPI cursor)."""
    return str(query.compile(engine, compile_kwargs={"literal_binds": True}))


@sa.event.listens_for(sa.orm.Session, "after_commit")
def _published(session: sa.orm.Session) -> None:
    """A commit that published (store.publish_text marks the session) expires this worker's catalog."""
    if session.info.pop(store.CHANGED, False) and has_app_context():
        catalog().expire()


def catalog() -> Catalog:
    return current_app.extensions["formsvc_catalog"]
