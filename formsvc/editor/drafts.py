"""A form's draft as the mapping the loader reads, changed one setting or field at a time by the editor.

The editor keeps the draft as YAML text (what the loader checks and what `forms export` writes); a page
changes the mapping and saves it back. Each field's settings come from its type (registry.FIELD_TYPES).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from ..definitions import FIELD_TYPES, field_type
from . import publishing

# Form settings the editor page offers, in its order: (YAML name, kind). Kinds: text, long, flag, number.
FORM_SETTINGS = (
    ("title", "text"), ("intro", "long"), ("opens", "text"), ("closes", "text"), ("listed", "flag"),
    ("open_link", "flag"), ("one_answer_per_organisation", "flag"), ("retention_days", "number"),
    ("thanks", "long"), ("submit_label", "text"), ("purpose", "long"),
    ("title_en", "text"), ("intro_en", "long"), ("thanks_en", "long"),
)
FLAG_DEFAULTS = {"listed": True, "open_link": True, "one_answer_per_organisation": False}
# What every field may have beside its type's own settings.
COMMON_FIELD_SETTINGS = (("label", "text"), ("help", "long"), ("required", "flag"), ("label_en", "text"),
                         ("help_en", "long"))


def text_of(slug: str, catalog_definition=None) -> str | None:
    """The text the editor starts from: the draft, else the published text, else a shipped file's."""
    row = publishing.stored(slug)
    if row is not None and (row.draft or row.published):
        return row.draft or row.published
    if catalog_definition is not None and catalog_definition.source and Path(catalog_definition.source).is_file():
        return Path(catalog_definition.source).read_text(encoding="utf-8")
    return None


def mapping(text: str) -> dict[str, Any]:
    raw = yaml.safe_load(text)
    return raw if isinstance(raw, dict) else {}


def dump(raw: dict[str, Any]) -> str:
    return yaml.safe_dump(raw, allow_unicode=True, sort_keys=False, width=100)


def blank(title: str) -> str:
    """A new form: its title and one text question, as the loader needs at least one field."""
    return dump({"title": title, "fields": [{"key": "fraga_1", "type": "text", "label": "Fråga 1"}]})


def type_settings(type_name: str) -> list[str]:
    """The settings a type takes beyond the common ones (its own, and options if it has them)."""
    kind = field_type(type_name)
    names = list(kind.settings)
    if kind.needs_choices or kind.default_choices:
        names.insert(0, "choices")
    return names


def type_label(name: str) -> str:
    """What staff call a type (Swedish, for _()); a name no type has as it is."""
    return field_type(name).label or name or "–"


def field_types() -> list[str]:
    return [name for name in FIELD_TYPES if not name.startswith("_") and name != "stored"]


def new_field(raw: dict[str, Any], type_name: str) -> str:
    """Add a question of a type at the end, with the settings its type starts a question with; returns its key."""
    fields = raw.setdefault("fields", [])
    keys = {f.get("key") for f in fields if isinstance(f, dict)}
    number = len(fields) + 1
    while f"fraga_{number}" in keys:
        number += 1
    key = f"fraga_{number}"
    starter = copy.deepcopy(field_type(type_name).starter)  # the draft is changed in place later
    fields.append({"key": key, "type": type_name, "label": f"Fråga {number}", **starter})
    return key


def find_field(raw: dict[str, Any], key: str) -> int | None:
    return next((i for i, f in enumerate(raw.get("fields") or []) if isinstance(f, dict) and f.get("key") == key),
                None)


def parsed_value(kind: str, value: str | None) -> Any:
    """A posted setting as the YAML value it stands for; None: leave it out (the default)."""
    if kind == "flag":
        return value == "y"
    value = (value or "").strip()
    if not value:
        return None
    if kind == "long":
        return value.replace("\r\n", "\n")
    if kind == "choices":
        return choices_from_lines(value)
    try:
        return yaml.safe_load(value) if kind in ("number", "any") else value
    except yaml.YAMLError:
        return value


def choices_from_lines(value: str) -> dict[str, str]:
    """Options written one a line as "key: label"."""
    options = {}
    for line in value.replace("\r\n", "\n").split("\n"):
        if line.strip():
            key, _, label = line.partition(":")
            options[key.strip()] = label.strip() or key.strip()
    return options


def choices_as_lines(value: Any) -> str:
    if isinstance(value, str):  # the lines as posted, shown again with a refusal
        return value
    if isinstance(value, dict):
        return "\n".join(f"{key}: {label}" for key, label in value.items())
    if isinstance(value, list):
        return "\n".join(str(item) for item in value)
    return ""


def shown_value(kind: str, value: Any) -> str:
    if value is None:
        return ""
    if kind == "choices":
        return choices_as_lines(value)
    if isinstance(value, list):
        return yaml.safe_dump(value, allow_unicode=True, default_flow_style=True).strip()
    return str(value)


def setting_kind(name: str) -> str:
    return "choices" if name == "choices" else "any"


def options_of(spec: Any) -> dict[str, str]:
    """A question's options as the draft writes them (a yes/no question's own when it leaves them out)."""
    if not isinstance(spec, dict):
        return {}
    kind = field_type(str(spec.get("type", "")))
    if not (kind.needs_choices or kind.default_choices):
        return {}
    if isinstance(spec.get("choices"), dict):
        return {str(key): str(label) for key, label in spec["choices"].items()}
    return {choice.key: choice.label for choice in kind.default_choices}


def condition_sources(raw: dict[str, Any], index: int) -> list[dict[str, Any]]:
    """The questions a condition on question `index` may name: those before it with options (number, key,
    label, options); and the one its condition names now, wherever it is, so a refusal shows what was tried."""
    fields = raw.get("fields") or []
    condition = fields[index].get("show_if") if isinstance(fields[index], dict) else None
    named = condition.get("field") if isinstance(condition, dict) else None
    sources = []
    for number, spec in enumerate(fields, start=1):
        if isinstance(spec, dict) and ((number <= index and options_of(spec)) or (named and spec.get("key") == named)):
            sources.append({"number": number, "key": spec.get("key"), "label": spec.get("label") or spec.get("key"),
                            "options": options_of(spec)})
    return sources


def posted_condition(form) -> dict[str, Any] | None:
    """`show_if` from the editor's question form: the question picked (none: always asked) and the options
    ticked under it, posted as "question:option" (options ticked under another question are not counted)."""
    field = (form.get("show_if_field") or "").strip()
    if not field:
        return None
    prefix = f"{field}:"
    return {"field": field, "values": [v[len(prefix):] for v in form.getlist("show_if_values") if v.startswith(prefix)]}
