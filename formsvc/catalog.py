"""The forms this instance serves: definitions loaded and checked at start-up, classes built once."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from flask import Flask, abort, current_app
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField

from .config import resource_dir
from .definitions import DefinitionError, FormDefinition, build_form_class, check_directory, load_directory, load_file
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
    def __init__(self, definitions: dict[str, FormDefinition]):
        self._definitions = definitions
        self._classes = {
            slug: build_form_class(d, base=AnswerForm, translate=lazy_gettext) for slug, d in definitions.items()
        }

    def __iter__(self) -> Iterator[FormDefinition]:
        return iter(self._definitions.values())

    def get(self, slug: str) -> FormDefinition | None:
        return self._definitions.get(slug)

    def get_or_404(self, slug: str) -> FormDefinition:
        """The form, or a 404 page for a form this instance does not serve (as Flask-SQLAlchemy's get_or_404)."""
        definition = self._definitions.get(slug)
        if definition is None:
            abort(404)
        return definition

    def form_class(self, slug: str) -> type[AnswerForm]:
        return self._classes[slug]


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


def init_app(app: Flask) -> None:
    # A bad definition raises DefinitionError here and stops start-up, naming file, field and reason.
    app.extensions["formsvc_catalog"] = Catalog(load_directory(app.config["FORMSVC_FORMS_DIR"]))
    app.cli.add_command(forms_cli)


def catalog() -> Catalog:
    return current_app.extensions["formsvc_catalog"]
