"""Form definitions in the database: import, export, and the generation workers check.

Functions here change data and never commit: the request or command that called them does.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..audit import audit
from ..database import insert_unless_present
from ..definitions import FormDefinition, load_text
from ..extensions import db
from ..models import FormVersion, utcnow
from .models import StoredForm

TABLE = StoredForm.__table__
# What a worker reads to know whether its catalog is current: one indexed aggregate.
GENERATION = sa.select(sa.func.coalesce(sa.func.max(TABLE.c.updated_seq), 0))
CHANGED = "formsvc_catalog_changed"  # in Session.info: this transaction changed what the catalog serves
# What the catalog serves: published texts, and the archived forms it must not serve (not even from a file).
SERVED = sa.select(TABLE.c.slug, TABLE.c.published, TABLE.c.archived).where(
    TABLE.c.published.is_not(None) | TABLE.c.archived
)


def source_of(slug: str) -> str:
    """Where a stored definition's errors say they are (as a file's name would)."""
    return f"{slug}.yaml"


def read(text: str, slug: str) -> FormDefinition:
    """A stored or uploaded YAML text as a checked definition; DefinitionError names line and column."""
    return load_text(text, slug=slug, source=source_of(slug))


def next_generation() -> int:
    """The number the next change is stored with. On PostgreSQL the table is locked against other
    writers until commit, so two publishes at once never get the same number (SQLite has one writer)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE form_definitions IN SHARE ROW EXCLUSIVE MODE"))
    return db.session.scalar(GENERATION) + 1


def remember_version(definition: FormDefinition, text: str) -> None:
    """The form_versions row of a published definition with its text, so its history lists it before any
    answer and it can be published again."""
    connection = db.session.connection()
    versions = FormVersion.__table__
    row = {
        "form_slug": definition.slug,
        "version": definition.version,
        "definition": definition.as_json(),
        "first_seen_at": utcnow(),
        "text": text,
    }
    connection.execute(insert_unless_present(versions, connection.dialect.name), row)
    # A version first seen when answered (from a file) has no text yet.
    mine = (versions.c.form_slug == definition.slug) & (versions.c.version == definition.version)
    connection.execute(sa.update(versions).where(mine, versions.c.text.is_(None)).values(text=text))


def publish_text(text: str, slug: str, actor: str, action: str = "form_publish") -> tuple[FormDefinition, str]:
    """Check a definition's text and make it the form's published version; returns (definition, what
    happened: "added", "published" or "unchanged"). Audited as `action`."""
    definition = read(text, slug)
    stored = db.session.scalar(sa.select(StoredForm).filter_by(slug=slug))
    current = stored.published if stored is not None and not stored.archived else None
    if current is not None and read(current, slug).version == definition.version:
        return definition, "unchanged"
    outcome = "published" if stored is not None else "added"
    if stored is None:
        stored = StoredForm(slug=slug)
        db.session.add(stored)
    stored.published = text
    stored.archived = False
    stored.updated_at = utcnow()
    stored.updated_by = actor
    stored.updated_seq = next_generation()
    db.session.info[CHANGED] = True
    db.session.flush()
    remember_version(definition, text)
    audit(action, slug, actor=actor, version=definition.version)
    return definition, outcome


def export_text(slug: str) -> str | None:
    """The form's published YAML text, as it was imported or published."""
    return db.session.scalar(sa.select(StoredForm.published).filter_by(slug=slug))


def set_archived(slug: str, archived: bool, actor: str) -> bool:
    """Archive a form (no longer served; its answers stay) or bring it back; False: no such stored form."""
    stored = db.session.scalar(sa.select(StoredForm).filter_by(slug=slug))
    if stored is None:
        return False
    stored.archived = archived
    stored.updated_at, stored.updated_by = utcnow(), actor
    stored.updated_seq = next_generation()
    db.session.info[CHANGED] = True
    audit("form_archive" if archived else "form_unarchive", slug, actor=actor)
    return True
