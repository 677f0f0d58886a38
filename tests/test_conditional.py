"""Conditional questions (`show_if`): the loader's checks, and the server deciding what was asked: a question
whose condition does not hold is neither required nor stored, whatever the browser sends for it."""

from __future__ import annotations

import shutil
import textwrap

import lxml.html
import pytest
import yaml
from conftest import STAFF_EMAIL, STAFF_PASSWORD, staff_user
from helpers import login, submit, text_of
from test_export import csv_rows

from formsvc.aggregate import form_results
from formsvc.catalog import catalog
from formsvc.config import resource_dir
from formsvc.definitions import DefinitionError, load_directory, parse_definition
from formsvc.extensions import db
from formsvc.models import Response

FORM = """
title: Efter träffen
fields:
  - key: deltog
    type: yesno
    label: Deltog du i träffen?
    required: true
  - key: varfor_inte
    type: textarea
    label: Varför deltog du inte?
    required: true
    show_if: {field: deltog, values: [nej]}
  - key: teman
    type: multichoice
    label: Vilka teman vill du höra mer om?
    choices: {halsa: Hälsa, arbete: Arbete, boende: Boende}
  - key: format
    type: choice
    label: Hur vill du få veta mer?
    choices: {mejl: Mejl, mote: Möte}
    show_if: {field: teman, values: [halsa, arbete]}
"""


@pytest.fixture
def villkor(make_app, tmp_path):
    """An app with the shipped forms and the one above (slug villkor)."""
    forms = tmp_path / "forms"
    shutil.copytree(resource_dir("forms"), forms)
    (forms / "villkor.yaml").write_text(textwrap.dedent(FORM).lstrip(), encoding="utf-8")
    app = make_app(FORMSVC_FORMS_DIR=str(forms))
    return app, app.test_client()


def stored(app) -> list[dict]:
    with app.app_context():
        return [r.answers for r in Response.query.filter_by(form_slug="villkor").order_by(Response.id)]


def test_a_hidden_required_question_is_not_required_and_what_is_posted_for_it_is_not_stored(villkor):
    app, client = villkor
    # Bad input: a browser (without the script, or a crafted post) sends answers to the questions that were
    # not asked: "ja" means "varför inte" was not asked, and "boende" means "format" was not asked.
    response = submit(client, "villkor", {"deltog": "ja", "varfor_inte": "Sjuk", "teman": ["boende"],
                                          "format": "mote"})
    assert response.status_code == 303
    [answers] = stored(app)
    assert answers == {"deltog": "ja", "teman": ["boende"]}
    receipt = text_of(client.get(response.headers["Location"]))
    assert "Varför deltog du inte?" not in receipt and "Sjuk" not in receipt
    assert "Hur vill du få veta mer?" not in receipt


def test_a_hidden_question_is_not_checked_either(villkor):
    app, client = villkor
    # Bad input: an option that does not exist, posted for a question not asked.
    response = submit(client, "villkor", {"deltog": "ja", "teman": ["boende"], "format": "finns_inte"})
    assert response.status_code == 303
    assert stored(app) == [{"deltog": "ja", "teman": ["boende"]}]


def test_a_shown_required_question_is_required(villkor):
    app, client = villkor
    response = submit(client, "villkor", {"deltog": "nej", "varfor_inte": "  "})
    assert response.status_code == 422
    assert "Varför deltog du inte? Fyll i det här fältet." in text_of(response)
    assert stored(app) == []
    response = submit(client, "villkor", {"deltog": "nej", "varfor_inte": "Krockade", "teman": ["arbete", "boende"],
                                          "format": "mejl"})
    assert response.status_code == 303
    assert stored(app) == [{"deltog": "nej", "varfor_inte": "Krockade", "teman": ["arbete", "boende"],
                            "format": "mejl"}]


def test_results_and_exports_count_only_the_stored_answers(villkor):
    app, client = villkor
    answers = [
        {"deltog": "ja", "teman": ["halsa"], "format": "mejl"},  # asked: counted
        {"deltog": "ja", "teman": ["boende"], "format": "mejl"},  # not asked: posted anyway, not counted
        {"deltog": "ja", "format": "mote"},  # not asked (no theme picked): not counted
    ]
    for given in answers:
        assert submit(client, "villkor", given).status_code == 303
    with app.test_request_context():
        results = form_results(catalog().get("villkor"))
    counts = {o.key: o.count for q in results.questions if q.spec.key == "format" for o in q.options}
    assert counts == {"mejl": 1, "mote": 0}
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()
    assert login(client, STAFF_EMAIL, STAFF_PASSWORD).status_code == 303
    rows = csv_rows(client.get("/staff/forms/villkor/export.csv"))
    column = rows[0].index("Hur vill du få veta mer?")
    assert [row[column] for row in rows[1:]] == ["Mejl", "", ""]


def test_the_page_says_when_to_answer_a_conditional_question(villkor):
    _app, client = villkor
    page = client.get("/f/villkor")
    html, text = page.get_data(as_text=True), text_of(page)
    # Without JavaScript every question shows, with the note; the script hides it by these attributes.
    assert "Varför deltog du inte?" in text and "Hur vill du få veta mer?" in text
    assert "Besvaras bara om svaret på ”Deltog du i träffen?” är ”Nej”." in text
    assert "Besvaras bara om svaret på ”Vilka teman vill du höra mer om?” är ”Hälsa” eller ”Arbete”." in text
    assert 'data-show-if="teman" data-show-if-values="halsa arbete"' in html
    # Under the label, and part of the question's description (read out with it).
    assert 'aria-describedby="varfor_inte-condition"' in html
    assert '<fieldset aria-describedby="format-condition">' in html


