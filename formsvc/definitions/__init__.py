"""Form definitions: read, check and build forms from data files. Knows nothing of Flask.

Steps, each its own module: loader (file -> checked FormDefinition), registry (one class per field type,
asked by everything else), build (FormDefinition -> WTForms class; validated form -> answers to store),
errors (the catalogue of definition errors: code, English and Swedish message).
"""

from .build import build_form_class, display_value, form_answers
from .loader import TIMEZONE, check_directory, load_directory, load_file, load_text, one_sign_up_form, parse_definition
from .prefill import Prefill, link_prefill, prefill
from .registry import FIELD_TYPES, Columns, FieldType, field_type
from .schema import Choice, DefinitionError, FieldDefinition, FormDefinition, NewsletterDefinition

__all__ = [
    "FIELD_TYPES",
    "TIMEZONE",
    "Choice",
    "Columns",
    "FieldType",
    "DefinitionError",
    "FieldDefinition",
    "FormDefinition",
    "NewsletterDefinition",
    "Prefill",
    "build_form_class",
    "check_directory",
    "display_value",
    "field_type",
    "form_answers",
    "link_prefill",
    "load_directory",
    "load_file",
    "load_text",
    "one_sign_up_form",
    "parse_definition",
    "prefill",
]
