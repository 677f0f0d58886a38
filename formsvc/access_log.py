"""Logs without secrets: a token in a link's path is replaced, and a query string left out, before a log line
is written.

Invitation, newsletter confirm and unsubscribe links carry their credential in the path, and a log line
that holds one would let anyone who reads the log answer, confirm or unsubscribe in someone's name. Query
strings may hold answers (prefill links), seat codes or an embedded form's receipt token. The filter works
on the finished message, so it serves gunicorn's access and error logs (gunicorn.conf.py),
the development server's request log (`formsvc run`, Werkzeug) and the app's own log alike.
"""

from __future__ import annotations

import logging
import re

from flask import Flask

# The paths whose next segment is a secret (see the `<token>` rules of invitations and newsletter).
TOKEN_PATH = re.compile(r"(/i/|/newsletter/(?:confirm|unsubscribe)/)[^/?#\s\"']+")
REDACTED = "[token]"
# A path's query string, in a request line or an error message: "GET /f/x?epost=... HTTP/1.1".
QUERY = re.compile(r"((?:^|[\s\"'])/[^\s?#\"']*)\?[^\s#\"']*")


def redact(text: str) -> str:
    """`text` with every token in a link path replaced and query strings left out,
    e.g. /i/AbC... -> /i/[token], /f/nyhetsbrev?epost=... -> /f/nyhetsbrev."""
    return QUERY.sub(r"\1", TOKEN_PATH.sub(lambda match: match.group(1) + REDACTED, text))


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
