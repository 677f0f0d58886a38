"""Swedish first, English second: Swedish unless the visitor chose English (?lang=en, kept in the session).

The browser's language is not used: the forms' own questions are Swedish, and a page in English chrome
around Swedish questions would confuse more people than it helps.
"""

from __future__ import annotations

from functools import cache

from babel.support import Translations
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import get_locale
from wtforms.i18n import messages_path

from .config import PACKAGE_DIR
from .extensions import babel


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command (e.g. `formsvc invite`) rendering mail: Swedish
        return languages[0]
    chosen = request.args.get("lang")
    if chosen in languages:
        session["lang"] = chosen
        return chosen
    if session.get("lang") in languages:
        return session["lang"]
    return languages[0]


@cache
def _wtforms_catalog(locale: str) -> Translations:
    return Translations.load(messages_path(), [locale], domain="wtforms")


def wtforms_translations() -> Translations:
    """WTForms' own messages in the page's language, read from disk once per language (Flask-WTF reads
    them again for every request)."""
    return _wtforms_catalog(str(get_locale()))


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    app.jinja_env.globals["get_locale"] = get_locale
