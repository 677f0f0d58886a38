"""Sharing a form: the staff share page (links, prefilled links, QR code, snippets) and short links /s/<code>.

The share pages are a staff blueprint of their own (pages.py, behind the login guard of
formsvc.staff_guard); the public short link redirect is a blueprint of its own (short.py).
"""

from __future__ import annotations

from flask import Flask

from . import models, pages, short

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    app.register_blueprint(short.bp)
    app.register_blueprint(pages.bp)
