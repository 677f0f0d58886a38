"""Swedish first, English second: Swedish unless the visitor chose English (?lang=en, kept in the session).

The browser's language is not used: the forms' own questions are Swedish, and a page in English chrome
around Swedish questions would confuse more people than it helps.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import cache

from babel.support import Translations
from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, get_locale
from markupsafe import Markup
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


def datum(value: date | datetime | None, time: bool = True, short: bool = False, seconds: bool = False) -> str:
    """A date, or a moment, as Swedish authorities write it: "den 1 december 2026 kl. 19.28" in running
    text; short=True for tables ("1 dec. 2026 19.28"); time=False leaves the time out. In English
    "1 December 2026 at 19:28"; seconds=True adds the seconds (the audit log). A moment is shown in Swedish
    time (BABEL_DEFAULT_TIMEZONE).

    The one date filter of pages and mails (`{{ answer.submitted_at | datum }}`)."""
    if value is None:
        return ""
    swedish = get_locale().language == "sv"
    pattern = "d MMM y" if short else "d MMMM y"
    if isinstance(value, datetime):
        day = format_datetime(value, pattern)
        clock = "HH.mm.ss" if seconds else "HH.mm"
        clock = format_datetime(value, clock if swedish else clock.replace(".", ":")) if time else ""
    else:
        day, clock = format_date(value, pattern), ""
    if short:
        return f"{day} {clock}".strip()
    if swedish:
        return f"den {day} kl. {clock}" if clock else f"den {day}"
    return f"{day} at {clock}" if clock else day


def colon(text: str) -> str:
    """A label as the lead-in of what follows it: "Namn:" but "Vilka områden?" (never "?:" or ".:")."""
    shown = text.striptags() if isinstance(text, Markup) else str(text)  # a label marked lang="sv" too
    return text if shown.rstrip().endswith((".", "?", "!", ":")) else text + ":"


def init_app(app: Flask) -> None:
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(PACKAGE_DIR / "translations"),
    )
    app.jinja_env.globals["get_locale"] = get_locale
    app.jinja_env.filters["datum"] = datum
    app.jinja_env.filters["colon"] = colon
