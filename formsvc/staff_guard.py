"""Staff pages: the one way to add pages under /staff, so none is without the login guard.

A feature makes its own blueprint here and registers it in its own init_app; formsvc.staff does not import
it, and this module imports no feature:

    bp = staff_blueprint("webhooks", __name__, "/webhooks")   # instead of Blueprint(...)
    @bp.get("/") ...                                           # served at /staff/webhooks/
    app.register_blueprint(bp)                                 # in the feature's init_app

Every page then needs a logged-in staff session (Flask-Login's user loader in staff/auth.py also ends idle
and too old sessions) and is sent with Cache-Control: no-store. tests/test_staff_auth.py checks that every
rule under /staff belongs to such a blueprint.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user

URL_PREFIX = "/staff"
OPEN_ENDPOINTS = {"staff.login"}  # the only /staff page an anonymous visitor may see


def require_login():
    """Anonymous visitors go to the login page (and come back after); staff sessions expire when idle."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("staff.login", next=request.full_path if request.method == "GET" else None))
    session.permanent = True  # with PERMANENT_SESSION_LIFETIME: logged out after that long idle
    return None


def no_store(response):
    # Staff pages hold personal data: no copies in shared caches or the browser's history cache.
    response.headers["Cache-Control"] = "no-store"
    return response


def staff_blueprint(name: str, import_name: str, url_prefix: str = "") -> Blueprint:
    """A blueprint of staff pages: its rules are served under /staff (and `url_prefix` below it, e.g.
    "/webhooks") and all of them need login."""
    bp = Blueprint(name, import_name, url_prefix=URL_PREFIX + url_prefix)
    bp.before_request(require_login)
    bp.after_request(no_store)
    return bp


def is_guarded(app, blueprint_name: str) -> bool:
    """Whether a registered blueprint's pages go through the login guard (for the check in the tests)."""
    return require_login in app.before_request_funcs.get(blueprint_name, [])


def with_query(url: str, **changes) -> str:
    """`url` with this request's query parameters (a list's filters and page), `changes` replacing some.

    The parameters go into the query string only, never into url_for's arguments: there a crafted `?slug=`
    or `?endpoint=` failed the page (500) and `?_external=1&_scheme=...` changed where its links went."""
    args = request.args.to_dict(flat=False)
    args.update({key: [value] for key, value in changes.items()})
    query = urlencode(args, doseq=True)
    return f"{url}?{query}" if query else url
