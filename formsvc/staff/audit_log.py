"""The audit log for staff: every login, export and deletion, who and when, newest first."""

from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import lazy_gettext

from ..audit import AuditEvent
from ..extensions import db
from .blueprint import bp

PER_PAGE = 100
# What each recorded action is called on the page; an action not listed is shown by its name.
ACTIONS = {
    "login": lazy_gettext("Inloggning"),
    "login_failed": lazy_gettext("Misslyckad inloggning"),
    "logout": lazy_gettext("Utloggning"),
    "export": lazy_gettext("Export"),
    "delete_response": lazy_gettext("Raderat svar"),
    "answer_accepted": lazy_gettext("Godkänt svar via öppen länk"),
    "answer_rejected": lazy_gettext("Avvisat svar via öppen länk"),
    "staff_password_set": lazy_gettext("Lösenord satt"),
    "staff_added": lazy_gettext("Personalkonto tillagt"),
    "staff_role_changed": lazy_gettext("Roll ändrad"),
    "staff_form_given": lazy_gettext("Formulär givet till läsare"),
    "staff_form_taken": lazy_gettext("Formulär taget från läsare"),
    "api_key_created": lazy_gettext("API-nyckel skapad"),
    "api_key_revoked": lazy_gettext("API-nyckel återkallad"),
    "api_request": lazy_gettext("Läst via API:t"),
    "api_refused": lazy_gettext("Nekad API-nyckel"),
}


@bp.get("/audit")
def audit_log():
    """The audit log, a page at a time."""
    query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    page = db.paginate(query, page=request.args.get("page", 1, type=int), per_page=PER_PAGE, error_out=False)
    return render_template("staff/audit.html", page=page, actions=ACTIONS)
