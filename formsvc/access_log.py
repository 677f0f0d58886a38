"""Logs without secrets: a token in a link's path is replaced before a log line is written.

Invitation, newsletter confirm and unsubscribe links carry their credential in the path, and a log line
that holds one would let anyone who reads the log answer, confirm or unsubscribe in someone's name. The
filter works on the finished message, so it serves gunicorn's access and error logs (gunicorn.conf.py),
the development server's request log (`formsvc run`, Werkzeug) and the app's own log alike.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

# The paths whose next segment is a secret (see the `<token>` rules of invitations and newsletter).
TOKEN_PATH = re.compile(r"(/i/|/newsletter/(?:confirm|unsubscribe)/)[^/?#\s\"']+")
REDACTED = "[token]"


def redact(text: str) -> str:
    """`text` with every token in a link path replaced, e.g. /i/AbC... -> /i/[token]."""
    return TOKEN_PATH.sub(lambda match: match.group(1) + REDACTED, text)


class RedactTokens(logging.Filter):
    """A logging filter: the record's message, tokens replaced."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


REDACT_TOKENS = RedactTokens()


def init_app(app: Flask) -> None:
    # Werkzeug's request log (the development server) and the app's own error log.
    for logger in (logging.getLogger("werkzeug"), app.logger):
        logger.addFilter(REDACT_TOKENS)
