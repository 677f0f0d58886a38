"""Tokens in link paths never reach a log in full: the development server's request log (`formsvc run`),
and every route whose path carries a token (gunicorn's log: see test_gunicorn.py)."""

from __future__ import annotations

import http.client
import logging
import re
import threading

from werkzeug.serving import make_server

from formsvc.access_log import redact

TOKEN = "T" * 43


def test_every_route_with_a_token_in_its_path_is_redacted(app):
    """Tried: each rule of the app that has a <token> argument, with a made-up token."""
    rules = [rule for rule in app.url_map.iter_rules() if "token" in rule.arguments]
    assert len(rules) >= 4  # invitation, newsletter confirm (and a new mail), unsubscribe
    for rule in rules:
        path = re.sub(r"<(?:[^:<>]+:)?token>", TOKEN, rule.rule)
        assert TOKEN not in redact(f'"GET {path} HTTP/1.1" 200'), rule.rule


def test_the_development_server_logs_token_paths_without_the_token(app, caplog):
    """Sent: an invitation link, an unsubscribe link and a prefill link with an address to the Werkzeug
    server that `formsvc run` uses."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with caplog.at_level(logging.INFO, logger="werkzeug"):
            for path in (f"/i/{TOKEN}", f"/newsletter/unsubscribe/{TOKEN}", "/f/nyhetsbrev?epost=kim@example.org"):
                connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
                connection.request("GET", path)
                connection.getresponse().read()
                connection.close()
    finally:
        server.shutdown()
        thread.join()
    every = [record.getMessage() for record in caplog.records if record.name == "werkzeug"]
    # Only this test's requests: another test's server in this process (the browser tests') may log meanwhile.
    logged = [line for line in every if any(f"GET {path}" in line for path in ("/i/", "/newsletter/", "/f/"))]
    assert len(logged) == 3, logged
    assert "/i/[token]" in logged[0] and "/newsletter/unsubscribe/[token]" in logged[1]
    assert '"GET /f/nyhetsbrev HTTP/1.1" 200' in logged[2]  # a prefilled answer stays out of the log too
    assert not [line for line in every if TOKEN in line]
