"""Staff view of retention: per form, how long answers are kept and what `formsvc purge` will do next."""

from __future__ import annotations

from flask import render_template

from ..retention import status
from .blueprint import bp


@bp.get("/retention")
def retention():
    """What is past its retention period now, and when the next answers fall due."""
    return render_template("staff/retention.html", rows=status())
