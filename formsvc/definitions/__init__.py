"""Form definitions: read, check and build forms from data files. Knows nothing of Flask.

Steps, each its own module: loader (file -> checked FormDefinition), registry (type name -> WTForms
field builder), build (FormDefinition -> WTForms class; validated form -> answers to store).
"""

from .build import build_form_class, display_value, form_answers
from .loader import TIMEZONE, check_directory, load_directory, load_file, parse_definition
from .prefill import Prefill, link_prefill, prefill
from .registry import FIELD_TYPES
from .schema import Choice, DefinitionError, FieldDefinition, FormDefinition, NewsletterDefinition

__all__ = [
    "FIELD_TYPES",
    "TIMEZONE",
    "Choice",
    "DefinitionError",
    "FieldDefinition",
    "FormDefinition",
    "NewsletterDefinition",
    "Prefill",
    "build_form_class",
    "check_directory",
    "display_value",
    "form_answers",
    "link_prefill",
    "load_directory",
    "load_file",
    "parse_definition",
    "prefill",
]
