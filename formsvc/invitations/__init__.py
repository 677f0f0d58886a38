"""Invitations: personal links per form and organisation, invitation and reminder mails, who is missing.

The public link is `/i/<token>` (views.py); staff pages are in
staff_views.py (a blueprint from formsvc.staff_guard, behind the login guard); `invite` and `remind` in cli.py.
"""

from __future__ import annotations

from flask import Flask

from . import cli, staff_views, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(staff_views.bp)
    app.cli.add_command(cli.invite_command)
    app.cli.add_command(cli.remind_command)
