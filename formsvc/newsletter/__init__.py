"""The newsletter: double opt-in sign-up from forms, confirm and one-click unsubscribe links,
the subscriber list for staff, and `formsvc erase EMAIL`.

Staff pages live in `staff.py` (a blueprint from formsvc.staff_guard, behind the login guard);
the answer hook signs up in the answer's transaction.
"""

from __future__ import annotations

from flask import Flask

from ..answers import on_answer_stored
from . import models  # noqa: F401 (the tables, for migrations)
from . import staff as staff_pages
from .cli import erase_command, newsletter_cli
from .subscriptions import sign_up_from_answer
from .views import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(staff_pages.bp)
    on_answer_stored(app, sign_up_from_answer)
    app.cli.add_command(erase_command)
    app.cli.add_command(newsletter_cli)
