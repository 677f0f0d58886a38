"""Staff login: every /staff URL needs it; wrong passwords are refused and throttled; sessions are new."""

from __future__ import annotations

import ast
import re
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import SimpleNamespace

import limits.storage.memory
import pytest
import sqlalchemy as sa
from conftest import STAFF_EMAIL, STAFF_PASSWORD, staff_user
from flask import Blueprint
from helpers import csrf_token, login, text_of

import formsvc
from formsvc.audit import AuditEvent
from formsvc.cli import main as cli_main
from formsvc.extensions import db
from formsvc.staff.auth import LOGIN_AT, SEEN_AT
from formsvc.staff.models import StaffUser
from formsvc.staff_guard import is_guarded, staff_blueprint

SAMPLE_VALUES = {"slug": "anslutning", "reference": "ABCD-EFGH", "id": "1", "token": "x", "code": "ABC"}


def staff_urls(app):
    """Every /staff rule of the app, with sample values for its parameters."""
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/staff") or rule.endpoint == "staff.login":
            continue
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{name}>", SAMPLE_VALUES.get(name, "1"), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url


def test_every_staff_url_refuses_anonymous_visitors(app, client):
    urls = list(staff_urls(app))
    assert ("GET", "/staff/") in urls
    token = csrf_token(client, "/staff/login")
    for method, url in urls:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code in (302, 303), (method, url, response.status_code)
        assert response.headers["Location"].startswith("/staff/login"), (method, url)



def unguarded_staff_rules(app) -> list[str]:
    """The /staff rules whose blueprint does not go through the login guard of formsvc.staff_guard."""
    return sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff") and not is_guarded(app, rule.endpoint.rpartition(".")[0])
    )


def test_every_staff_page_is_on_a_guarded_blueprint(app, make_app):
    """Each feature registers its own staff blueprint; all of them must come from staff_guard.staff_blueprint.
    Bad input tried: a feature that registers a plain Blueprint under /staff is reported."""
    assert unguarded_staff_rules(app) == []
    assert {rule.endpoint.partition(".")[0] for rule in app.url_map.iter_rules() if rule.rule.startswith("/staff")} >= {
        "staff", "staff_invitations", "staff_live", "staff_newsletter", "staff_records", "staff_sharing"}
    careless = make_app()
    plain = Blueprint("careless", __name__, url_prefix="/staff")
    plain.add_url_rule("/careless", "careless", lambda: "personal data")
    careless.register_blueprint(plain)
    assert unguarded_staff_rules(careless) == ["/staff/careless"]
    guarded = staff_blueprint("careful", __name__, "/careful")
    guarded.add_url_rule("/", "careful", lambda: "personal data")
    careless.register_blueprint(guarded)
    response = careless.test_client().get("/staff/careful/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/staff/login")


def test_login_logout_and_back_to_the_page_asked_for(app, client, staff):
    assert client.get("/staff/").headers["Location"].startswith("/staff/login?next=")
    response = login(client, *staff, next_page="/staff/?x=1")
    assert response.status_code == 303 and response.headers["Location"] == "/staff/?x=1"
    page = client.get("/staff/")
    assert page.status_code == 200 and "Översikt" in text_of(page)
    assert page.headers["Cache-Control"] == "no-store"
    logout = client.post("/staff/logout", data={"csrf_token": csrf_token(client)})
    assert logout.status_code == 303
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        actions = list(db.session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)))
    assert actions == ["login", "logout"]


@pytest.mark.parametrize("next_page", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_never_redirects_off_site(client, staff, next_page):
    response = login(client, *staff, next_page=next_page)
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"


def test_wrong_password_and_unknown_address_get_the_same_answer(app, client, staff):
    wrong = login(client, staff[0], "fel lösenord")
    unknown = login(client, "nobody@example.org", "fel lösenord")
    assert wrong.status_code == unknown.status_code == 401
    assert "Fel e-postadress eller lösenord" in text_of(wrong) and "Fel e-postadress eller lösenord" in text_of(unknown)
    assert client.get("/staff/").status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "login_failed")) == 2


