"""Staff side: login, dashboard and the secretariat's pages. Every /staff page needs login."""

from __future__ import annotations

from flask import Flask

from ..extensions import login_manager
from ..invitations import staff_views
from ..live import staff_pages as live_pages
from ..newsletter import staff as newsletter_staff
from ..records import staff_views as records_pages
from ..sharing import pages as sharing_pages
from . import audit_log, auth, dashboard, exports, organisations, outbox, responses, results, retention, roster
from .blueprint import bp

# Modules that add pages to bp.
__all__ = [
    "bp", "init_app", "audit_log", "dashboard", "exports", "live_pages", "newsletter_staff", "organisations",
    "outbox", "records_pages", "responses", "results", "retention", "roster", "sharing_pages", "staff_views",
]


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(auth.load_user)
    login_manager.login_view = "staff.login"
    app.register_blueprint(bp)
    app.cli.add_command(auth.staff_cli)
