"""Prefilling a form from a link: query parameters named after fields, values checked against the form."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .registry import FIELD_TYPES
from .schema import FieldDefinition, FormDefinition

# Consent must be given by the person, never by a link; nothing else is refused outright.
NOT_PREFILLABLE = {"consent"}


@dataclass(frozen=True)
class Prefill:
    values: dict[str, list[str]]  # field key -> values to put in the form
    dropped: list[tuple[str, str]]  # (field key, value) that the form would not accept


def prefill(definition: FormDefinition, get_list: Callable[[str], Iterable[str]]) -> Prefill:
    """Values for the form from `get_list(key)` (e.g. request.args.getlist); options must exist."""
    values: dict[str, list[str]] = {}
    dropped: list[tuple[str, str]] = []
    for spec in definition.fields:
        given = [v for v in get_list(spec.key) if v.strip()]
        if not given:
            continue
        kept = [v for v in given if _acceptable(spec, v)]
        if spec.type == "ranking":
            kept = list(dict.fromkeys(kept))[: spec.rank]
        elif spec.type != "multichoice":
            kept = kept[:1]
        dropped.extend((spec.key, v) for v in given if v not in kept)
        if kept:
            values[spec.key] = kept
    return Prefill(values, dropped)


def link_prefill(definition: FormDefinition, get_list: Callable[[str], Iterable[str]]) -> Prefill:
    """Values for the form from a link's query parameters: only fields whose type may be filled from a link
    (options and the organisation, see FieldType.from_link). Other parameters are ignored without a notice:
    a link must not choose where the receipt goes, nor put words in the person's mouth."""
    allowed = {spec.key for spec in definition.fields if FIELD_TYPES[spec.type].from_link}
    return prefill(definition, lambda key: get_list(key) if key in allowed else [])


def _acceptable(spec: FieldDefinition, value: str) -> bool:
    if spec.type in NOT_PREFILLABLE:
        return False
    if spec.choices:
        return any(choice.key == value for choice in spec.choices)
    limit = spec.max_length or 5000
    return len(value) <= limit