def test_login_starts_a_new_session(client, staff):
    client.get("/f/nyhetsbrev")  # the visitor has a session with a CSRF token already
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
    login(client, *staff)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session.permanent


def test_repeated_failed_logins_are_throttled(make_app, staff_email="x@example.org"):
    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_LOGIN_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [login(client, staff_email, "fel").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    assert "för många försök" in text_of(login(client, staff_email, "fel"))


def test_a_changed_password_ends_other_sessions(app, client, staff):
    login(client, *staff)
    assert client.get("/staff/").status_code == 200
    runner = app.test_cli_runner()
    result = runner.invoke(args=["staff", "add", staff[0]], input="ett helt nytt lösenord\n")
    assert result.exit_code == 0, result.output
    assert client.get("/staff/").status_code == 302


def test_staff_add_reads_the_password_and_refuses_short_ones(app):
    runner = app.test_cli_runner()
    short = runner.invoke(args=["staff", "add", "ny@example.org"], input="kort\n")
    assert short.exit_code != 0 and "at least 12" in short.output
    made = runner.invoke(args=["staff", "add", "Ny@Example.org"], input="tillräckligt långt lösenord\n")
    assert made.exit_code == 0
    assert login(app.test_client(), "ny@example.org", "tillräckligt långt lösenord").status_code == 303
    with app.app_context():  # stored as a slow, salted scrypt hash, never as the password
        stored = db.session.scalar(sa.select(StaffUser.password_hash).filter_by(email="ny@example.org"))
    assert stored.startswith("scrypt:") and "tillräckligt" not in stored


def test_session_cookie_is_httponly_and_samesite(client, staff):
    response = login(client, *staff)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_demo_staff_prints_a_login_that_works_on_the_port_given(make_app, tmp_path):
    """What `make run` prints: the address with the dev server's port, and a password that logs in."""
    app = make_app(FORMSVC_DEMO_PASSWORD_FILE=str(tmp_path / "demo-staff-password"))
    printed = app.test_cli_runner().invoke(cli_main, args=["demo-staff", "--port", "5099"]).output
    found = re.search(r"http://127\.0\.0\.1:5099/staff/\s+E-mail: +(\S+)\s+Password: +(\S+)", printed)
    assert found, printed
    assert login(app.test_client(), found.group(1), found.group(2)).status_code == 303


def test_a_staff_session_ends_after_30_minutes_idle_and_8_hours_at_most(client, staff):
    """Tried: a cookie last used 31 minutes ago, and a busy session that began 8 hours and a minute ago."""
    response = login(client, *staff)
    expires = parsedate_to_datetime(re.search(r"Expires=([^;]+)", response.headers["Set-Cookie"]).group(1))
    assert expires - datetime.now(UTC) <= timedelta(hours=8)  # not Flask's 31 days
    now = int(time.time())
    with client.session_transaction() as session:
        session[SEEN_AT] = now - 29 * 60
    assert client.get("/staff/audit").status_code == 200  # 29 minutes idle: still in
    with client.session_transaction() as session:
        session[SEEN_AT] = now - 31 * 60
    assert client.get("/staff/audit").headers["Location"].startswith("/staff/login")
    login(client, *staff)
    with client.session_transaction() as session:
        session[LOGIN_AT] = now - 8 * 3600 - 60  # in use all along: seen a moment ago
        session[SEEN_AT] = now - 60
    assert client.get("/staff/audit").headers["Location"].startswith("/staff/login")


def test_logging_out_ends_every_copy_of_the_session_cookie(app, client, staff):
    """Tried: the session cookie copied before logout, presented afterwards from another browser."""
    login(client, *staff)
    copied = client.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/staff/audit").status_code == 200
    client.post("/staff/logout", data={"csrf_token": csrf_token(client)})
    assert thief.get("/staff/audit").headers["Location"].startswith("/staff/login")


def test_changing_the_password_on_its_page_ends_the_other_sessions_only(app, client, staff):
    """Tried: a wrong current password, a short one, two different ones; then a real change."""
    other = app.test_client()
    login(client, *staff)
    login(other, *staff)
    token = csrf_token(client, "/staff/password")
    new = "ett annat långt lösenord 7"
    for data, message in [
        ({"current": "fel lösenord", "new": new, "repeat": new}, "Det nuvarande lösenordet stämmer inte"),
        ({"current": staff[1], "new": "kort", "repeat": "kort"}, "minst 12 tecken"),
        ({"current": staff[1], "new": new, "repeat": new + "x"}, "Lösenorden är inte lika"),
    ]:
        refused = client.post("/staff/password", data={"csrf_token": token, **data})
        assert refused.status_code in (401, 422) and message in text_of(refused)
    assert other.get("/staff/").status_code == 200  # nothing changed yet
    changed = client.post("/staff/password", data={"csrf_token": token, "current": staff[1], "new": new, "repeat": new})
    assert changed.status_code == 303
    assert "Ditt lösenord är bytt" in text_of(client.get(changed.headers["Location"]))
    assert client.get("/staff/audit").status_code == 200  # this session goes on
    assert other.get("/staff/audit").headers["Location"].startswith("/staff/login")
    assert login(app.test_client(), staff[0], staff[1]).status_code == 401
    assert login(app.test_client(), staff[0], new).status_code == 303


def test_failed_logins_are_throttled_per_account_from_any_address_for_a_while(make_app, monkeypatch):
    """Tried: wrong passwords for one account from three addresses, then the right one from a fourth."""
    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_LOGIN_ACCOUNT_LIMIT="3 per 10 minutes")
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()

    def attempt(address: str, email: str, password: str) -> int:
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = address
        return login(client, email, password).status_code

    assert [attempt(f"192.0.2.{n}", STAFF_EMAIL, "fel lösenord") for n in (1, 2, 3)] == [401, 401, 401]
    assert attempt("198.51.100.4", STAFF_EMAIL, STAFF_PASSWORD) == 429  # the account rests, from anywhere
    assert attempt("198.51.100.4", "annan@example.org", "fel lösenord") == 401  # other accounts are not held
    # Not for ever: once the window has passed, the right password works again.
    later = time.time() + 601
    monkeypatch.setattr(limits.storage.memory, "time", SimpleNamespace(time=lambda: later))
    assert attempt("198.51.100.4", STAFF_EMAIL, STAFF_PASSWORD) == 303


