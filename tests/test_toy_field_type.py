"""A field type defined here, in the test, and nowhere else: one class and one macro (in a test template
loader) are enough for it to work end to end: the page, an answer, the export and the results."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import STAFF_EMAIL, STAFF_PASSWORD, staff_user
from flask import Flask
from flask.templating import DispatchingJinjaLoader
from helpers import login, submit, text_of
from jinja2 import ChoiceLoader, DictLoader
from wtforms import fields, validators

from formsvc.definitions import FIELD_TYPES, FieldType
from formsvc.definitions.registry import Choice, Examples
from formsvc.extensions import db
from formsvc.fields import MissingMacro
from formsvc.models import Response


class TrafficLight(FieldType):
    """A toy: green, yellow or red, counted like a single choice."""

    name = "trafikljus"
    template = "toy/fields.html"
    default_choices = (Choice("gron", "Grönt"), Choice("gul", "Gult"), Choice("rod", "Rött"))
    countable = True
    grouped = True
    summary = "choice"
    examples = Examples({"label": "Hur går det?"}, ["gul"], ["blått"], ({"rank": 1}, "applies to"), "gul", "Gult")

    def build(self, spec, t):
        choices = [fields.SelectChoice(c.key, c.label) for c in spec.choices]
        return fields.RadioField(spec.label, [validators.Optional()], choices=choices)


TOY_MACRO = """
{% macro trafikljus(field, spec, page={}) -%}
<fieldset class="traffic-light"><legend>{{ spec.label }}</legend>
{%- for choice in spec.choices %}
  <input type="radio" id="{{ field.id }}-{{ loop.index }}" name="{{ field.name }}" value="{{ choice.key }}">
  <label for="{{ field.id }}-{{ loop.index }}">{{ choice.label }} (ljus)</label>
{%- endfor %}
</fieldset>
{%- endmacro %}
"""
FORM = """
title: Läget
fields:
  - {key: lage, type: trafikljus, label: Hur går det?}
"""


@pytest.fixture
def toy_registered(monkeypatch):
    monkeypatch.setitem(FIELD_TYPES, TrafficLight.name, TrafficLight())


@pytest.fixture
def toy_templates(monkeypatch):
    """The toy's macro in a template loader of the test's own, searched before the app's."""
    monkeypatch.setattr(
        Flask,
        "create_global_jinja_loader",
        lambda app: ChoiceLoader([DictLoader({"toy/fields.html": TOY_MACRO}), DispatchingJinjaLoader(app)]),
    )


@pytest.fixture
def toy_app(make_app, tmp_path, toy_registered, toy_templates):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "lage.yaml").write_text(FORM, encoding="utf-8")
    app = make_app(FORMSVC_FORMS_DIR=str(folder))
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()
    return app


def test_a_type_defined_in_a_test_works_end_to_end(toy_app):
    client = toy_app.test_client()
    page = client.get("/f/lage")
    assert "Gult (ljus)" in text_of(page)  # drawn by the toy's own macro
    assert submit(client, "lage", {"lage": "blått"}).status_code == 422  # not one of its options
    assert submit(client, "lage", {"lage": "gul"}).status_code == 303
    assert submit(client, "lage", {"lage": "gul"}).status_code == 303
    assert submit(client, "lage", {"lage": "rod"}).status_code == 303
    with toy_app.app_context():
        assert sorted(r.answers["lage"] for r in db.session.scalars(sa.select(Response))) == ["gul", "gul", "rod"]

    assert login(client, STAFF_EMAIL, STAFF_PASSWORD).status_code == 303
    results = text_of(client.get("/staff/forms/lage/results"))
    assert "Gult 2 67 %" in results and "Rött 1 33 %" in results and "Grönt 0 0 %" in results
    exported = client.get("/staff/forms/lage/export.csv").get_data(as_text=True)
    # Exported as the base FieldType does (the stored value as text): the toy says nothing else.
    assert "Hur går det?" in exported and exported.count(";gul\r\n") == 2 and exported.count(";rod\r\n") == 1


def test_a_registered_type_without_its_macro_stops_the_start(make_app, toy_registered):
    """Bad input: a type registered with no template that defines its macro."""
    with pytest.raises(MissingMacro, match=r"trafikljus \(in toy/fields.html\)"):
        make_app()


def test_a_template_without_the_macro_stops_the_start(make_app, toy_registered, monkeypatch):
    """Bad input: the type's template exists but defines no macro of the type's name."""
    monkeypatch.setattr(
        Flask,
        "create_global_jinja_loader",
        lambda app: ChoiceLoader([DictLoader({"toy/fields.html": "{% macro other(f) %}{% endmacro %}"}),
                                  DispatchingJinjaLoader(app)]),
    )
    with pytest.raises(MissingMacro, match="trafikljus"):
        make_app()
