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

from ..config import resource_dir
from . import checks
from .registry import FIELD_TYPES, field_type, with_setting
from .schema import (
    MAIL_IMAGES,
    Choice,
    DefinitionError,
    FieldDefinition,
    FormDefinition,
    MailDefinition,
    NewsletterDefinition,
    RosterDefinition,
    RosterPerson,
    Rule,
    ShowIf,
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
    "submit_label_en", "roster",
}  # fmt: skip
RETENTION_ACTIONS = ("anonymise", "delete")
# An origin a form may be embedded in: scheme, host (optionally *.domain), port; no path.
ORIGIN = re.compile(r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:[0-9]{1,5})?$")
# What every field may have; the rest are its type's own settings (FieldType.settings).
FIELD_KEYS = {
    "key", "type", "label", "required", "help", "choices", "label_en", "help_en", "choices_en", "show_if",
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
    one_sign_up_form(definitions.values())
    return definitions


def one_sign_up_form(definitions) -> None:
    """The newsletter's pages link to one sign-up form: two forms cannot both be it."""
    sign_up = [d for d in definitions if d.newsletter and d.newsletter.sign_up]
    if len(sign_up) > 1:
        first = sign_up[0].source
        raise DefinitionError(sign_up[1].source, None, "FS084", at="newsletter", first=first)


def check_directory(directory: str | Path) -> list[DefinitionError]:
    """Every problem in every file (for `formsvc forms check`), not only the first."""
    problems, loaded = [], []
    for path in sorted(Path(directory).glob("*.yaml")):
        try:
            loaded.append(load_file(path))
        except DefinitionError as error:
            problems.append(error)
    try:
        one_sign_up_form(loaded)
    except DefinitionError as error:
        problems.append(error)
    return problems


def load_file(path: str | Path) -> FormDefinition:
    """Read, check and build one definition file; an error names the line and column it is about."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DefinitionError(str(path), None, "FS001", error=error) from error
    return load_text(text, slug=path.stem, source=str(path))


def load_text(text: str, slug: str, source: str) -> FormDefinition:
    """Read, check and build one definition from its YAML text (a file's, or one stored in a database)."""
    try:
        root = _compose(text)
        raw = _construct(root)
    except yaml.YAMLError as error:
        problem = DefinitionError(source, None, "FS001", error=error)
        mark = getattr(error, "problem_mark", None)
        if mark is not None:
            problem.line, problem.column = mark.line + 1, mark.column + 1
        raise problem from error
    try:
        return parse_definition(raw, slug=slug, source=source)
    except DefinitionError as error:
        _locate(error, root)
        raise


def _compose(text: str) -> yaml.Node | None:
    """The YAML node tree, whose nodes keep where they start (start_mark)."""
    loader = SAFE_LOADER(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def _construct(root: yaml.Node | None) -> Any:
    if root is None:
        return None
    loader = SAFE_LOADER("")
    try:
        return loader.construct_document(root)
    finally:
        loader.dispose()


def _child(node: yaml.Node | None, name: str) -> tuple[yaml.Node, yaml.Node] | None:
    """The (key node, value node) of `name` in a mapping node."""
    if isinstance(node, yaml.MappingNode):
        return next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == name), None)
    return None


def _locate(error: DefinitionError, root: yaml.Node | None) -> None:
    """Set the error's line and column: the setting it is about (`at`, a dotted path such as fields.0.label)
    within its field (the last field with that key, or #n) or the form, else the field, else the file's start."""
    if root is None:
        return
    node = root
    fields = _child(root, "fields")
    items = fields[1].value if fields and isinstance(fields[1], yaml.SequenceNode) else []
    key = error.field_key
    if key and key.startswith("#") and key[1:].isdigit() and 0 < int(key[1:]) <= len(items):
        node = items[int(key[1:]) - 1]
    elif key:
        named = [item for item in items if (found := _child(item, "key")) and found[1].value == key]
        node = named[-1] if named else node
    parts = error.at.split(".") if error.at else []
    if parts and _child(node, parts[0]) is None and _child(root, parts[0]) is not None:
        node = root  # a form setting about a field (newsletter: email: <field>): at the setting
    for number, part in enumerate(parts):
        if isinstance(node, yaml.SequenceNode) and part.isdigit() and int(part) < len(node.value):
            node = node.value[int(part)]
        elif (pair := _child(node, part)) is not None:
            node = pair[0] if number == len(parts) - 1 else pair[1]
        else:
            break
    error.line, error.column = node.start_mark.line + 1, node.start_mark.column + 1


def parse_definition(raw: Any, slug: str, source: str = "<definition>") -> FormDefinition:
    """Check raw data (as read from YAML) and build the definition."""
    if not isinstance(raw, dict):
        raise DefinitionError(source, None, "FS002")
    if not SLUG.match(slug):
        raise DefinitionError(source, None, "FS003", slug=slug)
    _no_control_characters(raw, source, "")
    _no_unknown_keys(raw, FORM_KEYS, source, None)
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise DefinitionError(source, None, "FS010", at="title")
    raw_fields = raw.get("fields")
    if not isinstance(raw_fields, list) or not raw_fields:
        raise DefinitionError(source, None, "FS011", at="fields")

    form_fields: list[FieldDefinition] = []
    for index, raw_field in enumerate(raw_fields, start=1):
        spec = _parse_field(raw_field, index, source)
        if any(f.key == spec.key for f in form_fields):
            raise DefinitionError(source, spec.key, "FS033", at="key")
        _check_show_if(spec, form_fields, {f.get("key") for f in raw_fields if isinstance(f, dict)}, source)
        form_fields.append(spec)
    by_key = {f.key: f for f in form_fields}
    for spec in form_fields:

        def fail(code: str, key: str = spec.key, **values):
            raise DefinitionError(source, key, code, **values)

        field_type(spec.type).check_in_form(spec, by_key, fail)

    one_per_organisation = _flag(
        raw.get("one_answer_per_organisation", False), source, None, "one_answer_per_organisation"
    )
    if one_per_organisation and not any(field_type(f.type).names_organisation for f in form_fields):
        types = ", ".join(t.name for t in FIELD_TYPES.values() if t.names_organisation)
        raise DefinitionError(source, None, "FS024", at="one_answer_per_organisation", types=types)

    live_only = _flag(raw.get("live_only", False), source, None, "live_only")
    if live_only and not any(field_type(f.type).live_question for f in form_fields):
        types = ", ".join(t.name for t in FIELD_TYPES.values() if t.live_question)
        raise DefinitionError(source, None, "FS025", at="live_only", types=types)
    if live_only and raw.get("open_link") is True:
        raise DefinitionError(source, None, "FS026", at="open_link")

    record = _flag(raw.get("record", False), source, None, "record")
    record_series = _text(raw.get("record_series", ""), source, None, "record_series")
    if record and not record_series:
        raise DefinitionError(source, None, "FS027", at="record")
    if record_series and not record:
        raise DefinitionError(source, None, "FS028", at="record_series")

    opens = _moment(raw.get("opens"), source, "opens", end_of_day=False)
    closes = _moment(raw.get("closes"), source, "closes", end_of_day=True)
    if opens and closes and closes <= opens:
        raise DefinitionError(source, None, "FS021", at="closes")
    retention = raw.get("retention_days")
    if retention is not None and (not isinstance(retention, int) or isinstance(retention, bool) or retention < 1):
        raise DefinitionError(source, None, "FS022", at="retention_days")
    retention_action = raw.get("retention_action", "anonymise")
    if retention_action not in RETENTION_ACTIONS:
        raise DefinitionError(source, None, "FS023", at="retention_action")

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
        raise DefinitionError(source, None, "FS004", at=where, where=where or "a key", character=repr(found.group(0)))
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in items:
        _no_control_characters(key, source, where)
        _no_control_characters(item, source, f"{where}.{key}" if where else str(key))


def _parse_field(raw: Any, index: int, source: str) -> FieldDefinition:
    if not isinstance(raw, dict):
        raise DefinitionError(source, f"#{index}", "FS030")
    key = raw.get("key")
    if not isinstance(key, str) or not KEY.match(key):
        raise DefinitionError(source, f"#{index}", "FS031", at="key")
    if key in RESERVED_KEYS:
        raise DefinitionError(source, key, "FS032", at="key")
    _no_unknown_keys(raw, FIELD_KEYS | {name for t in FIELD_TYPES.values() for name in t.settings}, source, key)
    type_name = raw.get("type")
    if type_name not in FIELD_TYPES:
        known = ", ".join(sorted(FIELD_TYPES))
        raise DefinitionError(source, key, "FS034", at="type", type=type_name, known=known)
    field_type = FIELD_TYPES[type_name]
    label = raw.get("label")
    if not isinstance(label, str) or not label.strip():
        raise DefinitionError(source, key, "FS035", at="label")

    def fail(code: str, **values):
        raise DefinitionError(source, key, code, **values)

    choices = _parse_choices(raw.get("choices"), source, key)
    if field_type.default_choices:
        choices = choices or field_type.default_choices
    elif field_type.needs_choices and not choices:
        fail("FS036", at="type", type=type_name)
    elif choices and not field_type.needs_choices:
        fail("FS037", at="choices", type=type_name)
    choices = _english_choices(raw.get("choices_en"), choices, source, key)

    settings = {}
    for name in sorted(set(raw) - FIELD_KEYS):  # the type's own settings (unknown names are refused above)
        if name not in field_type.settings:
            fail("FS038", name=name, types=", ".join(with_setting(name)))
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
        show_if=_parse_show_if(raw.get("show_if"), fail),
        **settings,
    )
    field_type.check(spec, fail)
    return spec


