"""The staff blueprint and its guard: every /staff page needs login; feature modules add views to `bp`."""

from __future__ import annotations

from flask import Blueprint, redirect, request, session, url_for
from flask_login import current_user

bp = Blueprint("staff", __name__, url_prefix="/staff")
OPEN_ENDPOINTS = {"staff.login"}  # the only /staff page an anonymous visitor may see


@bp.before_request
def require_login():
    """Anonymous visitors go to the login page (and come back after); staff sessions expire when idle."""
    if request.endpoint in OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        return redirect(url_for("staff.login", next=request.full_path if request.method == "GET" else None))
    session.permanent = True  # with PERMANENT_SESSION_LIFETIME: logged out after that long idle
    return None


@bp.after_request
def no_store(response):
    # Staff pages hold personal data: no copies in shared caches or the browser's history cache.
    response.headers["Cache-Control"] = "no-store"
    return response
