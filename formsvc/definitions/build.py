"""Definition -> WTForms class, and a validated form -> the answers to store.

Each definition gets a class of its own, built once; nothing is changed on a shared class per request.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import wtforms

from .registry import FIELD_TYPES, Translate, field_type
from .schema import FieldDefinition, FormDefinition


def _plain(message: str, **variables: Any) -> str:
    return message % variables if variables else message


def build_form_class(
    definition: FormDefinition, base: type = wtforms.Form, translate: Translate = _plain
) -> type:
    """A new form class with one WTForms field per question, in the definition's order."""
    attributes: dict[str, Any] = {
        spec.key: FIELD_TYPES[spec.type].build(spec, translate) for spec in definition.fields
    }
    rules = definition.rules

    def validate(self, extra_validators=None):
        valid = base.validate(self, extra_validators)
        asked = {spec.key for spec in asked_fields(definition, self)}
        if len(asked) < len(definition.fields):
            # A question not asked (its show_if does not hold) is neither required nor checked.
            for spec in definition.fields:
                if spec.key not in asked:
                    getattr(self, spec.key).errors = []
            valid = not any(field.errors for field in self)
        for rule in rules:
            if not asked.issuperset(rule.fields):
                continue
            first, second = (getattr(self, key) for key in rule.fields)
            # `same` says nothing more where the second answer is refused already (left out, not an address).
            broken = _differ(first.data, second.data) and not second.errors if rule.same \
                else _same_answer(first.data, second.data)
            if broken:
                second.errors = [*second.errors, translate(rule.message)]
                valid = False
        return valid

    attributes["validate"] = validate
    return type(f"{definition.slug.title().replace('-', '')}Form", (base,), attributes)


def _same_answer(first: Any, second: Any) -> bool:
    if not isinstance(first, str) or not isinstance(second, str):
        return False
    return bool(first.strip()) and _folded(first) == _folded(second)


def _differ(first: Any, second: Any) -> bool:
    """Two answers that are not the same text (case and surrounding spaces ignored; empty is None)."""
    return _folded(first) != _folded(second)


def _folded(value: Any) -> Any:
    return (value.strip().casefold() or None) if isinstance(value, str) else value


def asked_fields(definition: FormDefinition, form: wtforms.Form) -> list[FieldDefinition]:
    """The questions this filled-in form asked: those whose `show_if` holds for what it says (and all without)."""
    return definition.asked_fields(lambda key: _storable(getattr(form, key).data))


def form_answers(definition: FormDefinition, form: wtforms.Form) -> dict[str, Any]:
    """The answers as JSON-ready data: text, option keys, lists of keys, numbers, ISO dates; a question not
    asked (its show_if does not hold) is left out, whatever was posted for it."""
    return {spec.key: _storable(getattr(form, spec.key).data) for spec in asked_fields(definition, form)}


def _storable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        return value if value.strip() else None
    if isinstance(value, list):
        return [v for v in value if v]
    return value


def display_value(spec: FieldDefinition, value: Any, language: str = "sv") -> str:
    """An answer as a person reads it: labels (in `language` where the definition has them), not keys;
    empty when unanswered."""
    if value is None or value == [] or value == "":
        return ""
    return field_type(spec.type).display(spec, value, language)