def _parse_show_if(raw: Any, fail) -> ShowIf | None:
    """`show_if: {field: <key>, values: [<option key>, ...]}`: its shape; _check_show_if checks the names."""
    if raw is None:
        return None
    values = raw.get("values") if isinstance(raw, dict) else None
    if (
        not isinstance(raw, dict)
        or set(raw) != {"field", "values"}
        or not isinstance(raw["field"], str)
        or not isinstance(values, list)
        or not values
        or not all(isinstance(v, str) for v in values)
    ):
        fail("FS100", at="show_if")
    return ShowIf(field=raw["field"], values=tuple(values))


def _check_show_if(spec: FieldDefinition, earlier: list[FieldDefinition], keys: set, source: str) -> None:
    """The condition names an earlier field with options, and options it has (a page asks in order)."""
    condition = spec.show_if
    if condition is None:
        return
    by_key = {f.key: f for f in earlier}
    if condition.field not in by_key:
        code = "FS102" if condition.field in keys else "FS101"
        raise DefinitionError(source, spec.key, code, at="show_if", other=condition.field)
    other = by_key[condition.field]
    if not other.choices:
        raise DefinitionError(source, spec.key, "FS103", at="show_if", other=other.key, type=other.type)
    known = {c.key for c in other.choices}
    unknown = [v for v in condition.values if v not in known]
    if unknown:
        raise DefinitionError(source, spec.key, "FS104", at="show_if", other=other.key, value=unknown[0],
                              known=", ".join(c.key for c in other.choices))


