"""The `formsvc` command: Flask's CLI with this app, plus `forms check`, which works without it."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import create_app, demo
from .catalog import forms_cli
from .database import upgrade_schema
from .extensions import db


@click.command("demo")
@click.option("--port", default=5000, show_default=True, help="the port the dev server will listen on")
@click.option("--new-password", is_flag=True, help="give the demo staff account a new password")
@with_appcontext
def demo_command(port: int, new_password: bool) -> None:
    """Migrate the database and fill it with demo data for every feature (once), with a demo staff account.

    The staff password is kept in instance/ and stays the same until --new-password; `make run` prints the
    login when the server has started, `formsvc demo-staff` prints it at any time.
    """
    upgrade_schema()
    for line in demo.add_demo_data(current_app._get_current_object(), port) or ["nothing new: it is all there"]:
        click.echo(f"Demo data: {line}.")
    demo.ensure_staff(new_password)
    db.session.commit()


@click.command("demo-staff")
@click.option("--port", default=5000, show_default=True, help="the port the dev server will listen on")
@click.option("--new-password", is_flag=True, help="a new random password instead of the kept one")
@with_appcontext
def demo_staff_command(port: int, new_password: bool) -> None:
    """Print how to log in as the demo staff account (its password is kept in instance/)."""
    password = demo.ensure_staff(new_password)
    db.session.commit()
    click.secho(demo.login_text(port, password), bold=True)


main = FlaskGroup(create_app=create_app, help="formsvc: forms and surveys.")
main.add_command(forms_cli)
main.add_command(demo_command)
main.add_command(demo_staff_command)


if __name__ == "__main__":
    main()
