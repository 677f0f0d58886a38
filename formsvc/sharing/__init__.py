"""Sharing a form: the staff share page (links, prefilled links, QR code, snippets) and short links /s/<code>.

The share pages are views on the staff blueprint (pages.py, imported by formsvc.staff so they sit behind
its login guard); the public short link redirect is a blueprint of its own (short.py).
"""

from __future__ import annotations

from flask import Flask

from . import models, short

__all__ = ["init_app", "models"]


def init_app(app: Flask) -> None:
    app.register_blueprint(short.bp)
