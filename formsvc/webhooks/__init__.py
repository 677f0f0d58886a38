"""Webhooks: staff register endpoints; events are queued in the transaction of the change they tell about
(answer.stored by the senders, after the answer: dispatch.py) and sent afterwards, signed per Standard
Webhooks (https://www.standardwebhooks.com/), with retries.

Events: answer.stored, answer.replaced, answer.deleted, subscriber.confirmed, subscriber.left,
live_round.closed. Features that make events call `emit` (events.py); see docs/integrations.md.
"""

from __future__ import annotations

from flask import Flask

from .. import answers
from ..dispatch import after_answer_stored
from ..senders import run_in_background
from .events import answer_wanted, emit, on_answer, on_replaced

__all__ = ["emit", "init_app"]


def init_app(app: Flask) -> None:
    # Imported here, not above: the pages import the staff package, which imports the features
    # (newsletter, live) that import `emit` from this package; that must work without the pages.
    from . import pages, sender

    after_answer_stored(app, answer_wanted, on_answer)
    answers.on_answer_replaced(app, on_replaced)
    app.register_blueprint(pages.bp)
    app.cli.add_command(sender.webhooks_cli)
    seconds = app.config["FORMSVC_MAIL_FLUSH_SECONDS"]  # the dev server sends webhooks as often as mail
    if seconds and not app.testing:
        run_in_background(app, seconds, sender.send_webhooks, "webhooks")
