"""Public newsletter pages: confirm a subscription, unsubscribe (also one-click from a mail program).

GET never changes anything: mail scanners follow links. The buttons POST.
"""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..catalog import catalog
from ..extensions import csrf, db, limiter
from ..models import utcnow
from ..security import token_limit
from .models import CONFIRM, PENDING, UNSUBSCRIBE, UNSUBSCRIBED
from .subscriptions import (
    confirm,
    find_token,
    mailed_recently,
    prepare_confirmation,
    send_confirmation,
    token_state,
    unsubscribe,
)

bp = Blueprint("newsletter", __name__, url_prefix="/newsletter")


def sign_up_form() -> str | None:
    """The form these pages link to for signing up (again): the one whose `newsletter:` says `sign_up: true`."""
    return next((d.slug for d in catalog() if d.newsletter and d.newsletter.sign_up), None)


def _limit() -> str:
    return current_app.config["FORMSVC_NEWSLETTER_LIMIT"]


@bp.after_request
def private(response):
    # These pages are reached by a personal link: no copies in caches.
    response.headers["Cache-Control"] = "no-store"
    return response


def _invalid_link():
    return render_template("newsletter/invalid.html", sign_up_form=sign_up_form()), 404


@bp.get("/confirm/<token>")
@limiter.shared_limit(_limit, scope="newsletter-links")
@token_limit
def confirm_page(token: str):
    """The confirmation page: a button, or what has happened already. Changes nothing."""
    found = find_token(token, CONFIRM)
    if found is None:
        return _invalid_link()
    state = token_state(found, utcnow())
    status = 410 if state == "expired" else 200
    return render_template("newsletter/confirm.html", state=state, token=token), status


@bp.post("/confirm/<token>")
@limiter.shared_limit(_limit, scope="newsletter-links")
@token_limit
def confirm_subscription(token: str):
    """Confirm (the button); a second time is fine and sends nothing more."""
    found = find_token(token, CONFIRM)
    if found is None:
        return _invalid_link()
    now = utcnow()
    if token_state(found, now) == "expired":
        return render_template("newsletter/confirm.html", state="expired", token=token), 410
    confirm(found.subscription, now)
    db.session.commit()
    return redirect(url_for(".confirm_page", token=token), 303)


@bp.post("/confirm/<token>/new")
@limiter.shared_limit(_limit, scope="newsletter-links")
@token_limit
def new_confirmation(token: str):
    """An expired link asks for a new mail: sent unless one went out within the hour."""
    found = find_token(token, CONFIRM)
    if found is None:
        return _invalid_link()
    subscription, now = found.subscription, utcnow()
    if subscription.status == PENDING and not mailed_recently(subscription.confirm_mailed_at, now):
        send_confirmation(subscription.id, prepare_confirmation(subscription.email, subscription.name), now)
        subscription.confirm_mailed_at = now
        db.session.commit()
    return redirect(url_for(".mail_sent"), 303)


@bp.get("/mail-sent")
def mail_sent():
    """After asking for a new confirmation mail."""
    return render_template("newsletter/mail_sent.html")


@bp.get("/unsubscribe/<token>")
@limiter.shared_limit(_limit, scope="newsletter-links")
@token_limit
def unsubscribe_page(token: str):
    """The unsubscribe page: a button, or the news that the subscription has ended. Changes nothing."""
    found = find_token(token, UNSUBSCRIBE)
    if found is None:
        return _invalid_link()
    done = found.subscription.status == UNSUBSCRIBED
    return render_template("newsletter/unsubscribe.html", done=done, token=token, sign_up_form=sign_up_form())


@bp.post("/unsubscribe/<token>")
# The 32-byte token in the link is the authority here, not a session cookie, so a forged cross-site POST
# gains nothing a CSRF token would stop; mail programs post without a session. No per-client limit
# either: one-click unsubscribes come from the few servers of the big mail services.
@csrf.exempt
def unsubscribe_now(token: str):
    """Unsubscribe at once: the button, or a mail program's one-click POST (RFC 8058)."""
    found = find_token(token, UNSUBSCRIBE)
    if found is None:
        return _invalid_link()
    unsubscribe(found.subscription, utcnow())
    db.session.commit()
    if request.form.get("List-Unsubscribe") == "One-Click" and "button" not in request.form:
        # A mail program: it reads the status only, and may not follow a redirect.
        return render_template("newsletter/unsubscribe.html", done=True, token=token, sign_up_form=sign_up_form())
    return redirect(url_for(".unsubscribe_page", token=token), 303)

