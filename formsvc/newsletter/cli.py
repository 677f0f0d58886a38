"""`formsvc erase EMAIL` and `formsvc newsletter prune`."""

from __future__ import annotations

from datetime import timedelta

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from ..audit import audit
from ..extensions import db
from ..models import utcnow
from .erasure import erase_address
from .models import PENDING, Subscription


@click.command("erase")
@click.argument("email")
@with_appcontext
def erase_command(email: str) -> None:
    """Remove or anonymise EMAIL everywhere it may go (subscriptions, outbox, answers) and say what was done."""
    if "@" not in email:
        raise click.BadParameter("not an e-mail address", param_hint="EMAIL")
    report = erase_address(email)
    db.session.commit()
    found = f"Erased {report.address}:" if report.touched else f"{report.address} was found nowhere; nothing changed:"
    click.echo(found)
    for line in report.lines():
        click.echo(f"  {line}")


@click.group("newsletter", cls=AppGroup)
def newsletter_cli() -> None:
    """The newsletter list."""


@newsletter_cli.command("prune")
def prune_command() -> None:
    """Delete sign-ups never confirmed within FORMSVC_NEWSLETTER_PENDING_DAYS (their addresses go too)."""
    days = current_app.config["FORMSVC_NEWSLETTER_PENDING_DAYS"]
    stale = sa.delete(Subscription).where(
        Subscription.status == PENDING, Subscription.signed_up_at < utcnow() - timedelta(days=days)
    )
    removed = db.session.execute(stale).rowcount
    audit("newsletter_prune", removed=removed, days=days)
    db.session.commit()
    click.echo(f"Removed {removed} sign-ups not confirmed within {days} days.")
