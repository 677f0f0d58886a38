"""Forms embedded in other sites: who may frame them, and how they submit without the session cookie.

A definition with `embed: {allow: [https://site.example]}` may be shown in an iframe on those sites.
There the browser does not send our session cookie (it is SameSite=Lax), so the session's CSRF token
cannot be checked. The form page therefore carries a signed, time-limited form token (itsdangerous, as
Flask-WTF signs its own), bound to the form and to the page's submission key; a POST with a valid one
passes the CSRF check. The receipt, which is normally found through the session, is reached through a
short-lived signed reference in its address instead.
"""

from __future__ import annotations

from flask import Flask, current_app, g, request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from markupsafe import Markup

from .catalog import catalog

FIELD = "form_token"
RECEIPT_ARG = "kvitto"
# The pages of a form that its allowed sites may frame.
FORM_ENDPOINTS = {"public.show_form", "public.submit_form", "public.receipt"}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"formsvc.embed.{purpose}")


def _embeddable_definition():
    """The definition of the form this request is about, if it is marked embeddable."""
    if request.endpoint not in FORM_ENDPOINTS or not request.view_args:
        return None
    definition = catalog().get(request.view_args.get("slug", ""))
    return definition if definition is not None and definition.embed_allow else None


def frame_ancestors() -> tuple[str, ...]:
    """The sites that may frame this response (none for everything but embeddable forms)."""
    definition = _embeddable_definition()
    return definition.embed_allow if definition else ()


def form_token(slug: str, submission_key: str) -> str:
    return _serializer("form").dumps([slug, submission_key])


def token_field(definition, form) -> Markup:
    """The hidden form token for an embeddable form's page; nothing for other forms."""
    if not definition.embed_allow:
        return Markup("")
    token = form_token(definition.slug, form.submission_key.data or "")
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, token)


def accept_form_token() -> bool:
    """True when this POST is an embeddable form's submission carrying a valid form token of its own."""
    token = request.form.get(FIELD)
    definition = _embeddable_definition()
    if not token or definition is None or request.endpoint != "public.submit_form":
        return False
    try:
        slug, submission_key = _serializer("form").loads(
            token, max_age=current_app.config["FORMSVC_FORM_TOKEN_MAX_AGE"]
        )
    except (BadSignature, ValueError, TypeError):  # forged, expired or not the shape we sign
        return False
    if slug != definition.slug or submission_key != request.form.get("submission_key"):
        return False
    g.embedded_submission = True
    return True


def receipt_args(reference: str) -> dict[str, str]:
    """Extra arguments for the receipt address: a signed reference when the session cannot carry it."""
    if not g.get("embedded_submission"):
        return {}
    return {RECEIPT_ARG: _serializer("receipt").dumps(reference)}


def receipt_allowed(reference: str) -> bool:
    """True when the address carries a valid, recent signed reference for this receipt."""
    token = request.args.get(RECEIPT_ARG)
    if not token:
        return False
    try:
        signed = _serializer("receipt").loads(token, max_age=current_app.config["FORMSVC_RECEIPT_TOKEN_MAX_AGE"])
    except BadSignature:
        return False
    return signed == reference


def init_app(app: Flask) -> None:
    app.jinja_env.globals["embed_token_field"] = token_field
