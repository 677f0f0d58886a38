"""Every registered field type through every stage, with the small examples the type carries (FieldType.examples):
load, good and bad settings, build, good and bad input, prefill, display, export, the page, summary and
anonymisation. A new type is covered by registering it: nothing here lists types."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
import yaml
from conftest import staff_user
from helpers import hidden_values, login
from werkzeug.datastructures import MultiDict

from formsvc.aggregate import SUMMARIES, form_results
from formsvc.definitions import (
    FIELD_TYPES,
    DefinitionError,
    build_form_class,
    display_value,
    form_answers,
    link_prefill,
    parse_definition,
    prefill,
)
from formsvc.extensions import db
from formsvc.retention import anonymised_answers

TYPES = sorted(FIELD_TYPES)


def definition_raw(name: str, **extra) -> dict:
    kind = FIELD_TYPES[name]
    return {"title": f"Prov {name}", "fields": [{"key": "q", "type": name, **kind.examples.settings, **extra}]}


def definition(name: str):
    return parse_definition(definition_raw(name), slug=f"prov-{name}")


@pytest.mark.parametrize("name", TYPES)
def test_load_and_check_settings(name):
    """Good settings load; the bad setting the type names is refused, naming the field and the reason."""
    kind = FIELD_TYPES[name]
    [spec] = definition(name).fields
    assert spec.type == name
    bad, code = kind.examples.bad_settings
    with pytest.raises(DefinitionError) as caught:
        parse_definition(definition_raw(name, **bad), slug="prov", source="forms/prov.yaml")
    assert caught.value.field_key == "q" and caught.value.code == code


@pytest.mark.parametrize("name", TYPES)
def test_build_and_validate(name):
    """The good example validates and is stored as the type says; the bad one is refused at the field."""
    kind, checked = FIELD_TYPES[name], definition(name)
    form_class = build_form_class(checked)
    good = form_class(formdata=MultiDict([("q", value) for value in kind.examples.good]))
    assert good.validate(), good.errors
    assert form_answers(checked, good) == {"q": kind.examples.stored}
    bad = form_class(formdata=MultiDict([("q", value) for value in kind.examples.bad]))
    assert not bad.validate() and bad.errors["q"]


@pytest.mark.parametrize("name", TYPES)
def test_prefill(name):
    """A link fills the good value when the type may be prefilled (from a share link only when from_link)."""
    kind, checked = FIELD_TYPES[name], definition(name)
    given = MultiDict([("q", value) for value in kind.examples.good])
    filled = prefill(checked, given.getlist)
    if kind.prefillable:
        assert filled.values == {"q": kind.prefilled(checked.fields[0], kind.examples.good)} and not filled.dropped
    else:
        assert filled.values == {} and filled.dropped
    from_link = link_prefill(checked, given.getlist)
    assert (from_link.values == filled.values) if kind.from_link else from_link.values == {}


@pytest.mark.parametrize("name", TYPES)
def test_display_export_and_erase(name):
    kind, checked = FIELD_TYPES[name], definition(name)
    [spec] = checked.fields
    stored = kind.examples.stored
    assert display_value(spec, stored) == kind.examples.shown
    assert display_value(spec, None) == ""
    columns = kind.columns(spec)
    cells = columns.values({"q": stored})
    assert len(cells) == len(columns.headers) >= 1 and any(cell is not None for cell in cells)
    assert all(cell is None or isinstance(cell, str | int | float | date) for cell in cells)
    assert columns.values({}) == [None] * len(columns.headers)
    erased = anonymised_answers(checked, {"q": stored})
    assert erased == {"q": stored if kind.kept_on_anonymise else None}
    if kind.countable:
        assert all(isinstance(value, str) for value, _place in kind.counted(stored))
    if kind.summary:
        assert kind.summary in SUMMARIES


@pytest.fixture
def forms_app(make_app, tmp_path):
    """An app with one form per registered type, and a staff account."""
    folder = tmp_path / "forms"
    folder.mkdir()
    for name in TYPES:
        raw = definition_raw(name)
        (folder / f"prov-{name}.yaml").write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    app = make_app(FORMSVC_FORMS_DIR=str(folder))
    with app.app_context():
        db.session.add(staff_user())
        db.session.commit()
    return app


def post(client, slug: str, values: list[str]):
    page = client.get(f"/f/{slug}")
    return client.post(f"/f/{slug}", data=MultiDict([*hidden_values(page.get_data(as_text=True)).items(),
                                                    *(("q", value) for value in values)]))


def test_every_type_on_the_page_in_results_and_export(forms_app):
    """Each type drawn by its macro, a bad answer refused next to it (the error summary links to an element
    that exists), a good one stored, shown in its summary and exported under its label."""
    client = forms_app.test_client()
    for name in TYPES:
        kind, slug = FIELD_TYPES[name], f"prov-{name}"
        page = client.get(f"/f/{slug}").get_data(as_text=True)
        assert 'name="q"' in page, name
        refused = post(client, slug, kind.examples.bad)
        assert refused.status_code == 422, name
        html = refused.get_data(as_text=True)
        assert 'id="q-error"' in html, name
        target = re.search(r"<a href=\"#([^\"]+)\"", html[html.index("error-summary-title") :]).group(1)
        assert f'id="{target}"' in html, (name, target)
        assert post(client, slug, kind.examples.good).status_code == 303, name

    from conftest import STAFF_EMAIL, STAFF_PASSWORD

    assert login(client, STAFF_EMAIL, STAFF_PASSWORD).status_code == 303
    for name in TYPES:
        kind, slug = FIELD_TYPES[name], f"prov-{name}"
        with forms_app.app_context():
            checked = next(d for d in forms_app.extensions["formsvc_catalog"] if d.slug == slug)
            results = form_results(checked)
        assert [q.kind for q in results.questions] == ([kind.summary] if kind.summary else []), name
        results_page = client.get(f"/staff/forms/{slug}/results")
        assert results_page.status_code == 200, name
        exported = client.get(f"/staff/forms/{slug}/export.csv")
        assert exported.status_code == 200, name
        rows = list(csv.reader(io.StringIO(exported.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
        header_row = next(row for row in rows if kind.examples.settings["label"] in " ".join(row))
        assert len(rows) >= 2 and header_row, name
