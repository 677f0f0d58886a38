"""Staff side: login, dashboard and the secretariat's pages. Every /staff page needs login.

Features add their own staff pages with a blueprint from formsvc.staff_guard, registered in their own init_app.
"""

from __future__ import annotations

from flask import Flask

from ..extensions import login_manager
from ..staff_guard import with_query
from . import (
    accounts,
    audit_log,
    auth,
    dashboard,
    exports,
    organisations,
    outbox,
    responses,
    results,
    retention,
    roster,
)
from .blueprint import bp

# Modules that add pages to bp.
__all__ = ["bp", "init_app", "audit_log", "dashboard", "exports", "organisations", "outbox", "responses", "results",
           "retention", "roster"]


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(auth.load_user)
    login_manager.login_view = "staff.login"
    app.register_blueprint(bp)
    app.register_blueprint(accounts.bp)  # staff accounts and roles: a blueprint of its own (endpoints access.*)
    app.jinja_env.globals["with_query"] = with_query
    app.cli.add_command(auth.staff_cli)
