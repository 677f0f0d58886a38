"""Live workshop vote: a round with a join code and QR, one vote per seat or device, a live projector view.

Participants use `/live/<code>` (public.py); staff start, show, close and export rounds under /staff/live/
(staff_pages.py, imported by formsvc.staff so its views join the staff blueprint and its login guard).
"""

from __future__ import annotations

from flask import Flask

from .public import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
