"""Drafts, publishing, history and rollback of the forms kept in the database.

Rules that keep answers readable: once a form has answers an option's key cannot change (its label may);
a field or option removed from a form with answers is hidden from new visitors, while answers given
under an older version keep it (versions.all_questions marks it as removed in results and exports).
Functions here change data and never commit: the request or command that called them does.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext

from ..audit import AuditEvent
from ..definitions import DefinitionError, FieldDefinition, FormDefinition, load_text, one_sign_up_form
from ..extensions import db
from ..models import FormVersion, Response, utcnow
from . import store
from .models import StoredForm

PUBLISHING = ("form_publish", "form_import", "form_rollback")


class OptionKeyChanged(ValueError):
    """An option's key changed in a form that has answers: the stored answers name the old key."""

    code = "ED001"

    def __init__(self, field_key: str, old: str, new: str, label: str):
        self.field_key, self.old, self.new, self.label = field_key, old, new, label
        self.at = "choices"
        self.line = None
        super().__init__(self.message("en"))

    def message(self, language: str = "sv") -> str:
        if language == "en":
            return (
                f"the option '{self.label}' already has answers under the key '{self.old}': its key cannot "
                f"become '{self.new}'. Change only its label, or add a new option."
            )
        return (
            f"alternativet ”{self.label}” har redan svar med nyckeln ”{self.old}”, så nyckeln kan inte bli "
            f"”{self.new}”. Ändra bara texten, eller lägg till ett nytt alternativ."
        )

    def describe(self, language: str = "en") -> str:
        field = f"fältet ”{self.field_key}”" if language == "sv" else f"field '{self.field_key}'"
        return f"{self.code} {field}: {self.message(language)}"


Problem = DefinitionError | OptionKeyChanged


def has_answers(slug: str) -> bool:
    return db.session.scalar(sa.select(sa.exists().where(Response.form_slug == slug)))


def changed_option_keys(old: FormDefinition, new: FormDefinition) -> list[OptionKeyChanged]:
    """Options whose key changed: an old key gone and a new key with the same label in the same field, or
    the only option removed and the only one added at the same place."""
    found = []
    old_fields = {f.key: f for f in old.fields}
    for spec in new.fields:
        before = old_fields.get(spec.key)
        if before is None:
            continue
        new_keys = [c.key for c in spec.choices]
        gone = [c for c in before.choices if c.key not in new_keys]
        added = [c for c in spec.choices if c.key not in {b.key for b in before.choices}]
        for choice in gone:
            twin = next((c for c in added if c.label == choice.label), None)
            if twin is None and len(gone) == len(added) == 1:
                same_place = before.choices.index(choice) == spec.choices.index(added[0])
                twin = added[0] if same_place else None
            if twin is not None:
                found.append(OptionKeyChanged(spec.key, choice.key, twin.key, twin.label))
    return found


def check(slug: str, text: str) -> tuple[FormDefinition | None, list[Problem]]:
    """The text as a definition, or the problems that refuse it (loader errors, then the answer rules)."""
    try:
        definition = store.read(text, slug)
    except DefinitionError as error:
        return None, [error]
    from ..catalog import catalog  # the catalog reads this package's store

    others = [d for d in catalog() if d.slug != slug]
    try:
        one_sign_up_form([*others, definition])  # the newsletter's pages link to one sign-up form
    except DefinitionError as error:
        error.at = "newsletter"
        return None, [error]
    current = published(slug)
    if current is not None and has_answers(slug):
        problems = changed_option_keys(current, definition)
        if problems:
            return None, problems
    return definition, []


def stored(slug: str) -> StoredForm | None:
    return db.session.scalar(sa.select(StoredForm).filter_by(slug=slug))


def published(slug: str) -> FormDefinition | None:
    row = stored(slug)
    return store.read(row.published, slug) if row is not None and row.published else None


def save_draft(slug: str, text: str, actor: str) -> tuple[FormDefinition | None, list[Problem]]:
    """Keep a checked text as the form's draft (a new form starts as a draft only: utkast)."""
    definition, problems = check(slug, text)
    if problems:
        return None, problems
    row = stored(slug)
    if row is None:
        row = StoredForm(slug=slug, updated_seq=0)
        db.session.add(row)
    row.draft = text
    row.updated_at, row.updated_by = utcnow(), actor
    return definition, []


def publish(
    slug: str, text: str, actor: str, action: str = "form_publish"
) -> tuple[FormDefinition | None, list[Problem]]:
    """Check a text against the loader and the answer rules and make it the form's published version."""
    definition, problems = check(slug, text)
    if problems:
        return None, problems
    definition, _ = store.publish_text(text, slug, actor, action=action)
    return definition, []


def publish_draft(slug: str, actor: str) -> tuple[FormDefinition | None, list[Problem]]:
    """Make the draft the form's new version; the draft is then done with."""
    row = stored(slug)
    if row is None or row.draft is None:
        return None, []
    definition, problems = publish(slug, row.draft, actor)
    if definition is not None:
        row.draft = None
    return definition, problems


def rollback(slug: str, version: str, actor: str) -> tuple[FormDefinition | None, list[Problem]]:
    """Publish an earlier version's text again (a new entry in the history, audited as form_rollback)."""
    text = db.session.scalar(sa.select(FormVersion.text).filter_by(form_slug=slug, version=version))
    if text is None:
        return None, []
    return publish(slug, text, actor, action="form_rollback")