def _parse_choices(raw: Any, source: str, key: str) -> tuple[Choice, ...]:
    """Choices are a mapping of option key to label, in the order shown."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or not raw:
        raise DefinitionError(source, key, "FS040", at="choices")
    choices = []
    for option, label in raw.items():
        if not isinstance(option, str) or not KEY.match(option):
            raise DefinitionError(source, key, "FS041", at="choices", option=option)
        if not isinstance(label, str) or not label.strip():
            raise DefinitionError(source, key, "FS042", at="choices", option=option)
        choices.append(Choice(option, label.strip()))
    return tuple(choices)


def _english_choices(raw: Any, choices: tuple[Choice, ...], source: str, key: str) -> tuple[Choice, ...]:
    """`choices_en`: option key -> English label, for some or all of the field's options."""
    if raw is None:
        return choices
    if not isinstance(raw, dict) or not raw:
        raise DefinitionError(source, key, "FS043", at="choices_en")
    known = {c.key for c in choices}
    for option, label in raw.items():
        if option not in known:
            raise DefinitionError(source, key, "FS044", at="choices_en", option=option)
        if not isinstance(label, str) or not label.strip():
            raise DefinitionError(source, key, "FS045", at="choices_en", option=option)
    return tuple(Choice(c.key, c.label, raw[c.key].strip() if c.key in raw else c.label_en) for c in choices)


