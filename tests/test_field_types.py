"""Every field type through a small inline form: good answers are stored as the right type, bad ones refused."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from helpers import submit, text_of

from formsvc.extensions import db
from formsvc.models import Response

ALL_TYPES = """
title: Alla fälttyper
fields:
  - {key: kort, type: text, label: Kort text, max_length: 10}
  - {key: beskrivning, type: textarea, label: Lång text}
  - {key: epost, type: email, label: E-post}
  - {key: telefon, type: phone, label: Telefon}
  - {key: antal, type: number, label: Antal, min_value: 0, max_value: 1000}
  - {key: datum, type: date, label: Datum}
  - {key: ett, type: choice, label: Ett val, choices: {a: A, b: B}}
  - {key: flera, type: multichoice, label: Flera val, min: 2, max: 3, choices: {a: A, b: B, c: C, d: D}}
  - {key: ordning, type: ranking, label: Rangordna, rank: 2, choices: {x: X, y: Y, z: Z}}
  - {key: janej, type: yesno, label: Ja eller nej}
  - {key: ok, type: consent, label: Jag samtycker}
  - {key: org, type: organisation, label: Organisation}
"""
GOOD = {
    "kort": "kort", "beskrivning": "rad ett\nrad två", "epost": "a@example.org", "telefon": "+46 70-123 45 67",
    "antal": "234,5", "datum": "2026-12-24", "ett": "b", "flera": ["a", "c"], "ordning": ["z", "x"],
    "janej": "nej", "ok": "y", "org": "Föreningen Exempel",
}


@pytest.fixture
def typed_app(make_app, tmp_path):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "alla.yaml").write_text(ALL_TYPES, encoding="utf-8")
    return make_app(FORMSVC_FORMS_DIR=str(folder))


def answers(app):
    with app.app_context():
        return [r.answers for r in db.session.scalars(sa.select(Response))]


def test_good_answers_are_stored_as_their_types(typed_app):
    response = submit(typed_app.test_client(), "alla", GOOD)
    assert response.status_code == 303, text_of(response)[:400]
    [stored] = answers(typed_app)
    assert stored["antal"] == 234.5
    assert stored["datum"] == "2026-12-24"
    assert stored["flera"] == ["a", "c"] and stored["ordning"] == ["z", "x"]
    assert stored["ok"] is True and stored["janej"] == "nej"
    assert stored["beskrivning"] == "rad ett\r\nrad två" or stored["beskrivning"] == "rad ett\nrad två"
    assert stored["org"] == "Föreningen Exempel"


@pytest.mark.parametrize(("typed", "stored"), [("1 000", 1000), ("+7", 7), ("0,125", 0.125), ("12.5", 12.5)])
def test_numbers_are_taken_as_swedes_write_them(typed_app, typed, stored):
    assert submit(typed_app.test_client(), "alla", {**GOOD, "antal": typed}).status_code == 303
    assert answers(typed_app)[0]["antal"] == stored


def test_empty_optional_fields_are_fine(typed_app):
    assert submit(typed_app.test_client(), "alla", {}).status_code == 303
    [stored] = answers(typed_app)
    assert stored["kort"] is None and stored["flera"] == [] and stored["ordning"] == [] and stored["ok"] is False


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("kort", "elva tecken", "högst 10 tecken"),
        ("epost", "a@", "Skriv en e-postadress"),
        ("telefon", "070-ABC", "Skriv ett telefonnummer"),
        ("antal", "tre", "Inte ett giltigt decimaltal"),
        ("antal", "1001", "Ange ett tal mellan 0 och 1000"),
        ("antal", "-1", "Ange ett tal mellan 0 och 1000"),
        # Notations Python's Decimal takes but a person does not mean (and a huge exponent broke storing).
        ("antal", "1e2", "Inte ett giltigt decimaltal"),
        ("antal", "-1e999999", "Inte ett giltigt decimaltal"),
        ("antal", "NaN", "Inte ett giltigt decimaltal"),
        ("antal", "Infinity", "Inte ett giltigt decimaltal"),
        ("antal", "1234567890123", "Inte ett giltigt decimaltal"),
        ("datum", "2026-02-30", "giltigt datum"),
        ("datum", "24/12/2026", "giltigt datum"),
        ("ett", "c", "giltigt val"),
        ("flera", ["a"], "Välj minst 2 alternativ"),
        ("flera", ["a", "b", "c", "d"], "Välj högst 3 alternativ"),
        ("flera", ["a", "e"], "giltigt val"),
        ("ordning", ["x"], "Välj exakt 2 alternativ"),
        ("ordning", ["x", "x"], "bara väljas en gång"),
        ("janej", "kanske", "giltigt val"),
        ("org", "O" * 201, "högst 200 tecken"),
    ],
)
def test_bad_answers_are_refused_next_to_the_field(typed_app, field, value, message):
    client = typed_app.test_client()
    response = submit(client, "alla", {**GOOD, field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field}-error">(.*?)</p>', html, re.S)
    assert error and message in " ".join(error.group(1).split())
    assert 'aria-invalid="true"' in html
    assert "a@example.org" in html or field == "epost"  # the rest of what was typed is kept
    assert answers(typed_app) == []


def test_wtforms_messages_are_swedish(typed_app):
    """Built-in WTForms messages come from its Swedish catalogue, not in English."""
    response = submit(typed_app.test_client(), "alla", {**GOOD, "ett": "c"})
    assert "Not a valid choice" not in response.get_data(as_text=True)
