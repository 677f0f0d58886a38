"""`formsvc invite SLUG` and `formsvc remind SLUG`: the same as the staff page's buttons."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..catalog import catalog
from ..definitions import FormDefinition
from ..extensions import db
from ..links import NoPublicURL
from ..models import Organisation, name_key
from ..organisations import TYPES
from .mails import ALL, INVITE, REMIND, UNANSWERED, Outcome, create_invitations, recipients, send

type_option = click.option(
    "--type", "types", multiple=True, type=click.Choice(list(TYPES)), help="Only this type (repeatable)."
)
dry_run_option = click.option("--dry-run", is_flag=True, help="List the recipients; create and send nothing.")


def _definition(slug: str) -> FormDefinition:
    definition = catalog().get(slug)
    if definition is None:
        raise click.ClickException(f"No form '{slug}' (known: {', '.join(d.slug for d in catalog())}).")
    return definition


def _organisations(types: tuple[str, ...], names: tuple[str, ...]) -> list[Organisation]:
    query = sa.select(Organisation).order_by(Organisation.name)
    if types:
        query = query.where(Organisation.type.in_(types))
    if names:
        keys = {name_key(n): n for n in names}
        query = query.where(Organisation.name_key.in_(keys))
        found = list(db.session.scalars(query))
        unknown = set(keys) - {o.name_key for o in found}
        if unknown:
            raise click.ClickException(f"Not in the register: {', '.join(keys[k] for k in sorted(unknown))}")
        return found
    return list(db.session.scalars(query))


def _send(definition: FormDefinition, kind: str, targets, dry_run: bool) -> None:
    if dry_run:
        for invitation in targets:
            click.echo(f"{invitation.organisation.name}: {invitation.organisation.contact_email or '(no e-mail)'}")
        click.echo(f"{len(targets)} recipients (dry run: nothing created or sent).")
        db.session.rollback()
        return
    try:
        outcome: Outcome = send(definition, kind, targets, actor="system")
    except NoPublicURL as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    for invitation in outcome.skipped:
        click.echo(f"No e-mail address, not sent: {invitation.organisation.name}", err=True)
    what = "reminders" if kind == REMIND else "invitations"
    click.echo(f"{len(outcome.sent)} {what} put in the outbox; `formsvc mail send` sends them.")


@click.command("invite")
@click.argument("slug")
@type_option
@click.option("--org", "names", multiple=True, help="Only this organisation, by its name in the register (repeatable).")
@click.option(
    "--recipients",
    "scope",
    type=click.Choice([UNANSWERED, ALL]),
    default=UNANSWERED,
    show_default=True,
    help="Mail every invited organisation, or only those without an answer.",
)
@dry_run_option
@with_appcontext
def invite_command(slug: str, types: tuple[str, ...], names: tuple[str, ...], scope: str, dry_run: bool) -> None:
    """Invite the register's organisations to form SLUG and mail each its personal link."""
    definition = _definition(slug)
    chosen = _organisations(types, names)
    made = create_invitations(slug, chosen, by="system")
    click.echo(f"{len(made)} new invitations for {definition.title}.")
    wanted = {o.id for o in chosen}
    targets = [i for i in recipients(slug, INVITE, scope, types) if i.organisation_id in wanted]
    _send(definition, INVITE, targets, dry_run)


@click.command("remind")
@click.argument("slug")
@type_option
@dry_run_option
@with_appcontext
def remind_command(slug: str, types: tuple[str, ...], dry_run: bool) -> None:
    """Remind the invited organisations that have not answered form SLUG."""
    definition = _definition(slug)
    _send(definition, REMIND, recipients(slug, REMIND, UNANSWERED, types), dry_run)
