"""Read a form definition file, check it, and turn it into a FormDefinition.

Every refusal is a DefinitionError naming the file, the field (when there is one) and the reason.
The schema is documented in docs/forms.md.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from . import checks
from .registry import FIELD_TYPES, field_type, with_setting
from .schema import (
    Choice,
    DefinitionError,
    DifferentRule,
    FieldDefinition,
    FormDefinition,
    MailDefinition,
    NewsletterDefinition,
    definition_version,
)

TIMEZONE = ZoneInfo("Europe/Stockholm")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Names the public form uses itself; a question may not take them.
RESERVED_KEYS = {"csrf_token", "submission_key", "website", "lang", "form_token"}

FORM_KEYS = {
    "title", "intro", "opens", "closes", "listed", "retention_days", "retention_action", "submit_label",
    "thanks", "fields", "mails", "rules", "embed", "newsletter", "open_link", "one_answer_per_organisation",
    "live_only", "record", "record_series", "purpose", "title_en", "intro_en", "purpose_en", "thanks_en",
    "submit_label_en",
}  # fmt: skip
RETENTION_ACTIONS = ("anonymise", "delete")
# An origin a form may be embedded in: scheme, host (optionally *.domain), port; no path.
ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$")
# What every field may have; the rest are its type's own settings (FieldType.settings).
FIELD_KEYS = {"key", "type", "label", "required", "help", "choices", "label_en", "help_en", "choices_en"}

# Control characters (not tab or newline): no text a person reads holds them, PostgreSQL cannot store NUL,
# and YAML lets them in through escapes such as "\0".
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# libyaml's parser when PyYAML was built with it (it is ten times faster), else the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_directory(directory: str | Path) -> dict[str, FormDefinition]:
    """Every *.yaml in the directory, by slug; the first bad file stops it."""
    paths = sorted(Path(directory).glob("*.yaml"))
    return {d.slug: d for d in (load_file(p) for p in paths)}


def check_directory(directory: str | Path) -> list[DefinitionError]:
    """Every problem in every file (for `formsvc forms check`), not only the first."""
    problems = []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            load_file(path)
        except DefinitionError as error:
            problems.append(error)
    return problems


def load_file(path: str | Path) -> FormDefinition:
    path = Path(path)
    source = str(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=SAFE_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise DefinitionError(source, None, f"cannot read the file: {error}") from error
    return parse_definition(raw, slug=path.stem, source=source)


def parse_definition(raw: Any, slug: str, source: str = "<definition>") -> FormDefinition:
    """Check raw data (as read from YAML) and build the definition."""
    if not isinstance(raw, dict):
        raise DefinitionError(source, None, "the file must hold a mapping (title, fields, ...)")
    if not SLUG.match(slug):
        raise DefinitionError(source, None, f"the file name '{slug}' must be lower-case letters, digits and '-'")
    _no_control_characters(raw, source, "")
    _no_unknown_keys(raw, FORM_KEYS, source, None)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DefinitionError(source, None, "'title' is missing")
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise DefinitionError(source, None, "'fields' must be a non-empty list")

    form_fields: list[FieldDefinition] = []
    for index, raw_field in enumerate(raw_fields, start=1):
        spec = _parse_field(raw_field, index, source)
        if any(f.key == spec.key for f in form_fields):
            raise DefinitionError(source, spec.key, "the key is used by another field too")
        form_fields.append(spec)
    by_key = {f.key: f for f in form_fields}
    for spec in form_fields:

        def fail(reason: str, key: str = spec.key):
            raise DefinitionError(source, key, reason)

        field_type(spec.type).check_in_form(spec, by_key, fail)

    one_per_organisation = _flag(
        raw.get("one_answer_per_organisation", False), source, None, "one_answer_per_organisation"
    )
    if one_per_organisation and not any(field_type(f.type).names_organisation for f in form_fields):
        raise DefinitionError(source, None, "'one_answer_per_organisation' needs a field of type organisation")

    live_only = _flag(raw.get("live_only", False), source, None, "live_only")
    if live_only and not any(field_type(f.type).live_question for f in form_fields):
        raise DefinitionError(source, None, "'live_only' needs a field of type ranking (what a live round asks)")
    if live_only and raw.get("open_link") is True:
        raise DefinitionError(
            source, None, "'live_only' and 'open_link: true' contradict: a live-only form is not open at /f/<slug>"
        )

    record = _flag(raw.get("record", False), source, None, "record")
    record_series = _text(raw.get("record_series", ""), source, None, "record_series")
    if record and not record_series:
        raise DefinitionError(
            source, None, "'record: true' needs 'record_series': the series the registrar files the answers in"
        )
    if record_series and not record:
        raise DefinitionError(source, None, "'record_series' is set but 'record' is not true")

    opens = _moment(raw.get("opens"), source, "opens", end_of_day=False)
    closes = _moment(raw.get("closes"), source, "closes", end_of_day=True)
    if opens and closes and closes <= opens:
        raise DefinitionError(source, None, "'closes' must come after 'opens'")
    retention = raw.get("retention_days")
    if retention is not None and (not isinstance(retention, int) or isinstance(retention, bool) or retention < 1):
        raise DefinitionError(source, None, "'retention_days' must be a whole number of days, at least 1")
    retention_action = raw.get("retention_action", "anonymise")
    if retention_action not in RETENTION_ACTIONS:
        raise DefinitionError(source, None, "'retention_action' must be 'anonymise' or 'delete'")

    definition = FormDefinition(
        slug=slug,
        title=title.strip(),
        intro=_text(raw.get("intro", ""), source, None, "intro"),
        opens=opens,
        closes=closes,
        listed=_flag(raw.get("listed", True), source, None, "listed"),
        retention_days=retention,
        retention_action=retention_action,
        embed_allow=_parse_embed(raw.get("embed"), source),
        submit_label=_text(raw.get("submit_label", "Skicka"), source, None, "submit_label"),
        thanks=_text(raw.get("thanks", ""), source, None, "thanks"),
        purpose=_text(raw.get("purpose", ""), source, None, "purpose"),
        **{
            f"{name}_en": _text(raw.get(f"{name}_en", ""), source, None, f"{name}_en")
            for name in ("title", "intro", "purpose", "thanks", "submit_label")
        },
        fields=tuple(form_fields),
        mails=_parse_mails(raw.get("mails", []), by_key, source),
        rules=_parse_rules(raw.get("rules", []), by_key, source),
        newsletter=_parse_newsletter(raw.get("newsletter"), by_key, source),
        open_link=_flag(raw.get("open_link", True), source, None, "open_link") and not live_only,
        one_answer_per_organisation=one_per_organisation,
        live_only=live_only,
        record=record,
        record_series=record_series,
        source=source,
    )
    return _with_version(definition)


def _with_version(definition: FormDefinition) -> FormDefinition:
    object.__setattr__(definition, "version", definition_version(definition))
    return definition


def _no_control_characters(value: Any, source: str, where: str) -> None:
    """Refuse text anywhere in the definition that holds a control character, saying where."""
    found = CONTROL.search(value) if isinstance(value, str) else None
    if found:
        raise DefinitionError(source, None, f"{where or 'a key'} holds the control character {found.group(0)!r}")
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _no_control_characters(key, source, where)
        _no_control_characters(item, source, f"{where}.{key}" if where else str(key))


def _parse_field(raw: Any, index: int, source: str) -> FieldDefinition:
    if not isinstance(raw, dict):
        raise DefinitionError(source, f"#{index}", "each field must be a mapping with key, type and label")
    key = raw.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise DefinitionError(source, f"#{index}", "'key' must be lower-case letters, digits and '_'")
    if key in RESERVED_KEYS:
        raise DefinitionError(source, key, "the key is reserved for the form itself")
    _no_unknown_keys(raw, FIELD_KEYS | {name for t in FIELD_TYPES.values() for name in t.settings}, source, key)
    type_name = raw.get("type")
    if type_name not in FIELD_TYPES:
        known = ", ".join(sorted(FIELD_TYPES))
        raise DefinitionError(source, key, f"unknown field type '{type_name}' (known types: {known})")
    field_type = FIELD_TYPES[type_name]
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DefinitionError(source, key, "'label' is missing")

    def fail(reason: str):
        raise DefinitionError(source, key, reason)

    choices = _parse_choices(raw.get("choices"), source, key)
    if field_type.default_choices:
        choices = choices or field_type.default_choices
    elif field_type.needs_choices and not choices:
        fail(f"a {type_name} field needs 'choices'")
    elif choices and not field_type.needs_choices:
        fail(f"a {type_name} field takes no 'choices'")
    choices = _english_choices(raw.get("choices_en"), choices, source, key)

    settings = {}
    for name in sorted(set(raw) - FIELD_KEYS):  # the type's own settings (unknown names are refused above)
        if name not in field_type.settings:
            fail(f"'{name}' applies to {', '.join(with_setting(name))} fields only")
        attribute, check = field_type.settings[name]
        settings[attribute] = check(raw[name], name, fail)
    spec = FieldDefinition(
        key=key,
        type=type_name,
        label=label.strip(),
        required=checks.flag(raw.get("required", False), "required", fail),
        help=checks.text(raw.get("help", ""), "help", fail),
        label_en=checks.text(raw.get("label_en", ""), "label_en", fail),
        help_en=checks.text(raw.get("help_en", ""), "help_en", fail),
        choices=choices,
        **settings,
    )
    field_type.check(spec, fail)
    return spec


def _parse_choices(raw: Any, source: str, key: str) -> tuple[Choice, ...]:
    """Choices are a mapping of option key to label, in the order shown."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise DefinitionError(source, key, "'choices' must be a non-empty mapping of option key to label")
    choices = []
    for option, label in raw.items():
        if not isinstance(option, str) or not KEY.match(option):
            raise DefinitionError(source, key, f"option key '{option}' must be lower-case letters, digits and '_'")
        if not isinstance(label, str) or not label.strip():
            raise DefinitionError(source, key, f"option '{option}' has no label")
        choices.append(Choice(option, label.strip()))
    return tuple(choices)


