"""The field types in the app: each registered type is drawn by its macro, checked at start.

Every type in definitions.FIELD_TYPES names a template (`FieldType.template`) that must define a macro named
after the type, taking (field, spec, page); create_app stops with the type's name when one is missing.
Templates draw a question with `field_macro(spec.type)` and ask a type with `field_types`.
"""

from __future__ import annotations

from flask import Flask
from jinja2 import TemplateNotFound

from .definitions import FIELD_TYPES, field_type


class MissingMacro(RuntimeError):
    """A registered field type has no macro to draw it."""


def check_macros(app: Flask) -> None:
    """Every registered type's template defines its macro; raises MissingMacro naming those that do not."""
    missing = [f"{kind.name} (in {kind.template})" for kind in FIELD_TYPES.values() if not _has_macro(app, kind)]
    if missing:
        raise MissingMacro(f"field types without a macro: {', '.join(missing)}")


def _has_macro(app: Flask, kind) -> bool:
    try:
        module = app.jinja_env.get_template(kind.template).module
    except TemplateNotFound:
        return False
    return callable(getattr(module, kind.name, None))


def init_app(app: Flask) -> None:
    def field_macro(name: str):
        """The macro that draws a question of this type."""
        kind = FIELD_TYPES[name]
        return getattr(app.jinja_env.get_template(kind.template).module, kind.name)

    app.jinja_env.globals.update(field_macro=field_macro, field_type=field_type)
    check_macros(app)
