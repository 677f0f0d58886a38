"""The definition versions a form's answers were given under, read back from the database.

Answers are shown with the version they were given under; results and exports use the current
definition's questions and options first, then what only older versions had, so no answer is left out.
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

import sqlalchemy as sa
from flask_babel import gettext

from .definitions import Choice, FieldDefinition, FormDefinition
from .extensions import db
from .models import FormVersion

T = TypeVar("T", FieldDefinition, Choice)


def stored_definition(row: FormVersion | sa.Row) -> FormDefinition:
    """A form_versions row (an object or a plain row) as the definition it was."""
    return FormDefinition.from_json(row.definition, slug=row.form_slug, version=row.version)


def older_definitions(definition: FormDefinition) -> list[FormDefinition]:
    """The other versions answers were given under, newest first."""
    rows = db.session.scalars(
        sa.select(FormVersion)
        .where(FormVersion.form_slug == definition.slug, FormVersion.version != definition.version)
        .order_by(FormVersion.first_seen_at.desc(), FormVersion.id.desc())
    )
    return [stored_definition(row) for row in rows]


def all_questions(definition: FormDefinition) -> tuple[FieldDefinition, ...]:
    """The current questions in their order, then those only older versions had (newest version first).

    A question keeps its current label and options; options only older versions had are added at the end,
    so answers that picked them are still counted and exported under their old label. Questions and options
    the current version no longer has are marked as removed (the form editor removed them).
    """
    merged: dict[str, FieldDefinition] = {spec.key: spec for spec in definition.fields}
    for older in older_definitions(definition):
        for spec in older.fields:
            known = merged.get(spec.key)
            if known is None:
                merged[spec.key] = _removed(spec)
                continue
            extra = tuple(_removed(c) for c in spec.choices if c.key not in {k.key for k in known.choices})
            if extra:
                merged[spec.key] = dataclasses.replace(known, choices=known.choices + extra)
    return tuple(merged.values())


def _removed(part: T) -> T:
    """A question or option no longer in the form, its labels marked so (results, exports)."""
    marked = {"label": gettext("%(label)s (borttagen)", label=part.label)}
    if part.label_en:
        marked["label_en"] = gettext("%(label)s (borttagen)", label=part.label_en)
    return dataclasses.replace(part, **marked)