def staff_importers(package: Path) -> list[str]:
    """Modules outside formsvc/staff that import formsvc.staff (the demo, which makes the demo account, aside)."""
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if relative.parts[0] == "staff" or relative.as_posix() in {"__init__.py", "demo.py"}:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names] if isinstance(node, ast.Import | ast.ImportFrom) else []
            depth = node.level if isinstance(node, ast.ImportFrom) else 0
            inside = len(relative.parts) - 1  # how deep the module sits below formsvc
            if any(name == "staff" or name.startswith("staff.") for name in names if depth == inside + 1) or any(
                name == "formsvc.staff" or name.startswith("formsvc.staff.") for name in names
            ):
                found.append(relative.as_posix())
    return found


def test_features_do_not_import_the_staff_package(tmp_path):
    """Staff pages of a feature come through formsvc.staff_guard; formsvc.staff imports no feature's pages, and
    no feature imports formsvc.staff. Bad input tried: a feature module importing the staff blueprint."""
    package = Path(formsvc.__file__).parent
    assert staff_importers(package) == []
    (tmp_path / "feature").mkdir()
    (tmp_path / "feature" / "pages.py").write_text("from ..staff.blueprint import bp\n", encoding="utf-8")
    (tmp_path / "feature" / "fine.py").write_text("from ..staff_guard import staff_blueprint\n", encoding="utf-8")
    assert staff_importers(tmp_path) == ["feature/pages.py"]