MAIL_KEYS = {"template", "to", "images", "subject", "message"}
MAIL_TEMPLATES = resource_dir("templates") / "mail"  # a mail's template: <template>.txt there
# Staff's texts in a mail: a subject a mail program shows whole, a message that stays a short lead.
MAIL_TEXT_LIMITS = {"subject": 150, "message": 3000}
RULE_KINDS = ("different", "same")


def _parse_mails(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> tuple[MailDefinition, ...]:
    """Each mail's `at` is mails.<n>.<setting>, so an error points at the setting (and the editor's box)."""
    if not isinstance(raw, list):
        raise DefinitionError(source, None, "FS060", at="mails")
    mails = []
    for index, item in enumerate(raw):
        at = f"mails.{index}"
        if not isinstance(item, dict) or not {"template", "to"} <= set(item) <= MAIL_KEYS:
            raise DefinitionError(source, None, "FS061", at=at)
        template, to = item["template"], item["to"]
        if not isinstance(template, str) or not KEY.match(template):
            raise DefinitionError(source, None, "FS062", at=f"{at}.template", template=template)
        if not (MAIL_TEMPLATES / f"{template}.txt").is_file():  # else every answer would fail to send it
            raise DefinitionError(source, None, "FS068", at=f"{at}.template", template=template)
        address = isinstance(to, str) and to in by_key and field_type(by_key[to].type).is_address
        if to != "secretariat" and not address:
            raise DefinitionError(source, None, "FS063", at=f"{at}.to", template=template)
        images = item.get("images", [])
        if not isinstance(images, list) or any(name not in MAIL_IMAGES for name in images):
            raise DefinitionError(source, None, "FS067", at=f"{at}.images", template=template,
                                  names=", ".join(sorted(MAIL_IMAGES)))
        texts = {name: _mail_text(item.get(name, ""), name, source, f"{at}.{name}") for name in MAIL_TEXT_LIMITS}
        mails.append(MailDefinition(template, to, tuple(images), **texts))
    return tuple(mails)


def _mail_text(value: Any, name: str, source: str, at: str) -> str:
    """Staff's subject or message: text within its limit, each line trimmed (an indented line would read as
    an answer below its question in the HTML version), paragraphs one blank line apart; a subject one line."""
    if not isinstance(value, str):
        raise DefinitionError(source, None, "FS012", at=at, name=name)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in value.strip().split("\n")))
    if name == "subject" and "\n" in text:
        raise DefinitionError(source, None, "FS110", at=at, name=name)
    if len(text) > MAIL_TEXT_LIMITS[name]:
        raise DefinitionError(source, None, "FS111", at=at, name=name, length=len(text),
                              limit=MAIL_TEXT_LIMITS[name])
    return text


def _parse_rules(raw: Any, by_key: dict[str, FieldDefinition], source: str) -> tuple[Rule, ...]:
    """`different: [a, b]` or `same: [a, b]`, and `message`; `at` is rules.<n>.<setting>."""
    if not isinstance(raw, list):
        raise DefinitionError(source, None, "FS064", at="rules")
    rules = []
    for index, item in enumerate(raw):
        at = f"rules.{index}"
        kinds = [kind for kind in RULE_KINDS if isinstance(item, dict) and kind in item]
        if len(kinds) != 1 or set(item) - {kinds[0], "message"}:
            raise DefinitionError(source, None, "FS065", at=at)
        kind, pair = kinds[0], item[kinds[0]]
        if not isinstance(pair, list) or len(pair) != 2 or any(not isinstance(k, str) or k not in by_key for k in pair):
            raise DefinitionError(source, None, "FS066", at=f"{at}.{kind}", kind=kind, pair=repr(pair))
        if pair[0] == pair[1]:
            raise DefinitionError(source, None, "FS112", at=f"{at}.{kind}", kind=kind, key=pair[0])
        message = item.get("message", "")
        if not isinstance(message, str):
            raise DefinitionError(source, None, "FS012", at=f"{at}.message", name="message")
        if not message.strip():
            raise DefinitionError(source, None, "FS113", at=f"{at}.message", kind=kind)
        rules.append(Rule(tuple(pair), message.strip(), same=kind == "same"))
    return tuple(rules)