def _english_choices(raw: Any, choices: tuple[Choice, ...], source: str, key: str) -> tuple[Choice, ...]:
    """`choices_en`: option key -> English label, for some or all of the field's options."""
    if raw is None:
        return choices
    if not isinstance(raw, dict) or not raw:
        raise DefinitionError(source, key, "'choices_en' must be a mapping of option key to English label")
    known = {c.key for c in choices}
    for option, label in raw.items():
        if option not in known:
            raise DefinitionError(source, key, f"'choices_en': '{option}' is not an option of this field")
        if not isinstance(label, str) or not label.strip():
            raise DefinitionError(source, key, f"'choices_en': option '{option}' has no label")
    return tuple(Choice(c.key, c.label, raw[c.key].strip() if c.key in raw else c.label_en) for c in choices)


def _parse_mails(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> tuple[MailDefinition, ...]:
    if not isinstance(raw, list):
        raise DefinitionError(source, None, "'mails' must be a list")
    mails = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"template", "to"}:
            raise DefinitionError(source, None, "each mail needs exactly 'template' and 'to'")
        template, to = item["template"], item["to"]
        if not isinstance(template, str) or not KEY.match(template):
            raise DefinitionError(source, None, f"mail template '{template}' must be a plain name")
        if to != "secretariat" and (to not in by_key or not field_type(by_key[to].type).is_address):
            raise DefinitionError(source, None, f"mail '{template}': 'to' must be an email field or 'secretariat'")
        mails.append(MailDefinition(template, to))
    return tuple(mails)


