"""How the queues' senders run (the outbox's mail, the webhooks' deliveries): once, watching, or in the dev
server's background. Each sender is a function that sends what is due and returns (done, failed)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import click
from flask import Flask

from .extensions import db

log = logging.getLogger(__name__)

Send = Callable[[], tuple[int, int]]


def run_in_background(app: Flask, seconds: float, send: Send, name: str) -> None:
    """The dev server's sender (FORMSVC_MAIL_FLUSH_SECONDS): a thread that sends every `seconds`."""

    def loop():
        while True:
            time.sleep(seconds)
            with app.app_context():
                try:
                    send()
                except Exception:  # keep the loop alive; the next round tries again
                    log.exception("background %s failed", name)
                finally:
                    db.session.remove()

    threading.Thread(target=loop, name=f"formsvc-{name}", daemon=True).start()


def run_command(send: Send, watch: float, said: str) -> None:
    """A `send` command's body: once, or every `watch` seconds, going on when a round fails as a whole (the
    database away for a moment). `said` reports a round, e.g. "Sent {done}, failed {failed}."."""
    while True:
        try:
            done, failed = send()
        except Exception as error:
            if not watch:
                raise
            log.exception("a sending round failed")
            click.echo(f"Sending failed, trying again in {watch:g} s: {type(error).__name__}: {error}", err=True)
        else:
            click.echo(said.format(done=done, failed=failed))
        if not watch:
            break
        time.sleep(watch)
