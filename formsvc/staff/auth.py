"""Staff login and logout, and `formsvc staff add`."""

from __future__ import annotations

import functools
import secrets
import sys

import click
import sqlalchemy as sa
from flask import current_app, redirect, render_template, request, session, url_for
from flask.cli import AppGroup
from flask_babel import gettext
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired

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


def load_user(user_id: str) -> StaffUser | None:
    """Flask-Login's loader: the id carries the session token, so a changed password ends old sessions."""
    staff_id, _, token = user_id.partition(":")
    if not staff_id.isdigit():
        return None
    user = db.session.get(StaffUser, int(staff_id))
    return user if user and secrets.compare_digest(user.session_token, token) else None


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


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["FORMSVC_LOGIN_LIMIT"], methods=["POST"], deduct_when=_failed_login)
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
            login_user(user)
            session.permanent = True
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
    """Log out and forget the session."""
    audit("logout")
    db.session.commit()
    logout_user()
    session.clear()
    return redirect(url_for("staff.login"), 303)


@click.group("staff", cls=AppGroup)
def staff_cli() -> None:
    """Staff accounts."""


@staff_cli.command("add")
@click.argument("email")
@click.option("--generate", is_flag=True, help="Generate a password and print it.")
def add_command(email: str, generate: bool) -> None:
    """Add a staff account, or set a new password for it.

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
    user = find_staff(email) or StaffUser(email=email)
    user.set_password(password)
    db.session.add(user)
    audit("staff_password_set", target=email, actor="system")
    db.session.commit()
    click.echo(f"Staff account {email} is ready.")
    if generate:
        click.echo(f"Password: {password}")
