"""Prefilling a form from a link: query parameters named after fields, values checked against the form."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .registry import field_type
from .schema import FormDefinition


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
        kind = field_type(spec.type)
        kept = kind.prefilled(spec, [v for v in given if kind.accepts(spec, v)])
        dropped.extend((spec.key, v) for v in given if v not in kept)
        if kept:
            values[spec.key] = kept
    return Prefill(values, dropped)


def link_prefill(definition: FormDefinition, get_list: Callable[[str], Iterable[str]]) -> Prefill:
    """Values for the form from a link's query parameters: only fields whose type may be filled from a link
    (options and the organisation, see FieldType.from_link). Other parameters are ignored without a notice:
    a link must not choose where the receipt goes, nor put words in the person's mouth."""
    allowed = {spec.key for spec in definition.fields if field_type(spec.type).from_link}
    return prefill(definition, lambda key: get_list(key) if key in allowed else [])