def _swedish_parts(note) -> list[str]:
    return [" ".join(part.text_content().split()) for part in note.xpath('.//*[@lang="sv"]')]


def test_on_an_english_page_the_note_is_english_and_marks_the_swedish_words_it_quotes(villkor):
    """Bad output looked for: the note in Swedish on an English page, or a Swedish question or option it quotes
    without lang="sv" (a screen reader would read it with English sounds); and an English text marked Swedish."""
    _app, client = villkor
    page = lxml.html.fromstring(client.get("/f/villkor?lang=en").get_data(as_text=True))
    note = page.get_element_by_id("varfor_inte-condition")
    assert " ".join(note.text_content().split()) == "Answer only if the answer to “Deltog du i träffen?” is “No”."
    assert _swedish_parts(note) == ["Deltog du i träffen?"]  # the yes/no options have English
    note = page.get_element_by_id("format-condition")
    assert _swedish_parts(note) == ["Vilka teman vill du höra mer om?", "Hälsa", "Arbete"]
    assert note.text_content().startswith("Answer only if")

    english = lxml.html.fromstring(client.get("/f/utvardering?lang=en").get_data(as_text=True))
    note = english.get_element_by_id("battre-condition")  # a form written in English too: nothing marked
    shown = " ".join(note.text_content().split())
    assert shown == "Answer only if the answer to “Would you recommend the workshop to a colleague?” is “No”."
    assert _swedish_parts(note) == [] and note.xpath("ancestor-or-self::*[@lang][1]/@lang") == ["en"]
    swedish = lxml.html.fromstring(client.get("/f/villkor?lang=sv").get_data(as_text=True))
    note = swedish.get_element_by_id("format-condition")  # a Swedish page marks nothing
    assert note.text_content().startswith("Besvaras bara om") and _swedish_parts(note) == []


def test_the_shipped_evaluation_asks_what_could_be_better_only_after_a_no(app, client):
    scales = {"meningsfull": "4", "anvandbar": "4", "upplagg": "4"}
    response = submit(client, "utvardering", {**scales, "rekommendera": "ja", "battre": "Längre fika"})
    assert response.status_code == 303
    assert submit(client, "utvardering", {**scales, "rekommendera": "nej", "battre": "Kortare"}).status_code == 303
    with app.app_context():
        answers = Response.query.filter_by(form_slug="utvardering").order_by(Response.id)
        kept = [r.answers.get("battre") for r in answers]
    assert kept == [None, "Kortare"]


def refused(text: str) -> DefinitionError:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(yaml.safe_load(textwrap.dedent(text)), slug="prov")
    return caught.value


@pytest.mark.parametrize(
    ("condition", "code", "swedish"),
    [
        # Bad input: a condition on a field the form does not have.
        ("{field: finns_inte, values: [ja]}", "FS101", "”show_if”: ”finns_inte” är inget fält i formuläret"),
        # Bad input: a condition on a later field (the page asks in order).
        ("{field: senare, values: [a]}", "FS102", "”show_if”: ”senare” måste komma före det här fältet"),
        # Bad input: a condition on itself.
        ("{field: fraga, values: [a]}", "FS102", "”show_if”: ”fraga” måste komma före det här fältet"),
        # Bad input: a condition on a field without options.
        ("{field: namn, values: [ja]}", "FS103", "”show_if”: ”namn” är ett fält av typen text"),
        # Bad input: a value that is not one of the field's options.
        ("{field: deltog, values: [kanske]}", "FS104", "”show_if”: ”kanske” är inget alternativ i ”deltog”"),
        # Bad input: the wrong shape.
        ("{field: deltog}", "FS100", "”show_if” måste vara en mappning"),
        ("{field: deltog, values: []}", "FS100", "”show_if” måste vara en mappning"),
        ("[deltog, ja]", "FS100", "”show_if” måste vara en mappning"),
    ],
)
def test_a_bad_condition_is_refused_with_its_code(condition, code, swedish):
    error = refused(f"""
        title: Prov
        fields:
          - {{key: namn, type: text, label: Namn}}
          - {{key: deltog, type: yesno, label: Deltog du}}
          - {{key: fraga, type: text, label: Fråga, show_if: {condition}}}
          - {{key: senare, type: choice, label: Senare, choices: {{a: A}}}}
        """)
    assert (error.code, error.field_key) == (code, "fraga")
    assert error.message("sv").startswith(swedish)


def test_a_condition_names_the_line_it_is_on(tmp_path):
    path = tmp_path / "prov.yaml"
    path.write_text("title: Prov\nfields:\n  - {key: a, type: yesno, label: A}\n  - key: b\n    type: text\n"
                    "    label: B\n    show_if: {field: a, values: [kanske]}\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        load_directory(tmp_path)
    assert (caught.value.code, caught.value.line, caught.value.column) == ("FS104", 7, 5)


def test_forms_without_conditions_keep_their_stored_content_and_version():
    definitions = load_directory(resource_dir("forms"))
    for definition in definitions.values():
        unset = [spec for spec in definition.as_json()["fields"] if spec["key"] != "battre"]
        assert all("show_if" not in spec for spec in unset), definition.slug  # so their version is as it was
    evaluation = definitions["utvardering"]
    stored = evaluation.as_json()
    assert stored["fields"][4]["show_if"] == {"field": "rekommendera", "values": ["nej"]}
    again = type(evaluation).from_json(stored, "utvardering", evaluation.version)
    assert again.fields == evaluation.fields  # the condition read back from a stored version
