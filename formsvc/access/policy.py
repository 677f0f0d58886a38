"""Who may do what: one table from (method, URL rule) to the roles allowed, checked before every /staff request.

The table is keyed by URL rule, not endpoint name, so it holds however the staff pages are registered.
It fails closed: a /staff rule missing from the table is for Administratörs only (and
tests/test_authorisation.py fails until it gets a line). A form-scoped rule names the form in <slug>;
a Läsare may use it only for the forms given to them.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from .models import ADMIN, HANDLAGGARE, LASARE, is_given


@dataclass(frozen=True)
class Allowed:
    roles: frozenset[str]
    form_scoped: bool = False  # a Läsare needs the form in <slug> given


STAFF_PREFIX = "/staff"
EVERYONE = Allowed(frozenset({ADMIN, HANDLAGGARE, LASARE}))
HANDLING = Allowed(frozenset({ADMIN, HANDLAGGARE}))
ADMIN_ONLY = Allowed(frozenset({ADMIN}))
READING = Allowed(frozenset({ADMIN, HANDLAGGARE, LASARE}), form_scoped=True)  # nothing here changes data

OPEN = {("GET", "/staff/login"), ("POST", "/staff/login")}  # anyone, logged in or not

POLICY: dict[tuple[str, str], Allowed] = {
    # one's own session and password, and the overview
    ("GET", "/staff/"): EVERYONE,
    ("POST", "/staff/logout"): EVERYONE,
    ("GET", "/staff/password"): EVERYONE,
    ("POST", "/staff/password"): EVERYONE,
    # results and exports of a form: Läsare too, for the forms given to them
    ("GET", "/staff/forms/<slug>/results"): READING,
    ("GET", "/staff/forms/<slug>/results/<key>"): READING,
    ("GET", "/staff/forms/<slug>/responses"): READING,
    ("GET", "/staff/forms/<slug>/responses/<reference>"): READING,
    ("GET", "/staff/forms/<slug>/organisations"): READING,
    ("GET", "/staff/forms/<slug>/export.xlsx"): READING,
    ("GET", "/staff/forms/<slug>/export.csv"): READING,
    ("GET", "/staff/forms/<slug>/responses/<reference>/diariekopia.pdf"): READING,
    ("GET", "/staff/forms/<slug>/diariekopior.pdf"): READING,
    # erasure, retention, the audit log, webhooks, API keys and staff accounts: Administratörs
    ("GET", "/staff/forms/<slug>/responses/<reference>/delete"): ADMIN_ONLY,
    ("POST", "/staff/forms/<slug>/responses/<reference>/delete"): ADMIN_ONLY,
    ("GET", "/staff/newsletter/<int:subscription_id>/remove"): ADMIN_ONLY,
    ("POST", "/staff/newsletter/<int:subscription_id>/remove"): ADMIN_ONLY,
    ("GET", "/staff/retention"): ADMIN_ONLY,
    ("GET", "/staff/audit"): ADMIN_ONLY,
    ("GET", "/staff/webhooks/"): ADMIN_ONLY,
    ("GET", "/staff/webhooks/new"): ADMIN_ONLY,
    ("POST", "/staff/webhooks/new"): ADMIN_ONLY,
    ("GET", "/staff/webhooks/<int:endpoint_id>"): ADMIN_ONLY,
    ("POST", "/staff/webhooks/<int:endpoint_id>"): ADMIN_ONLY,
    ("GET", "/staff/webhooks/<int:endpoint_id>/delete"): ADMIN_ONLY,
    ("POST", "/staff/webhooks/<int:endpoint_id>/delete"): ADMIN_ONLY,
    ("POST", "/staff/webhooks/<int:endpoint_id>/disable"): ADMIN_ONLY,
    ("POST", "/staff/webhooks/<int:endpoint_id>/enable"): ADMIN_ONLY,
    ("POST", "/staff/webhooks/<int:endpoint_id>/retry"): ADMIN_ONLY,
    ("GET", "/staff/api-keys/"): ADMIN_ONLY,
    ("POST", "/staff/api-keys/"): ADMIN_ONLY,
    ("POST", "/staff/api-keys/<int:key_id>/revoke"): ADMIN_ONLY,
    ("GET", "/staff/accounts/"): ADMIN_ONLY,
    ("POST", "/staff/accounts/"): ADMIN_ONLY,
    ("POST", "/staff/accounts/<int:staff_id>/role"): ADMIN_ONLY,
    ("POST", "/staff/accounts/<int:staff_id>/forms"): ADMIN_ONLY,
    ("POST", "/staff/accounts/<int:staff_id>/forms/<slug>/take"): ADMIN_ONLY,
    # the forms' daily work: Handläggare
    ("GET", "/staff/forms/<slug>/share"): HANDLING,
    ("GET", "/staff/forms/<slug>/share/email"): HANDLING,
    ("GET", "/staff/forms/<slug>/share/qr.png"): HANDLING,
    ("GET", "/staff/forms/<slug>/share/qr.svg"): HANDLING,
    ("POST", "/staff/forms/<slug>/share/short"): HANDLING,
    ("GET", "/staff/invitations/<slug>"): HANDLING,
    ("GET", "/staff/invitations/<slug>/mail"): HANDLING,
    ("POST", "/staff/invitations/<slug>/mail"): HANDLING,
    ("POST", "/staff/invitations/<slug>/create"): HANDLING,
    ("GET", "/staff/invitations/<slug>/organisations/<int:organisation_id>"): HANDLING,
    ("POST", "/staff/invitations/<slug>/<int:invitation_id>/link"): HANDLING,
    ("POST", "/staff/invitations/<slug>/<int:invitation_id>/revoke"): HANDLING,
    ("POST", "/staff/invitations/<slug>/answers/<reference>/accept"): HANDLING,
    ("POST", "/staff/invitations/<slug>/answers/<reference>/reject"): HANDLING,
    ("GET", "/staff/live/"): HANDLING,
    ("POST", "/staff/live/"): HANDLING,
    ("GET", "/staff/live/<int:round_id>"): HANDLING,
    ("GET", "/staff/live/<int:round_id>/platskoder"): HANDLING,
    ("GET", "/staff/live/<int:round_id>/projektor"): HANDLING,
    ("POST", "/staff/live/<int:round_id>/resultat"): HANDLING,
    ("GET", "/staff/live/<int:round_id>/resultat.xlsx"): HANDLING,
    ("POST", "/staff/live/<int:round_id>/stang"): HANDLING,
    ("GET", "/staff/live/<int:round_id>/tally.json"): HANDLING,
    ("GET", "/staff/newsletter"): HANDLING,
    ("GET", "/staff/newsletter/export.csv"): HANDLING,
    ("GET", "/staff/newsletter/export.xlsx"): HANDLING,
    ("GET", "/staff/organisations"): HANDLING,
    ("GET", "/staff/organisations/new"): HANDLING,
    ("POST", "/staff/organisations/new"): HANDLING,
    ("GET", "/staff/organisations/<int:organisation_id>/edit"): HANDLING,
    ("POST", "/staff/organisations/<int:organisation_id>/edit"): HANDLING,
    ("GET", "/staff/organisations/import"): HANDLING,
    ("POST", "/staff/organisations/import"): HANDLING,
    ("POST", "/staff/organisations/import/confirm"): HANDLING,
    ("GET", "/staff/outbox"): HANDLING,
    ("POST", "/staff/outbox/<int:message_id>/release"): HANDLING,
    ("POST", "/staff/outbox/<int:message_id>/discard"): HANDLING,
    ("GET", "/staff/roster"): HANDLING,
    ("GET", "/staff/roster.xlsx"): HANDLING,
    # the form editor: drafts, preview, publishing and history (Handläggare edit and publish forms)
    ("GET", "/staff/forms-admin/"): HANDLING,
    ("POST", "/staff/forms-admin/new"): HANDLING,
    ("GET", "/staff/forms-admin/<slug>"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/settings"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/fields"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/fields/<key>"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/fields/<key>/move"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/fields/<key>/remove"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/mails"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/mails/<int:number>"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/mails/<int:number>/remove"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/rules"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/rules/<int:number>"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/rules/<int:number>/remove"): HANDLING,
    ("GET", "/staff/forms-admin/<slug>/preview"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/preview"): HANDLING,
    ("GET", "/staff/forms-admin/<slug>/preview/mobil"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/publish"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/archive"): HANDLING,
    ("GET", "/staff/forms-admin/<slug>/history"): HANDLING,
    ("POST", "/staff/forms-admin/<slug>/history/<version>/publish"): HANDLING,
    ("GET", "/staff/forms-admin/<slug>/<kind>.yaml"): HANDLING,
}


def may(user, method: str, rule: str, view_args: dict | None) -> bool:
    """Whether a logged-in staff user may make this request; rules not in the table are for Administratörs."""
    allowed = POLICY.get((method, rule), ADMIN_ONLY)
    if user.role not in allowed.roles:
        return False
    if allowed.form_scoped and user.role == LASARE:
        slug = (view_args or {}).get("slug")
        return bool(slug) and is_given(user.id, slug)
    return True


def _method() -> str:
    return "GET" if request.method in ("HEAD", "OPTIONS") else request.method


def check_access():
    """Before every request to a /staff rule: anonymous visitors go to the login page, and a logged-in
    user whose role does not allow the request gets 403. Other requests pay one string comparison."""
    rule = request.url_rule
    if rule is None or not rule.rule.startswith(STAFF_PREFIX):
        return None
    if (_method(), rule.rule) in OPEN:
        return None
    if not current_user.is_authenticated:
        login_view = current_app.login_manager.login_view
        return redirect(url_for(login_view, next=request.full_path if request.method == "GET" else None))
    if not may(current_user, _method(), rule.rule, request.view_args):
        abort(403)
    return None


def may_visit(path: str, method: str = "GET") -> bool:
    """For templates: whether the current user may open this staff address (menus hide what they may not)."""
    if not current_user.is_authenticated:
        return False
    try:
        rule, args = current_app.url_map.bind("").match(path, method=method, return_rule=True)
    except HTTPException:
        return False
    return may(current_user, method, rule.rule, args)
