"""The read API (/api/v1/) for other systems, and the staff pages where Administratörs make its keys.
See docs/integrations.md#api."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import MethodNotAllowed, NotFound

from .. import errors
from . import pages, views

__all__ = ["init_app"]


def _not_routed(error):
    """An /api/ address with no route, or a method it does not take, still answers in JSON; every other
    address gets the site's page."""
    if request.path.startswith(views.bp.url_prefix + "/"):
        return views.http_error(error)
    return errors.http_error(error)


def init_app(app: Flask) -> None:
    app.register_blueprint(views.bp)
    app.register_blueprint(pages.bp)
    app.register_error_handler(NotFound, _not_routed)
    app.register_error_handler(MethodNotAllowed, _not_routed)
