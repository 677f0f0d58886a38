"""Rules checked in the source, so they are kept, not just written.

Transactions (docs/architecture.md): functions that change data never commit; the request or CLI command
that called them commits, once. Settings: each one is read by something."""

from __future__ import annotations

import ast
from pathlib import Path

import formsvc

PACKAGE = Path(formsvc.__file__).parent
# Decorators that make a function an entry point: a route of a blueprint, or a click command or group.
ENTRY_DECORATORS = {"get", "post", "put", "patch", "delete", "route", "command", "group"}
# The functions that may commit although they are no view or command, each with its reason.
ALLOWED = {
    "mail.py:send_outbox": "the outbox sender's loop (`formsvc mail send`, the background flusher): commits each "
                           "batch it claims, so other senders see the claim, and releases its claims at the end",
    "mail.py:_send_one": "the loop's body for one message: its renewed claim and its outcome are transactions "
                         "of their own, so nothing is held while the mail server talks",
    "database.py:write_transaction": "the answer POST's own transaction, on a connection of its own for speed",
    "invitations/cli.py:_send": "the body the invite and remind commands share: the command's one commit",
    "demo.py:_any": "formsvc demo: ends a read so the demo's own visitors' requests get SQLite's write lock",
    "demo.py:add_register": "formsvc demo: each step of the demo data is committed before its visitors come",
    "demo.py:add_subscribers": "formsvc demo: each confirm link's token is stored before the visitor follows it",
    "demo.py:add_nomination_round": "formsvc demo: invitations stored before the nominees answer",
    "demo.py:add_live_round": "formsvc demo: the round is stored before its voters vote",
    "api/views.py:authenticate": "the API's before_request: the audit row of each use of a key is committed "
                                 "whatever the view answers (the API's views only read)",
    "demo.py:add_public_answers": "formsvc demo: the workshop vote's personal links are stored before they are used",
    "webhooks/pages.py:_set_enabled": "the body the enable and disable views share: their one commit",
    "editor/pages.py:_kept": "the end the editor's views share: the changed draft kept (their one commit) "
                             "or the page with its refusal",
    "dispatch.py:dispatch_answers": "the senders' first step: each batch of answers followed up is a transaction "
                                    "of its own, its rows committed with the cleared marks that claim them",
    "webhooks/sender.py:send_webhooks": "the webhook sender's loop (`formsvc webhooks send`), as the outbox's",
    "webhooks/sender.py:_prune": "the sender's clean-up of finished deliveries: a transaction of its own",
    "webhooks/sender.py:_claim": "the sender claims a small batch, committed so other senders see the claim",
    "webhooks/sender.py:_send_one": "one delivery's renewed claim and outcome, committed apart so nothing is held "
                                     "while the receiver takes its time",
}


def _is_entry(function: ast.FunctionDef) -> bool:
    for decorator in function.decorator_list:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name in ENTRY_DECORATORS:
            return True
    return False


def commits_outside_entry_points(root: Path) -> dict[str, int]:
    """module:function -> line, for every commit() in a top-level function (or method) that is neither a
    view nor a CLI command. Nested functions count as the function they are in."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = []
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                functions.append(node)
            elif isinstance(node, ast.ClassDef):
                functions += [n for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
        for function in functions:
            if _is_entry(function):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
                    found.setdefault(f"{path.relative_to(root).as_posix()}:{function.name}", node.lineno)
    return found


def test_only_views_commands_and_the_named_exceptions_commit():
    found = commits_outside_entry_points(PACKAGE)
    unexpected = {where: line for where, line in found.items() if where not in ALLOWED}
    assert not unexpected, (
        "these functions commit, but only views and CLI commands may (docs/architecture.md): leave the commit "
        f"to the caller, or add a line with its reason to ALLOWED: {unexpected}"
    )
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"ALLOWED names functions that no longer commit; remove them: {stale}"


def test_the_check_finds_a_commit_in_a_helper_and_in_a_generator(tmp_path):
    """Bad input: a helper and a generator that commit, beside a view and a command that may."""
    (tmp_path / "feature.py").write_text(
        "def store(x):\n    db.session.add(x)\n    db.session.commit()\n\n"
        "def rows():\n    for row in q:\n        yield row\n        db.session.commit()\n\n"
        "@bp.post('/x')\ndef view():\n    store(1)\n    db.session.commit()\n\n"
        "@click.command('x')\n@with_appcontext\ndef command():\n    db.session.commit()\n",
        encoding="utf-8",
    )
    assert commits_outside_entry_points(tmp_path) == {"feature.py:store": 3, "feature.py:rows": 8}


# --- settings: each one read by something ---------------------------------------------------------------

# Settings the libraries read themselves (Flask, Flask-SQLAlchemy, Flask-Babel, Flask-WTF, Flask-Mail,
# Flask-Limiter); every other setting must be read somewhere in formsvc.
LIBRARY_SETTINGS = {
    "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "SQLALCHEMY_ENGINE_OPTIONS", "MAX_CONTENT_LENGTH",
    "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE", "PERMANENT_SESSION_LIFETIME", "WTF_CSRF_TIME_LIMIT",
    "BABEL_DEFAULT_LOCALE", "BABEL_DEFAULT_TIMEZONE", "MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL",
    "MAIL_USERNAME", "MAIL_PASSWORD", "MAIL_DEFAULT_SENDER", "RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX", "RATELIMIT_HEADERS_ENABLED", "RATELIMIT_SWALLOW_ERRORS",
}  # fmt: skip


def unread_settings(defaults: set[str], sources: list[str]) -> list[str]:
    """The settings no source names outside config.py, library settings aside."""
    return sorted(key for key in defaults - LIBRARY_SETTINGS if not any(key in text for text in sources))


def test_every_setting_is_read_by_something(tmp_path):
    """Bad input tried: a made-up FORMSVC_UNUSED setting that nothing reads is reported."""
    from formsvc.config import ENVIRONMENT, default_settings

    settings = set(default_settings(str(tmp_path))) | {key for key, _convert in ENVIRONMENT.values()}
    sources = [
        path.read_text(encoding="utf-8")
        for path in PACKAGE.rglob("*.py")
        if path.name != "config.py" and "migrations" not in path.parts
    ]
    sources += [path.read_text(encoding="utf-8") for path in (PACKAGE.parent / "templates").rglob("*.html")]
    assert unread_settings(settings, sources) == []
    assert unread_settings(settings | {"FORMSVC_UNUSED"}, sources) == ["FORMSVC_UNUSED"]
