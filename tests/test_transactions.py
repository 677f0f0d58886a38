"""The rule for transactions (docs/architecture.md): functions that change data never commit; the request
or CLI command that called them commits, once. Checked in the source, so the rule is kept, not just written."""

from __future__ import annotations

import ast
from pathlib import Path

import formsvc

PACKAGE = Path(formsvc.__file__).parent
# Decorators that make a function an entry point: a route of a blueprint, or a click command or group.
ENTRY_DECORATORS = {"get", "post", "put", "patch", "delete", "route", "command", "group"}
# The functions that may commit although they are no view or command, each with its reason.
ALLOWED = {
    "mail.py:send_outbox": "the outbox sender's loop (`formsvc mail send`, the background flusher): releases "
                           "its claims when it ends, whatever happened",
    "mail.py:_claim": "the sender's claim on a batch must be seen by other senders before it sends",
    "mail.py:_send_one": "each message's renewed claim and outcome are their own transaction: nothing is held "
                         "while the mail server talks, and a crash loses no outcome already known",
    "mail.py:_attach_made": "ends the short read of an attachment's data before the files are built",
    "database.py:write_transaction": "the answer POST's own transaction, on a connection of its own for speed",
    "invitations/cli.py:_send": "the body the invite and remind commands share: the command's one commit",
    "demo.py:_any": "formsvc demo: ends a read so the demo's own visitors' requests get SQLite's write lock",
    "demo.py:add_register": "formsvc demo: each step of the demo data is committed before its visitors come",
    "demo.py:add_subscribers": "formsvc demo: each confirm link's token is stored before the visitor follows it",
    "demo.py:add_nomination_round": "formsvc demo: invitations stored before the nominees answer",
    "demo.py:add_live_round": "formsvc demo: the round is stored before its voters vote",
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