def import_path(path: Path, actor: str, only_new: bool = False) -> list[tuple[str, str]]:
    """Import one YAML file or every *.yaml in a folder; all are checked (the loader, then the answer
    rules) before any is stored.
    only_new: leave forms the database has already (init-db loads the shipped set once)."""
    paths = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
    texts = [(p.stem, p.read_text(encoding="utf-8")) for p in paths]
    if only_new:
        known = set(db.session.scalars(sa.select(StoredForm.slug)))
        texts = [(slug, text) for slug, text in texts if slug not in known]
    for slug, text in texts:
        load_text(text, slug=slug, source=str(path / f"{slug}.yaml" if path.is_dir() else path))
        problems = check(slug, text)[1]
        if problems:
            raise problems[0]
    return [(slug, store.publish_text(text, slug, actor, action="form_import")[1]) for slug, text in texts]


@dataclass(frozen=True)
class Publication:
    """One entry of a form's history: a version made the published one, by whom and when."""

    version: str
    at: datetime
    by: str
    action: str  # form_publish, form_import or form_rollback


def history(slug: str) -> list[Publication]:
    """Every publish, import and rollback of the form, newest first (from the audit log)."""
    events = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.target == slug, AuditEvent.action.in_(PUBLISHING))
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    )
    return [Publication(e.detail.get("version", ""), e.at, e.actor, e.action) for e in events]


def version(slug: str, version: str) -> FormDefinition | None:
    row = db.session.scalar(sa.select(FormVersion).filter_by(form_slug=slug, version=version))
    return FormDefinition.from_json(row.definition, slug=slug, version=version) if row is not None else None


# The form settings a diff names, with their Swedish names (translated by Flask-Babel).
FORM_SETTINGS = {
    "title": "Rubrik",
    "intro": "Inledning",
    "opens": "Öppnar",
    "closes": "Stänger",
    "listed": "Visas på startsidan",
    "open_link": "Öppen länk",
    "one_answer_per_organisation": "Ett svar per organisation",
    "retention_days": "Gallras efter antal dagar",
    "thanks": "Tacktext",
    "submit_label": "Knappens text",
    "purpose": "Ändamål",
    "title_en": "Rubrik på engelska",
    "intro_en": "Inledning på engelska",
    "thanks_en": "Tacktext på engelska",
}


# A question's settings as a diff names them (FieldDefinition attributes); others show their own name.
FIELD_SETTINGS = {
    "type": "typ",
    "label": "text",
    "required": "obligatorisk",
    "help": "hjälptext",
    "max_length": "högst antal tecken",
    "min_choices": "minst antal val",
    "max_choices": "högst antal val",
    "rank": "antal att rangordna",
    "min_value": "minsta värde",
    "max_value": "största värde",
    "label_en": "text på engelska",
    "help_en": "hjälptext på engelska",
    "min_label": "text vid lägsta värdet",
    "max_label": "text vid högsta värdet",
}


def diff(old: FormDefinition, new: FormDefinition) -> list[str]:
    """What changed from `old` to `new`, one readable line each: settings, fields added, removed and
    changed, options added, removed and relabelled."""
    lines = []
    for name, label in FORM_SETTINGS.items():
        before, after = getattr(old, name), getattr(new, name)
        if before != after:
            lines.append(
                gettext(
                    "%(setting)s: ”%(old)s” blev ”%(new)s”.",
                    setting=gettext(label),
                    old=_shown(before),
                    new=_shown(after),
                )
            )
    old_fields = {f.key: f for f in old.fields}
    new_fields = {f.key: f for f in new.fields}
    for key, spec in new_fields.items():
        if key not in old_fields:
            lines.append(gettext("Ny fråga ”%(label)s” (%(key)s).", label=spec.label, key=key))
    for key, spec in old_fields.items():
        if key not in new_fields:
            lines.append(gettext("Frågan ”%(label)s” (%(key)s) togs bort.", label=spec.label, key=key))
    for key, spec in new_fields.items():
        if key in old_fields:
            lines += _field_diff(old_fields[key], spec)
    if [f.key for f in old.fields if f.key in new_fields] != [f.key for f in new.fields if f.key in old_fields]:
        lines.append(gettext("Frågornas ordning ändrades."))
    if old.mails != new.mails:
        lines.append(gettext("Utskicken ändrades."))
    if old.rules != new.rules:
        lines.append(gettext("Reglerna ändrades."))
    return lines


def _field_diff(old: FieldDefinition, new: FieldDefinition) -> list[str]:
    lines = []
    before, after = asdict(old), asdict(new)
    for name in before:
        if name != "choices" and before[name] != after[name]:
            lines.append(
                gettext(
                    "Frågan ”%(label)s”: %(setting)s ”%(old)s” blev ”%(new)s”.",
                    label=new.label,
                    setting=gettext(FIELD_SETTINGS[name]) if name in FIELD_SETTINGS else name,
                    old=_shown(before[name]),
                    new=_shown(after[name]),
                )
            )
    old_choices = {c.key: c for c in old.choices}
    new_choices = {c.key: c for c in new.choices}
    for key, choice in new_choices.items():
        if key not in old_choices:
            lines.append(
                gettext(
                    "Frågan ”%(label)s”: nytt alternativ ”%(option)s” (%(key)s).",
                    label=new.label,
                    option=choice.label,
                    key=key,
                )
            )
        elif old_choices[key].label != choice.label:
            lines.append(
                gettext(
                    "Frågan ”%(label)s”: alternativet ”%(old)s” heter nu ”%(new)s”.",
                    label=new.label,
                    old=old_choices[key].label,
                    new=choice.label,
                )
            )
    for key, choice in old_choices.items():
        if key not in new_choices:
            lines.append(
                gettext(
                    "Frågan ”%(label)s”: alternativet ”%(option)s” (%(key)s) togs bort.",
                    label=new.label,
                    option=choice.label,
                    key=key,
                )
            )
    return lines


def _shown(value) -> str:
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return gettext("ja") if value else gettext("nej")
    return str(value)
