"""The `formsvc` command: Flask's CLI with this app, plus `forms check`, which works without it."""

from __future__ import annotations

import secrets

import click
import sqlalchemy as sa
from flask.cli import FlaskGroup, with_appcontext

from . import create_app
from .catalog import forms_cli
from .config import resource_dir
from .extensions import db
from .models import Organisation
from .organisations import add_organisations, check_rows, demo_email, read_file
from .staff.auth import find_staff
from .staff.models import StaffUser

DEMO_STAFF = "handlaggare@example.org"


@click.command("demo")
@with_appcontext
def demo_command() -> None:
    """Fill an empty database with demo data: the organisation register with example.org contacts."""
    if db.session.scalar(sa.select(sa.func.count(Organisation.id))):
        click.echo("The organisation register has entries already; demo organisations not added.")
        return
    rows = read_file(resource_dir("data") / "organisations.csv")
    for row in rows:
        row["contact_email"] = demo_email(row["name"])
    report = check_rows(rows)
    add_organisations(report.accepted)
    db.session.commit()
    click.echo(f"Demo data: {len(report.accepted)} organisations with example.org contacts.")


@click.command("demo-staff")
@click.option("--port", default=5000, show_default=True, help="the port the dev server will listen on")
@with_appcontext
def demo_staff_command(port: int) -> None:
    """Give the demo staff account a new random password and print how to log in."""
    password = secrets.token_urlsafe(12)
    user = find_staff(DEMO_STAFF) or StaffUser(email=DEMO_STAFF)
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.secho(f"Staff login: http://127.0.0.1:{port}/staff/  e-mail {DEMO_STAFF}  password {password}", bold=True)


main = FlaskGroup(create_app=create_app, help="formsvc: forms and surveys.")
main.add_command(forms_cli)
main.add_command(demo_command)
main.add_command(demo_staff_command)


if __name__ == "__main__":
    main()
