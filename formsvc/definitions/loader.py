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

from .registry import FIELD_TYPES
from .schema import (
    MAIL_IMAGES,
    Choice,
    DefinitionError,
    DifferentRule,
    FieldDefinition,
    FormDefinition,
    MailDefinition,
    NewsletterDefinition,
    RosterDefinition,
    RosterPerson,
    definition_version,
)

TIMEZONE = ZoneInfo("Europe/Stockholm")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Names the public form uses itself; a question may not take them.
RESERVED_KEYS = {"csrf_token", "submission_key", "website", "lang", "form_token"}
YESNO_CHOICES = (Choice("ja", "Ja", "Yes"), Choice("nej", "Nej", "No"))

FORM_KEYS = {
    "title", "intro", "opens", "closes", "listed", "retention_days", "retention_action", "submit_label",
    "thanks", "fields", "mails", "rules", "embed", "newsletter", "open_link", "one_answer_per_organisation",
    "live_only", "record", "record_series", "purpose", "title_en", "intro_en", "purpose_en", "thanks_en",
    "submit_label_en", "roster",
}  # fmt: skip
RETENTION_ACTIONS = ("anonymise", "delete")
# What may describe the person behind an e-mail address: free text, never counted options.
PERSON_TYPES = ("text", "textarea", "phone")
# An origin a form may be embedded in: scheme, host (optionally *.domain), port; no path.
ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$")
FIELD_KEYS = {
    "key", "type", "label", "required", "help", "max_length", "choices", "min", "max", "rank",
    "min_value", "max_value", "type_field", "person", "label_en", "help_en", "choices_en",
}  # fmt: skip

# Control characters (not tab or newline): no text a person reads holds them, PostgreSQL cannot store NUL,
# and YAML lets them in through escapes such as "\0".
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# libyaml's parser when PyYAML was built with it (it is ten times faster), else the pure-Python one.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_directory(directory: str | Path) -> dict[str, FormDefinition]:
    """Every *.yaml in the directory, by slug; the first bad file stops it."""
    paths = sorted(Path(directory).glob("*.yaml"))
    definitions = {d.slug: d for d in (load_file(p) for p in paths)}
    _one_sign_up_form(definitions.values())
    return definitions


def _one_sign_up_form(definitions) -> None:
    """The newsletter's pages link to one sign-up form: two forms cannot both be it."""
    sign_up = [d for d in definitions if d.newsletter and d.newsletter.sign_up]
    if len(sign_up) > 1:
        first = sign_up[0].source
        raise DefinitionError(sign_up[1].source, None, f"'newsletter: sign_up: true' is set in {first} too")


def check_directory(directory: str | Path) -> list[DefinitionError]:
    """Every problem in every file (for `formsvc forms check`), not only the first."""
    problems, loaded = [], []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            loaded.append(load_file(path))
        except DefinitionError as error:
            problems.append(error)
    try:
        _one_sign_up_form(loaded)
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
        if spec.type_field and (spec.type_field not in by_key or by_key[spec.type_field].type != "choice"):
            raise DefinitionError(source, spec.key, f"type_field '{spec.type_field}' must name a choice field")
        for other in spec.person:
            if other == spec.key or other not in by_key or by_key[other].type not in PERSON_TYPES:
                raise DefinitionError(
                    source, spec.key, f"person '{other}' must name another field of type {', '.join(PERSON_TYPES)}"
                )

    one_per_organisation = _flag(
        raw.get("one_answer_per_organisation", False), source, None, "one_answer_per_organisation"
    )
    if one_per_organisation and not any(f.type == "organisation" for f in form_fields):
        raise DefinitionError(source, None, "'one_answer_per_organisation' needs a field of type organisation")

    live_only = _flag(raw.get("live_only", False), source, None, "live_only")
    if live_only and not any(f.type == "ranking" for f in form_fields):
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
        roster=_parse_roster(raw.get("roster"), by_key, source),
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
    _no_unknown_keys(raw, FIELD_KEYS, source, key)
    type_name = raw.get("type")
    if type_name not in FIELD_TYPES:
        known = ", ".join(sorted(FIELD_TYPES))
        raise DefinitionError(source, key, f"unknown field type '{type_name}' (known types: {known})")
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DefinitionError(source, key, "'label' is missing")

    choices = _parse_choices(raw.get("choices"), source, key)
    field_type = FIELD_TYPES[type_name]
    if type_name == "yesno":
        choices = choices or YESNO_CHOICES
    elif field_type.needs_choices and not choices:
        raise DefinitionError(source, key, f"a {type_name} field needs 'choices'")
    elif choices and not field_type.needs_choices:
        raise DefinitionError(source, key, f"a {type_name} field takes no 'choices'")
    choices = _english_choices(raw.get("choices_en"), choices, source, key)

    spec = FieldDefinition(
        key=key,
        type=type_name,
        label=label.strip(),
        required=_flag(raw.get("required", False), source, key, "required"),
        help=_text(raw.get("help", ""), source, key, "help"),
        label_en=_text(raw.get("label_en", ""), source, key, "label_en"),
        help_en=_text(raw.get("help_en", ""), source, key, "help_en"),
        max_length=_positive(raw.get("max_length"), source, key, "max_length"),
        choices=choices,
        min_choices=_positive(raw.get("min"), source, key, "min"),
        max_choices=_positive(raw.get("max"), source, key, "max"),
        rank=_positive(raw.get("rank"), source, key, "rank"),
        min_value=_number(raw.get("min_value"), source, key, "min_value"),
        max_value=_number(raw.get("max_value"), source, key, "max_value"),
        type_field=raw.get("type_field"),
        person=_keys(raw.get("person", []), source, key, "person"),
    )
    _check_limits(spec, source)
    return spec


