"""Definition errors come from a catalogue (formsvc/definitions/errors.py): a code, a message in Swedish and
English, and the file, line and column of the YAML node the error is about."""

from __future__ import annotations

import re
import string
import textwrap
from pathlib import Path

import pytest

from formsvc.definitions import DefinitionError, load_file
from formsvc.definitions.errors import CATALOGUE

PACKAGE = Path(__file__).parent.parent / "formsvc" / "definitions"


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_entry_has_both_languages_with_the_same_values(code):
    entry = CATALOGUE[code]
    assert re.fullmatch(r"FS\d{3}", entry.code)
    assert entry.en.strip() and entry.sv.strip() and entry.en != entry.sv
    assert placeholders(entry.en) == placeholders(entry.sv)
    assert "'" not in entry.sv.replace("'{", "").replace("}'", "")  # Swedish quotes ”…”, not '…'


def test_every_code_raised_is_in_the_catalogue_and_every_entry_is_raised():
    raised = set()
    for path in PACKAGE.glob("*.py"):
        if path.name != "errors.py":
            raised |= set(re.findall(r'"(FS\d{3})"', path.read_text(encoding="utf-8")))
    assert raised - set(CATALOGUE) == set()
    assert set(CATALOGUE) - raised == set()


def refused(tmp_path, text: str) -> DefinitionError:
    path = tmp_path / "prov.yaml"
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_file(path)
    return caught.value


FIELDS = """
title: Prov
fields:
  - key: namn
    type: text
    label: Namn
"""


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        # A setting a type does not take: at that setting, in that field (not the first field).
        (FIELDS + "  - key: val\n    type: choice\n    label: Val\n    choices: {a: A}\n    rank: 2\n",
         "FS038", 10, 5),
        # Checked together (rank larger than the options): at the rank.
        (FIELDS + "  - key: val\n    type: ranking\n    label: Val\n    rank: 3\n    choices: {a: A, b: B}\n",
         "FS053", 9, 5),
        # A key used twice: at the second.
        (FIELDS + "  - key: namn\n    type: email\n    label: E-post\n", "FS033", 6, 5),
        # A field that is not a mapping: at the item.
        (FIELDS + "  - bara text\n", "FS030", 6, 5),
        # An unknown type in a flow mapping: at "type".
        (FIELDS + "  - {key: betyg, type: stars, label: Betyg}\n", "FS034", 6, 18),
        # A missing label: at the field.
        (FIELDS + "  - key: utan\n    type: text\n", "FS035", 6, 5),
        # A control character written as an escape, deep in an option: at that field's label key.
        (FIELDS.replace("label: Namn", 'label: "Na\\0mn"'), "FS004", 5, 5),
        # Form-level settings: at their key.
        (FIELDS + "closes: 31 juni\n", "FS020", 6, 1),
        (FIELDS + "newsletter: {email: namn}\n", "FS083", 6, 1),
        ("title: Prov\nfields: []\n", "FS011", 2, 1),
        # Broken YAML: where the parser stopped.
        ("title: Prov\nfields:\n  - key: [a\n", "FS001", 4, 1),
    ],
)
def test_a_bad_definition_names_its_line_and_column(tmp_path, text, code, line, column):
    error = refused(tmp_path, text)
    assert (error.code, error.line, error.column) == (code, line, column), str(error)
    assert str(error).startswith(f"{tmp_path / 'prov.yaml'}:{line}:{column}: {code} ")


def test_the_error_reads_in_swedish_and_english(tmp_path):
    error = refused(tmp_path, FIELDS + "  - key: val\n    type: choice\n    label: Val\n")
    assert error.message("en") == "a choice field needs 'choices'" == error.reason
    assert error.message("sv") == "ett fält av typen choice behöver ”choices”"


EMAIL = FIELDS + "  - key: epost\n    type: email\n    label: E-post\n"
MAIL = EMAIL + "mails:\n  - template: kvitto\n    to: epost\n"  # a mail's settings start on line 12
RULE = EMAIL + "rules:\n  - "  # a rule starts on line 10


@pytest.mark.parametrize(
    ("text", "code", "line", "column"),
    [
        # Tried: a subject on two lines, a subject and a message one character too long, a list as subject,
        # a number as message, a mail to a text field (at its `to`), a template there is no file for.
        (MAIL + '    subject: "Rad ett\\nRad två"\n', "FS110", 12, 5),
        (MAIL + f"    subject: {'x' * 151}\n", "FS111", 12, 5),
        (MAIL + f"    message: {'x' * 3001}\n", "FS111", 12, 5),
        (MAIL + "    subject: [Tack, Hej]\n", "FS012", 12, 5),
        (MAIL + "    message: 12\n", "FS012", 12, 5),
        (MAIL.replace("to: epost", "to: namn"), "FS063", 11, 5),
        (MAIL.replace("template: kvitto", "template: finns_inte"), "FS068", 10, 5),
        # Tried: the same field twice, a field the form lacks, an empty message, both kinds in one rule,
        # an unknown kind.
        (RULE + "different: [namn, namn]\n    message: M\n", "FS112", 10, 5),
        (RULE + "same: [epost, finns_inte]\n    message: M\n", "FS066", 10, 5),
        (RULE + "same: [epost, namn]\n    message: ''\n", "FS113", 11, 5),
        (RULE + "same: [epost, namn]\n    different: [epost, namn]\n    message: M\n", "FS065", 10, 5),
        (RULE + "larger: [epost, namn]\n    message: M\n", "FS065", 10, 5),
    ],
)
def test_a_bad_mail_text_or_rule_names_its_line(tmp_path, text, code, line, column):
    error = refused(tmp_path, text)
    assert (error.code, error.line, error.column) == (code, line, column), str(error)


def test_a_mail_text_too_long_says_how_long_in_swedish(tmp_path):
    error = refused(tmp_path, MAIL + f"    subject: {'x' * 160}\n")
    assert error.message("sv") == "”subject” har 160 tecken, men får ha högst 150"
