"""Following a short link: /s/<code> redirects to the form's link with its prefilled answers."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template
from flask_babel import gettext

from ..catalog import catalog
from ..extensions import limiter, not_found
from .models import find_short_link
from .prefilled import form_link

bp = Blueprint("sharing", __name__)


@bp.get("/s/<code>")
# Only unknown codes count: guessing codes is throttled (429), a link shared with a whole room is not.
@limiter.limit(lambda: current_app.config["FORMSVC_TOKEN_LIMIT"], deduct_when=not_found)
def follow(code: str):
    """Redirect (302, not cached for good: the target may be changed) to the full link; unknown: 404."""
    link = find_short_link(code)
    definition = catalog().get(link.form_slug) if link else None
    if definition is None:
        message = gettext(
            "Kortlänken finns inte. Kontrollera att du har skrivit av den rätt, "
            "eller be den som skickade länken om en ny."
        )
        return render_template("error.html", code=404, message=message), 404
    # The form drops, with a notice, any prefilled answer it no longer has.
    return redirect(form_link(definition, link.query), 302)