def _parse_embed(raw: Any, source: str) -> tuple[str, ...]:
    """`embed: {allow: [https://site.example, ...]}`: the sites that may show the form in an iframe."""
    if raw is None:
        return ()
    if not isinstance(raw, dict) or set(raw) != {"allow"}:
        raise DefinitionError(source, None, "FS070", at="embed")
    allow = raw["allow"]
    if not isinstance(allow, list) or not allow:
        raise DefinitionError(source, None, "FS071", at="embed")
    origins = []
    for site in allow:
        origin = site.strip().rstrip("/").lower() if isinstance(site, str) else site
        if not isinstance(origin, str) or not ORIGIN.match(origin):
            raise DefinitionError(source, None, "FS072", at="embed", site=site)
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
        raise DefinitionError(source, None, "FS090", at="roster")
    _no_unknown_keys(raw, {"people", "other"}, source, None)
    people = []
    for index, item in enumerate(raw["people"], start=1):
        if not isinstance(item, dict):
            raise DefinitionError(source, None, "FS091", at="roster", index=index)
        unknown = sorted(set(map(str, item)) - {"role", *ROSTER_PARTS})
        if unknown:
            raise DefinitionError(source, None, "FS092", at="roster", index=index, names=", ".join(unknown))
        role = item.get("role")
        if not isinstance(role, str) or not role.strip():
            raise DefinitionError(source, None, "FS093", at="roster", index=index)
        for part, (types, needed) in ROSTER_PARTS.items():
            key = item.get(part)
            if key is None and not needed:
                continue
            if not isinstance(key, str) or key not in by_key or by_key[key].type not in types:
                raise DefinitionError(source, None, "FS094", at="roster", index=index, part=part,
                                      allowed=" or ".join(sorted(types)), given=repr(key))
        people.append(RosterPerson(role=role.strip(), **{part: item.get(part) for part in ROSTER_PARTS}))
    other = raw.get("other")
    if other is not None and (not isinstance(other, str) or other not in by_key):
        raise DefinitionError(source, None, "FS095", at="roster", given=repr(other))
    return RosterDefinition(people=tuple(people), other=other)


# newsletter settings; which field types each may name is the types' own (FieldType.newsletter_roles);
# sign_up is true or false, not a field
NEWSLETTER_ROLES = ("email", "when", "name", "organisation")
NEWSLETTER_KEYS = (*NEWSLETTER_ROLES, "sign_up")


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
        raise DefinitionError(source, None, "FS080", at="newsletter")
    unknown = sorted(set(map(str, raw)) - set(NEWSLETTER_KEYS))
    if unknown:
        raise DefinitionError(source, None, "FS081", at="newsletter", names=", ".join(unknown))
    sign_up = _flag(raw.get("sign_up", False), source, None, "newsletter: sign_up")
    for role, key in raw.items():
        if role not in NEWSLETTER_ROLES:
            continue
        types = {t.name for t in FIELD_TYPES.values() if role in t.newsletter_roles}
        if not isinstance(key, str) or key not in by_key:
            raise DefinitionError(source, None, "FS082", at="newsletter", role=role, given=repr(key))
        if by_key[key].type not in types:
            allowed = " or ".join(sorted(types))
            raise DefinitionError(
                source, key, "FS083", at="newsletter", role=role, allowed=allowed, type=by_key[key].type
            )
    when = raw.get("when")
    when_answer = field_type(by_key[when].type).signs_up(by_key[when]) if when else True
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
            raise DefinitionError(source, None, "FS020", name=name) from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=TIMEZONE)
    if isinstance(value, date):
        day = value + timedelta(days=1) if end_of_day else value
        return datetime.combine(day, time(0, 0), tzinfo=TIMEZONE)
    raise DefinitionError(source, None, "FS020", name=name)


def _no_unknown_keys(raw: dict, allowed: set[str], source: str, key: str | None) -> None:
    unknown = sorted(set(raw) - allowed)
    if unknown:
        raise DefinitionError(source, key, "FS005", at=str(unknown[0]), names=", ".join(map(str, unknown)))


def _failing(source: str, key: str | None):
    def fail(code: str, **values):
        raise DefinitionError(source, key, code, **values)

    return fail


def _flag(value: Any, source: str, key: str | None, name: str) -> bool:
    return checks.flag(value, name, _failing(source, key))


def _text(value: Any, source: str, key: str | None, name: str) -> str:
    return checks.text(value, name, _failing(source, key))
