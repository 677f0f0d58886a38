"""The share page of a form (staff): plain and prefilled links, QR code, e-mail and iframe snippets, short links."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import segno
from flask import redirect, render_template, request, send_file, url_for
from flask_babel import gettext
from flask_login import current_user

from ..audit import audit
from ..catalog import catalog
from ..definitions import FormDefinition, Prefill, field_type
from ..extensions import db
from ..links import public_url
from ..organisations import register_entries
from ..staff_guard import staff_blueprint
from .models import short_link_for, short_links_of
from .prefilled import answer_links, builder_fields, embed_allowlist, form_link, iframe_snippet, picked, query_string

bp = staff_blueprint("staff_sharing", __name__)

# The e-mail preview is shown as it will look in a mail client: inline styles allowed, nothing else.
PREVIEW_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
QR_FORMATS = {
    "png": ("image/png", {"scale": 10}),
    "svg": ("image/svg+xml", {"scale": 8, "xmldecl": False}),
}


def _chosen(definition: FormDefinition, source) -> tuple[Prefill, str]:
    chosen = picked(definition, source.getlist)
    return chosen, query_string(definition, chosen.values)


def _share_page(definition: FormDefinition, chosen: Prefill, query: str, status: int = 200, error: str = ""):
    link = form_link(definition, query)
    first, options = answer_links(definition, chosen.values)
    snippet = {"definition": definition, "link": link, "first": first, "options": options}
    short_links = short_links_of(definition.slug)
    allow = embed_allowlist(definition)
    needs_register = any(field_type(spec.type).names_organisation for spec in builder_fields(definition))
    return render_template(
        "staff/share.html",
        definition=definition,
        state=definition.state(datetime.now(UTC)),
        plain_link=form_link(definition),
        link=link,
        query=query,
        chosen=chosen,
        error=error,
        builder=builder_fields(definition),
        organisations=register_entries() if needs_register else [],
        email_html=render_template("staff/share_email.html", **snippet),
        email_text=render_template("staff/share_email.txt", **snippet),
        embed_allow=allow,
        iframe=iframe_snippet(definition, link) if allow else "",
        short_link=next((s for s in short_links if s.query == query), None),
        short_links=short_links,
        short_url=lambda s: public_url("sharing.follow", code=s.code),
        target_of=lambda s: form_link(definition, s.query),
    ), status


@bp.get("/forms/<slug>/share")
def share(slug: str):
    """Every way to put the form in front of people; the GET form on the page picks prefilled answers."""
    definition = catalog().get_or_404(slug)
    chosen, query = _chosen(definition, request.args)
    # A value the form would not take (changed definition, edited address) is named, not used.
    return _share_page(definition, chosen, query, status=422 if chosen.dropped else 200)


# Two plain rules rather than a converter: each download has one fixed, readable address.
@bp.get("/forms/<slug>/share/qr.png", defaults={"kind": "png"})
@bp.get("/forms/<slug>/share/qr.svg", defaults={"kind": "svg"})
def share_qr(slug: str, kind: str):
    """The QR code of the (prefilled) link, drawn here, as a download for posters and slides."""
    definition = catalog().get_or_404(slug)
    _chosen_values, query = _chosen(definition, request.args)
    mimetype, options = QR_FORMATS[kind]
    buffer = io.BytesIO()
    segno.make(form_link(definition, query), error="m").save(buffer, kind=kind, border=4, **options)
    buffer.seek(0)
    return send_file(buffer, mimetype=mimetype, as_attachment=True, download_name=f"{slug}-qr.{kind}")


@bp.get("/forms/<slug>/share/email")
def share_email_preview(slug: str):
    """The e-mail snippet as a mail client shows it: select it here and paste it into a mail."""
    definition = catalog().get_or_404(slug)
    chosen, query = _chosen(definition, request.args)
    first, options = answer_links(definition, chosen.values)
    page = render_template(
        "staff/share_email_preview.html",
        definition=definition,
        snippet=render_template(
            "staff/share_email.html",
            definition=definition,
            link=form_link(definition, query),
            first=first,
            options=options,
        ),
    )
    return page, 200, {"Content-Security-Policy": PREVIEW_CSP}


@bp.post("/forms/<slug>/share/short")
def create_short_link(slug: str):
    """Make (or find) the short link /s/<code> for the chosen prefill, then show it on the share page."""
    definition = catalog().get_or_404(slug)
    chosen, query = _chosen(definition, request.form)
    if chosen.dropped:
        error = gettext("Kortlänken skapades inte: några av svaren finns inte i formuläret.")
        return _share_page(definition, chosen, query, status=422, error=error)
    link, made = short_link_for(slug, query, created_by=current_user.email)
    if made:
        audit("short_link_created", target=slug, code=link.code, query=query)
    db.session.commit()
    return redirect(url_for(".share", slug=slug) + (f"?{query}" if query else "") + "#kortlank", 303)