def _check_limits(spec: FieldDefinition, source: str) -> None:
    key = spec.key
    if (spec.min_choices or spec.max_choices) and spec.type != "multichoice":
        raise DefinitionError(source, key, "'min' and 'max' apply to multichoice fields only")
    if spec.min_choices and spec.max_choices and spec.min_choices > spec.max_choices:
        raise DefinitionError(source, key, "'min' is larger than 'max'")
    if spec.max_choices and spec.max_choices > len(spec.choices):
        raise DefinitionError(source, key, "'max' is larger than the number of choices")
    if spec.type == "ranking":
        if not spec.rank:
            raise DefinitionError(source, key, "a ranking field needs 'rank' (how many options to rank)")
        if spec.rank > len(spec.choices):
            raise DefinitionError(source, key, "'rank' is larger than the number of choices")
    elif spec.rank:
        raise DefinitionError(source, key, "'rank' applies to ranking fields only")
    if (spec.min_value is not None or spec.max_value is not None) and spec.type != "number":
        raise DefinitionError(source, key, "'min_value' and 'max_value' apply to number fields only")
    if spec.min_value is not None and spec.max_value is not None and spec.min_value > spec.max_value:
        raise DefinitionError(source, key, "'min_value' is larger than 'max_value'")
    if spec.type_field and spec.type != "organisation":
        raise DefinitionError(source, key, "'type_field' applies to organisation fields only")
    if spec.person and spec.type != "email":
        raise DefinitionError(source, key, "'person' applies to email fields only")


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
        if not isinstance(item, dict) or not {"template", "to"} <= set(item) <= {"template", "to", "images"}:
            raise DefinitionError(source, None, "each mail needs 'template' and 'to' (and may have 'images')")
        template, to = item["template"], item["to"]
        if not isinstance(template, str) or not KEY.match(template):
            raise DefinitionError(source, None, f"mail template '{template}' must be a plain name")
        if to != "secretariat" and (to not in by_key or by_key[to].type != "email"):
            raise DefinitionError(source, None, f"mail '{template}': 'to' must be an email field or 'secretariat'")
        images = item.get("images", [])
        if not isinstance(images, list) or any(name not in MAIL_IMAGES for name in images):
            raise DefinitionError(
                source, None, f"mail '{template}': 'images' must be a list of: {', '.join(sorted(MAIL_IMAGES))}"
            )
        mails.append(MailDefinition(template, to, tuple(images)))
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


# roster person setting -> the field types it may name, and whether it must be given
ROSTER_PARTS = {"name": ({"text"}, True), "email": ({"email"}, True), "title": ({"text"}, False),
                "phone": ({"phone"}, False)}


