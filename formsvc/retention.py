"""Retention: answers are kept as long as their form's definition says, then anonymised or deleted.

`retention_days` in a definition is counted from when the answer was given. `retention_action` says what
happens then: `anonymise` (the default) removes every answer that may say something about a person and
keeps the options picked, so counts and results still add up; `delete` removes the whole answer.
`formsvc purge` does it (run it daily from cron or a systemd timer) and writes what it did to the audit
log; staff see what is due at /staff/retention. Sent mail, which holds copies of answers, is deleted
after FORMSVC_OUTBOX_RETENTION_DAYS.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import with_appcontext

from .audit import audit
from .catalog import catalog
from .definitions import FormDefinition, field_type
from .dispatch import dispatch_now
from .extensions import db
from .mail import FAILED, SENT, OutboxMessage
from .models import Response, utcnow
from .webhooks.events import emit

BATCH = 500


@dataclass(frozen=True)
class RetentionStatus:
    """What is due for one form."""

    definition: FormDefinition
    cutoff: datetime | None  # answers given before this are past their time
    due: int  # answers past their time and not yet anonymised or deleted
    anonymised: int  # answers already anonymised
    next_due_at: datetime | None  # when the next answer becomes due


def _cutoff(definition: FormDefinition, now: datetime) -> datetime | None:
    return now - timedelta(days=definition.retention_days) if definition.retention_days else None


def _due(slug: str, cutoff: datetime):
    return sa.and_(Response.form_slug == slug, Response.submitted_at < cutoff, Response.anonymised_at.is_(None))


def status(now: datetime | None = None) -> list[RetentionStatus]:
    """Every form: its retention period and how many answers are due now (counted in SQL)."""
    now = now or utcnow()
    rows = []
    for definition in sorted(catalog(), key=lambda d: d.title):
        cutoff = _cutoff(definition, now)
        anonymised = db.session.scalar(
            sa.select(sa.func.count(Response.id)).where(
                Response.form_slug == definition.slug, Response.anonymised_at.is_not(None)
            )
        )
        due, next_due_at = 0, None
        if cutoff:
            due = db.session.scalar(sa.select(sa.func.count(Response.id)).where(_due(definition.slug, cutoff)))
            oldest_kept = db.session.scalar(
                # min() is typed as its column (UTCDateTime): an aware UTC time on both backends
                sa.select(sa.func.min(Response.submitted_at)).where(
                    Response.form_slug == definition.slug,
                    Response.submitted_at >= cutoff,
                    Response.anonymised_at.is_(None),
                )
            )
            if oldest_kept is not None:
                next_due_at = oldest_kept + timedelta(days=definition.retention_days)
        rows.append(RetentionStatus(definition, cutoff, due, anonymised, next_due_at))
    return rows


def anonymised_answers(definition: FormDefinition, answers: dict) -> dict:
    """The answers with everything that may identify a person removed (set to None)."""
    # Kept: answers that say nothing about a person (FieldType.kept_on_anonymise: option keys, consent ticks,
    # organisation names); every other type, including one added later, is removed.
    kept = {spec.key for spec in definition.fields if field_type(spec.type).kept_on_anonymise}
    return {key: (value if key in kept else None) for key, value in answers.items()}


@dataclass(frozen=True)
class PurgeResult:
    slug: str
    action: str
    count: int


def purge(
    now: datetime | None = None, dry_run: bool = False, batch_done: Callable[[], None] = lambda: None
) -> list[PurgeResult]:
    """Anonymise or delete the answers past their time, form by form; audit each form's work.

    Commits nothing itself: `batch_done` is called after each batch of changes, and `formsvc purge` passes
    its commit, so no batch holds SQLite's write lock (which every answer waits for) for long."""
    now = now or utcnow()
    results = []
    for definition in catalog():
        cutoff = _cutoff(definition, now)
        if cutoff is None:
            continue
        if dry_run:
            count = db.session.scalar(sa.select(sa.func.count(Response.id)).where(_due(definition.slug, cutoff)))
        elif definition.retention_action == "delete":
            count = _delete(definition, cutoff)
        else:
            count = _anonymise(definition, cutoff, now, batch_done)
        if count:
            results.append(PurgeResult(definition.slug, definition.retention_action, count))
            if not dry_run:
                audit(
                    f"purge_{definition.retention_action}",
                    target=definition.slug,
                    actor="system",
                    count=count,
                    retention_days=definition.retention_days,
                    before=cutoff.isoformat(timespec="seconds"),
                )
                batch_done()
    results += _purge_sent_mail(now, dry_run)
    return results


def _delete(definition: FormDefinition, cutoff: datetime) -> int:
    # The countable values go with their answer (ON DELETE CASCADE); what the senders had yet to do for one
    # is done first.
    dispatch_now(_due(definition.slug, cutoff))
    deleted = db.session.execute(
        sa.delete(Response).where(_due(definition.slug, cutoff)).returning(Response.reference)
    ).scalars().all()
    now = utcnow().isoformat()
    for reference in deleted:  # as when staff delete one: a system that copied the answer deletes it too
        emit("answer.deleted", {"reference": reference, "form": definition.slug, "deleted_at": now})
    return len(deleted)


def _anonymise(definition: FormDefinition, cutoff: datetime, now: datetime, batch_done: Callable[[], None]) -> int:
    count = 0
    while True:
        batch = db.session.scalars(
            sa.select(Response).where(_due(definition.slug, cutoff)).order_by(Response.id).limit(BATCH)
        ).all()
        if not batch:
            return count
        for response in batch:
            response.answers = anonymised_answers(definition, response.answers)
            response.anonymised_at = now
        count += len(batch)
        batch_done()


def _purge_sent_mail(now: datetime, dry_run: bool) -> list[PurgeResult]:
    cutoff = now - timedelta(days=current_app.config["FORMSVC_OUTBOX_RETENTION_DAYS"])
    old = sa.and_(OutboxMessage.status.in_([SENT, FAILED]), OutboxMessage.created_at < cutoff)
    if dry_run:
        count = db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).where(old))
    else:
        count = db.session.execute(sa.delete(OutboxMessage).where(old)).rowcount
        if count:
            before = cutoff.isoformat(timespec="seconds")
            audit("purge_mail", target="outbox", actor="system", count=count, before=before)
    return [PurgeResult("outbox", "delete", count)] if count else []


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only say what would be done.")
@with_appcontext
def purge_command(dry_run: bool) -> None:
    """Anonymise or delete answers past their form's retention period, and old sent mail."""
    results = purge(dry_run=dry_run, batch_done=db.session.commit)
    db.session.commit()  # the rest: the old sent mail deleted, and its audit line
    verb = "Would" if dry_run else "Did"
    for result in results:
        if result.slug == "outbox":
            click.echo(f"{verb} delete {result.count} sent mail(s) from the outbox.")
        else:
            click.echo(f"{verb} {result.action} {result.count} answer(s) of {result.slug}.")
    if not results:
        click.echo("Nothing is past its retention period.")


def init_app(app: Flask) -> None:
    app.cli.add_command(purge_command)
