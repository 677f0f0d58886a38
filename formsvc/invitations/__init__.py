"""Invitations: personal links per form and organisation, invitation and reminder mails, who is missing.

The public link is `/i/<token>` (views.py); staff pages are in staff_views.py; `invite` and `remind` in cli.py.
"""

from __future__ import annotations

from flask import Flask

from . import cli, views


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.cli.add_command(cli.invite_command)
    app.cli.add_command(cli.remind_command)
