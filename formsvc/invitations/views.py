"""`/i/<token>`: a personal invitation link becomes a session entry, then the form (303), token gone from the URL."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, url_for

from ..catalog import catalog
from ..extensions import db, limiter, not_found
from ..security import token_limit
from .session import remember
from .tokens import find_token, mark_used

bp = Blueprint("invitations", __name__)


@bp.get("/i/<token>")
# Only wrong tokens count: guessing is throttled (429), while a mail scanner opening a good link is not.
@limiter.limit(lambda: current_app.config["FORMSVC_INVITATION_LIMIT"], deduct_when=not_found)
@token_limit
def enter(token: str):
    """Exchange a personal link for a session entry and go to the form, so the token leaves the address bar."""
    row = find_token(token)
    if row is None or catalog().get(row.invitation.form_slug) is None:
        return render_template("invitations/unknown.html"), 404
    mark_used(row)
    db.session.commit()
    remember(row)
    response = redirect(url_for("public.show_form", slug=row.invitation.form_slug), 303)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.after_request
def no_store(response):
    # The link is personal: no shared cache keeps either the redirect or the "unknown link" page.
    response.headers["Cache-Control"] = "no-store"
    return response
