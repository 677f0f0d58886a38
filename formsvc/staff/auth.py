"""Staff login, logout and password change, and `formsvc staff add`.

A staff session is the signed cookie plus the account's session token (in the cookie's user id): logging
out or changing the password changes the token, so every copy of an older cookie stops working. The
cookie also carries when its session began and when it was last used: it ends after
FORMSVC_STAFF_IDLE_MINUTES without a request and FORMSVC_STAFF_SESSION_HOURS after login.
"""

from __future__ import annotations

import functools
import secrets
import sys
import time

import click
import sqlalchemy as sa
from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask.cli import AppGroup
from flask_babel import gettext, lazy_gettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from ..access.models import HANDLAGGARE, ROLES
from ..audit import audit
from ..extensions import db, limiter
from ..models import utcnow
from ..security import own_path
from .blueprint import bp
from .models import StaffUser

MIN_PASSWORD_LENGTH = 12


@functools.cache
def _dummy_user() -> StaffUser:
    """Checked against when the e-mail is unknown, so both cases take the same time."""
    user = StaffUser(email="")
    user.set_password(secrets.token_hex(16))
    return user


LOGIN_AT = "staff_login_at"  # session keys: seconds since the epoch
SEEN_AT = "staff_seen_at"


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the id carries the session token, so logout and a changed password end every
    copy of the session; a session too long idle or too old is not accepted either."""
    staff_id, _, token = user_id.partition(":")
    if not staff_id.isdigit() or not _session_in_time():
        return None
    user = db.session.get(StaffUser, int(staff_id))
    return user if user and secrets.compare_digest(user.session_token, token) else None


def _session_in_time() -> bool:
    """True, and the session marked as used now, when it is neither idle too long nor too old."""
    now = int(time.time())
    login_at, seen_at = session.get(LOGIN_AT), session.get(SEEN_AT)
    if not isinstance(login_at, int) or not isinstance(seen_at, int):
        return False
    config = current_app.config
    if now - seen_at > config["FORMSVC_STAFF_IDLE_MINUTES"] * 60:
        return False
    if now - login_at > config["FORMSVC_STAFF_SESSION_HOURS"] * 3600:
        return False
    session[SEEN_AT] = now
    return True


def _start_session(user: StaffUser) -> None:
    login_user(user)
    session.permanent = True
    session[LOGIN_AT] = session[SEEN_AT] = int(time.time())


def find_staff(email: str) -> StaffUser | None:
    return db.session.scalar(sa.select(StaffUser).filter_by(email=email.strip().lower()))


class LoginForm(FlaskForm):
    email = EmailField("E-post", [InputRequired(message="Fyll i din e-postadress.")])
    password = PasswordField("Lösenord", [InputRequired(message="Fyll i ditt lösenord.")])


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never send someone elsewhere after login."""
    return own_path(target) or url_for("staff.dashboard")


def _failed_login(response) -> bool:
    return response.status_code == 401


def _account_tried() -> str:
    """The rate-limit key of a login attempt's account: failures count per account, from any address."""
    return "account:" + (request.form.get("email") or "").strip().lower()[:254]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FORMSVC_LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed_login)
@limiter.limit(
    lambda: current_app.config["FORMSVC_LOGIN_ACCOUNT_LIMIT"],
    methods=["POST"],
    key_func=_account_tried,
    deduct_when=_failed_login,
)
def login():
    """Log in with e-mail and password. Failures are counted and throttled (429)."""
    if current_user.is_authenticated:
        return redirect(url_for("staff.dashboard"))
    form = LoginForm()
    if form.validate_on_submit():
        user = find_staff(form.email.data)
        if user and user.check_password(form.password.data):
            next_page = _safe_next(request.args.get("next"))
            session.clear()  # a new session on login: nothing carried over from before
            _start_session(user)
            user.last_login_at = utcnow()
            audit("login", actor=user.email)
            db.session.commit()
            return redirect(next_page, 303)
        if not user:
            _dummy_user().check_password(form.password.data)
        audit("login_failed", actor=form.email.data.strip().lower()[:254])
        db.session.commit()
        form.password.errors = [gettext("Fel e-postadress eller lösenord.")]
        return render_template("staff/login.html", form=form), 401
    status = 422 if form.errors else 200
    return render_template("staff/login.html", form=form), status


@bp.post("/logout")
def logout():
    """Log out: this session and every copy of its cookie end (and the user's sessions elsewhere)."""
    audit("logout")
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"), 303)


class PasswordForm(FlaskForm):
    current = PasswordField(
        "Nuvarande lösenord", [InputRequired(message=lazy_gettext("Fyll i ditt nuvarande lösenord."))]
    )
    new = PasswordField(
        "Nytt lösenord",
        [
            InputRequired(message=lazy_gettext("Fyll i ett nytt lösenord.")),
            Length(
                min=MIN_PASSWORD_LENGTH, message=lazy_gettext("Lösenordet behöver vara minst %(min)d tecken långt.")
            ),
        ],
    )
    repeat = PasswordField(
        "Nytt lösenord igen",
        [InputRequired(message=lazy_gettext("Fyll i det nya lösenordet en gång till.")),
         EqualTo("new", message=lazy_gettext("Lösenorden är inte lika. Skriv samma lösenord två gånger."))],
    )


@bp.route("/password", methods=["GET", "POST"])
def change_password():
    """Change one's own password; the user's other sessions end, this one goes on."""
    form = PasswordForm()
    user = current_user._get_current_object()
    if form.validate_on_submit():
        if user.check_password(form.current.data):
            user.set_password(form.new.data)
            login_at = session.get(LOGIN_AT)
            _start_session(user)  # this session under the new token; it keeps its start time
            session[LOGIN_AT] = login_at
            audit("staff_password_changed", target=user.email)
            db.session.commit()
            flash(gettext("Ditt lösenord är bytt. Du är nu utloggad på andra enheter."))
            return redirect(url_for("staff.change_password"), 303)
        form.current.errors = [gettext("Det nuvarande lösenordet stämmer inte.")]
    status = 422 if form.errors else 200
    return render_template("staff/password.html", form=form), status


@click.group("staff", cls=AppGroup)
def staff_cli() -> None:
    """Staff accounts."""


@staff_cli.command("add")
@click.argument("email")
@click.option("--generate", is_flag=True, help="Generate a password and print it.")
@click.option(
    "--role", type=click.Choice(ROLES), default=None,
    help="admin (Administratör), handlaggare (Handläggare, the default for a new account) or lasare (Läsare). "
    "An existing account keeps its role unless this is given.",
)
def add_command(email: str, generate: bool, role: str | None) -> None:
    """Add a staff account, or set a new password (and, with --role, a new role) for it.

    Asks for the password, or reads it from standard input when that is not a terminal.
    """
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an e-mail address", param_hint="EMAIL")
    if generate:
        password = secrets.token_urlsafe(12)
    elif sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\n")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")
    user = find_staff(email) or StaffUser(email=email, role=HANDLAGGARE)
    user.set_password(password)
    if role and role != user.role:
        if user.id is not None:
            audit("staff_role_changed", target=email, actor="system", old=user.role, new=role)
        user.role = role
    db.session.add(user)
    audit("staff_password_set", target=email, actor="system", role=user.role)
    db.session.commit()
    click.echo(f"Staff account {email} ({user.role}) is ready.")
    if generate:
        click.echo(f"Password: {password}")
