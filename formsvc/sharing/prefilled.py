"""The links a share page hands out: the form's public address with prefilled answers as field and option keys.

Values are checked with the form's own prefill rules (definitions.prefill), so a link never carries a value
the form would drop or refuse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode

from markupsafe import Markup

from ..definitions import FieldDefinition, FormDefinition, Prefill, field_type, prefill
from ..links import public_url


def builder_fields(definition: FormDefinition) -> list[FieldDefinition]:
    """Fields staff may prefill on the share page (FieldType.share_builder): values picked from a list, never
    typed personal data."""
    return [spec for spec in definition.fields if field_type(spec.type).share_builder]


def picked(definition: FormDefinition, get_list: Callable[[str], Iterable[str]]) -> Prefill:
    """The values staff picked (e.g. request.args.getlist), checked as the form would check them."""
    offered = {spec.key for spec in builder_fields(definition)}
    return prefill(definition, lambda key: get_list(key) if key in offered else [])


def query_string(definition: FormDefinition, values: dict[str, list[str]]) -> str:
    """Field key = option key pairs in the form's order, so equal choices give equal links."""
    return urlencode([(spec.key, value) for spec in definition.fields for value in values.get(spec.key, [])])


def form_link(definition: FormDefinition, query: str = "") -> str:
    """The form's absolute public address, with a prefill query string when there is one."""
    base = public_url("public.show_form", slug=definition.slug)
    return f"{base}?{query}" if query else base


@dataclass(frozen=True)
class AnswerLink:
    key: str
    label: str
    url: str


def answer_links(definition: FormDefinition, values: dict[str, list[str]]) -> tuple[FieldDefinition | None, list]:
    """Where the first question is a single choice: per option, a link that opens the form with it chosen."""
    first = definition.fields[0]
    if not field_type(first.type).single_choice:
        return None, []
    others = {key: chosen for key, chosen in values.items() if key != first.key}
    links = [
        AnswerLink(
            choice.key,
            choice.label,
            form_link(definition, query_string(definition, {**others, first.key: [choice.key]})),
        )
        for choice in first.choices
    ]
    return first, links


def embed_allowlist(definition: FormDefinition) -> tuple[str, ...]:
    """The sites allowed to embed the form (the definition's `embed: {allow: [...]}`); empty: not embeddable."""
    return definition.embed_allow


def iframe_snippet(definition: FormDefinition, link: str) -> str:
    """HTML for the agency's web pages; Markup.format escapes the link and the title."""
    return str(
        Markup(
            '<iframe src="{}" title="{}" width="100%" height="900" style="border:0" loading="lazy"></iframe>'
        ).format(link, definition.title)
    )
