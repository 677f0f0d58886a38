"""The dashboard: every form with its state, number of answers, last answer and deadline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import render_template

from ..catalog import catalog
from ..definitions import FormDefinition
from ..extensions import db
from ..invitations.status import invited_counts, missing_counts
from ..models import Response
from .blueprint import bp


@dataclass(frozen=True)
class FormSummary:
    definition: FormDefinition
    state: str
    answers: int
    last_answer_at: datetime | None


def form_summaries() -> list[FormSummary]:
    counts = {
        slug: (count, last)
        for slug, count, last in db.session.execute(
            # Current answers only: one replaced by a newer answer from the same organisation is history.
            sa.select(
                Response.form_slug,
                sa.func.count(Response.id).filter(Response.is_current.is_(True)),
                sa.func.max(Response.submitted_at),  # typed as its column: aware UTC on both backends
            ).group_by(Response.form_slug)
        )
    }
    now = datetime.now(UTC)
    return [
        FormSummary(d, d.state(now), *counts.get(d.slug, (0, None)))
        for d in sorted(catalog(), key=lambda d: d.title)
    ]


@bp.get("/")
def dashboard():
    """Every form: state, answers, last answer, deadline, and how many invited organisations are missing."""
    return render_template(
        "staff/dashboard.html", summaries=form_summaries(), invited=invited_counts(), missing=missing_counts()
    )