def _parse_roster(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> RosterDefinition | None:
    """`roster: {people: [{role, name, email, title, phone}, ...], other: kommentar}`: the staff roster
    shows, per answer, one row for each person (role, and the fields named), and the `other` field."""
    if raw is None:
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("people"), list) or not raw["people"]:
        raise DefinitionError(source, None, "'roster' must be a mapping with 'people' (a non-empty list)")
    _no_unknown_keys(raw, {"people", "other"}, source, None)
    people = []
    for index, item in enumerate(raw["people"], start=1):
        where = f"'roster': person {index}"
        if not isinstance(item, dict):
            raise DefinitionError(source, None, f"{where} must be a mapping (role, name, email, title, phone)")
        unknown = sorted(set(map(str, item)) - {"role", *ROSTER_PARTS})
        if unknown:
            raise DefinitionError(source, None, f"{where}: unknown setting(s): {', '.join(unknown)}")
        role = item.get("role")
        if not isinstance(role, str) or not role.strip():
            raise DefinitionError(source, None, f"{where} needs 'role', e.g. Ordinarie ledamot")
        for part, (types, needed) in ROSTER_PARTS.items():
            key = item.get(part)
            if key is None and not needed:
                continue
            if not isinstance(key, str) or key not in by_key or by_key[key].type not in types:
                allowed = " or ".join(sorted(types))
                raise DefinitionError(
                    source, None, f"{where}: '{part}' must name a field of type {allowed}, not {key!r}"
                )
        people.append(RosterPerson(role=role.strip(), **{part: item.get(part) for part in ROSTER_PARTS}))
    other = raw.get("other")
    if other is not None and (not isinstance(other, str) or other not in by_key):
        raise DefinitionError(source, None, f"'roster': 'other' must name a field of this form, not {other!r}")
    return RosterDefinition(people=tuple(people), other=other)


# newsletter setting -> the field types it may name
NEWSLETTER_ROLES = {
    "email": {"email"},
    "when": {"yesno", "consent"},
    "name": {"text"},
    "organisation": {"organisation", "text"},
    "sign_up": None,  # true or false, not a field
}


def _parse_newsletter(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> NewsletterDefinition | None:
    """`newsletter: {email: epost, when: nyhetsbrev, name: namn, organisation: organisation}`.

    Answers then sign the address in `email` up to the newsletter (double opt-in): always, or, with
    `when`, only when that yesno field is answered with its first option ("ja") or that consent field
    is ticked. `name` and `organisation` (optional) are kept with the subscription. `sign_up: true`: the
    form the newsletter's own pages link to for signing up (again).
    """
    if raw is None:
        return None
    if not isinstance(raw, dict) or "email" not in raw:
        raise DefinitionError(source, None, "'newsletter' must be a mapping with at least 'email' (an email field)")
    unknown = sorted(set(map(str, raw)) - set(NEWSLETTER_ROLES))
    if unknown:
        raise DefinitionError(source, None, f"'newsletter': unknown setting(s): {', '.join(unknown)}")
    sign_up = _flag(raw.get("sign_up", False), source, None, "newsletter: sign_up")
    for role, key in raw.items():
        types = NEWSLETTER_ROLES[role]
        if types is None:
            continue
        if not isinstance(key, str) or key not in by_key:
            raise DefinitionError(source, None, f"'newsletter': '{role}' must name a field of this form, not {key!r}")
        if by_key[key].type not in types:
            allowed = " or ".join(sorted(types))
            raise DefinitionError(
                source, key, f"'newsletter': '{role}' must name a {allowed} field, not a {by_key[key].type} field"
            )
    when = raw.get("when")
    when_answer = by_key[when].choices[0].key if when and by_key[when].type == "yesno" else True
    return NewsletterDefinition(
        email=raw["email"],
        when=when,
        when_answer=when_answer,
        name=raw.get("name"),
        organisation=raw.get("organisation"),
        sign_up=sign_up,
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


def _flag(value: Any, source: str, key: str | None, name: str) -> bool:
    if not isinstance(value, bool):
        raise DefinitionError(source, key, f"'{name}' must be true or false")
    return value


def _keys(value: Any, source: str, key: str, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise DefinitionError(source, key, f"'{name}' must be a list of field keys")
    return tuple(value)


def _text(value: Any, source: str, key: str | None, name: str) -> str:
    if not isinstance(value, str):
        raise DefinitionError(source, key, f"'{name}' must be text")
    return value.strip()


def _positive(value: Any, source: str, key: str, name: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise DefinitionError(source, key, f"'{name}' must be a whole number, at least 1")
    return value


def _number(value: Any, source: str, key: str, name: str) -> float | None:
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise DefinitionError(source, key, f"'{name}' must be a number")
    return value