def _parse_rules(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> tuple[DifferentRule, ...]:
    if not isinstance(raw, list):
        raise DefinitionError(source, None, "'rules' must be a list")
    rules = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"different", "message"}:
            raise DefinitionError(source, None, "each rule needs exactly 'different' (two field keys) and 'message'")
        pair = item["different"]
        if not isinstance(pair, list) or len(pair) != 2 or any(k not in by_key for k in pair):
            raise DefinitionError(source, None, f"rule 'different': {pair!r} must name two fields of this form")
        rules.append(DifferentRule(tuple(pair), _text(item["message"], source, pair[1], "message")))
    return tuple(rules)


def _parse_embed(raw: Any, source: str) -> tuple[str, ...]:
    """`embed: {allow: [https://site.example, ...]}`: the sites that may show the form in an iframe."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or set(raw) != {"allow"}:
        raise DefinitionError(source, None, "'embed' must be a mapping with 'allow' (a list of sites)")
    allow = raw["allow"]
    if not isinstance(allow, list) or not allow:
        raise DefinitionError(source, None, "'embed: allow' must be a non-empty list of sites")
    origins = []
    for site in allow:
        origin = site.strip().rstrip("/").lower() if isinstance(site, str) else site
        if not isinstance(origin, str) or not ORIGIN.match(origin):
            raise DefinitionError(
                source, None, f"'embed: allow': '{site}' is not a site address like https://www.example.org"
            )
        origins.append(origin)
    return tuple(origins)


# newsletter settings; which field types each may name is the types' own (FieldType.newsletter_roles)
NEWSLETTER_ROLES = ("email", "when", "name", "organisation")


def _parse_newsletter(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> NewsletterDefinition | None:
    """`newsletter: {email: epost, when: nyhetsbrev, name: namn, organisation: organisation}`.

    Answers then sign the address in `email` up to the newsletter (double opt-in): always, or, with
    `when`, only when that yesno field is answered with its first option ("ja") or that consent field
    is ticked. `name` and `organisation` (optional) are kept with the subscription.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict) or "email" not in raw:
        raise DefinitionError(source, None, "'newsletter' must be a mapping with at least 'email' (an email field)")
    unknown = sorted(set(map(str, raw)) - set(NEWSLETTER_ROLES))
    if unknown:
        raise DefinitionError(source, None, f"'newsletter': unknown setting(s): {', '.join(unknown)}")
    for role, key in raw.items():
        types = {t.name for t in FIELD_TYPES.values() if role in t.newsletter_roles}
        if not isinstance(key, str) or key not in by_key:
            raise DefinitionError(source, None, f"'newsletter': '{role}' must name a field of this form, not {key!r}")
        if by_key[key].type not in types:
            allowed = " or ".join(sorted(types))
            raise DefinitionError(
                source, key, f"'newsletter': '{role}' must name a {allowed} field, not a {by_key[key].type} field"
            )
    when = raw.get("when")
    when_answer = field_type(by_key[when].type).signs_up(by_key[when]) if when else True
    return NewsletterDefinition(
        email=raw["email"],
        when=when,
        when_answer=when_answer,
        name=raw.get("name"),
        organisation=raw.get("organisation"),
    )


def _moment(value: Any, source: str, name: str, end_of_day: bool) -> datetime | None:
    """A date (a closing date means the whole day) or a date and time, in Swedish time."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            text = value.strip()
            value = date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
        except ValueError:
            raise DefinitionError(source, None, f"'{name}' is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM)") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TIMEZONE)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end_of_day else value
        return datetime.combine(day, time(0, 0), tzinfo=TIMEZONE)
    raise DefinitionError(source, None, f"'{name}' is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM)")


def _no_unknown_keys(raw: dict, allowed: set[str], source: str, key: str | None) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise DefinitionError(source, key, f"unknown setting(s): {', '.join(map(str, unknown))}")


def _failing(source: str, key: str | None):
    def fail(reason: str):
        raise DefinitionError(source, key, reason)

    return fail


def _flag(value: Any, source: str, key: str | None, name: str) -> bool:
    return checks.flag(value, name, _failing(source, key))


def _text(value: Any, source: str, key: str | None, name: str) -> str:
    return checks.text(value, name, _failing(source, key))
