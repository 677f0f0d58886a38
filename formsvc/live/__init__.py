"""Live workshop vote: a round with a join code and QR, one vote per seat or device, a live projector view.

Participants use `/live/<code>` (public.py); staff start, show, close and export rounds under /staff/live/
(staff_pages.py, a staff blueprint of its own behind the login guard, formsvc.staff_guard).
"""

from __future__ import annotations

from flask import Flask

from ..export import on_export_sheets
from . import staff_pages
from .combined import combined_sheet
from .public import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    app.register_blueprint(staff_pages.bp)
    on_export_sheets(app, combined_sheet)  # a form's export has its rounds' votes too
