"""Form definitions: the shipped forms load; a wrong definition is refused naming file, field and reason."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from formsvc import create_app, definitions
from formsvc.catalog import forms_cli
from formsvc.config import resource_dir
from formsvc.definitions import DefinitionError, build_form_class, load_directory, load_file, parse_definition

GOOD = {
    "title": "Test",
    "fields": [
        {"key": "namn", "type": "text", "label": "Namn", "required": True},
        {"key": "val", "type": "choice", "label": "Val", "choices": {"a": "A", "b": "B"}},
    ],
}


def with_fields(*fields, **top):
    return {"title": "Test", "fields": list(fields), **top}


def test_shipped_forms_load_with_their_rules():
    forms = load_directory(resource_dir("forms"))
    assert {"anslutning", "nominering", "nyhetsbrev", "prioritering"} <= set(forms)
    focus = forms["anslutning"].field("fokusomraden")
    assert focus.required and focus.type == "multichoice"
    assert [c.key for c in focus.choices] == ["makt", "ekonomi", "utbildning", "omsorg", "halsa", "vald"]
    assert forms["prioritering"].field("prioriteringar").rank == 3
    assert forms["nominering"].closes is not None
    assert forms["nominering"].rules[0].fields == ("ledamot_epost", "ersattare_epost")


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        (with_fields({"key": "x", "type": "slider", "label": "X"}), "x", "unknown field type 'slider'"),
        (
            with_fields({"key": "x", "type": "text", "label": "X"}, {"key": "x", "type": "email", "label": "Y"}),
            "x",
            "used by another field",
        ),
        (with_fields({"key": "x", "type": "choice", "label": "X"}), "x", "needs 'choices'"),
        (with_fields({"key": "x", "type": "multichoice", "label": "X", "choices": {}}), "x", "non-empty mapping"),
        (with_fields({"key": "x", "type": "text", "label": "X"}, closes="31 juni"), None, "'closes' is not a date"),
        (with_fields({"key": "x", "type": "text", "label": "X"}, opens="2026-13-01"), None, "'opens' is not a date"),
        (with_fields({"key": "x", "type": "text", "label": "X", "colour": "red"}), "x", "unknown setting(s): colour"),
        (
            with_fields({"key": "r", "type": "ranking", "label": "R", "rank": 3, "choices": {"a": "A", "b": "B"}}),
            "r",
            "'rank' is larger",
        ),
        (with_fields({"key": "r", "type": "ranking", "label": "R", "choices": {"a": "A"}}), "r", "needs 'rank'"),
        (
            with_fields({"key": "m", "type": "multichoice", "label": "M", "min": 3, "max": 2, "choices": {"a": "A"}}),
            "m",
            "'min' is larger than 'max'",
        ),
        (with_fields({"key": "Bad-Key", "type": "text", "label": "X"}), "#1", "'key' must be"),
        (with_fields({"key": "website", "type": "text", "label": "X"}), "website", "reserved"),
        (with_fields({"key": "x", "type": "text"}), "x", "'label' is missing"),
        (
            with_fields({"key": "x", "type": "text", "label": "X"}, mails=[{"template": "kvitto", "to": "x"}]),
            None,
            "'to' must be an email field",
        ),
        (
            with_fields({"key": "x", "type": "text", "label": "X"}, rules=[{"different": ["x", "y"], "message": "m"}]),
            None,
            "must name two fields",
        ),
        (
            with_fields({"key": "x", "type": "text", "label": "X"}, opens="2026-05-01", closes="2026-04-01"),
            None,
            "'closes' must come after 'opens'",
        ),
        ({"fields": []}, None, "'title' is missing"),
        # `person`: the fields about the person behind an address; free text only, on e-mail fields only.
        (with_fields({"key": "e", "type": "email", "label": "E", "person": ["namn"]}), "e", "person 'namn' must"),
        (
            with_fields({"key": "e", "type": "email", "label": "E", "person": ["v"]},
                        {"key": "v", "type": "choice", "label": "V", "choices": {"a": "A"}}),
            "e",
            "person 'v' must name another field of type text, textarea, phone",
        ),
        (with_fields({"key": "e", "type": "email", "label": "E", "person": "namn"}), "e", "a list of field keys"),
        (with_fields({"key": "t", "type": "text", "label": "T", "person": ["x"]}), "t", "email fields only"),
        # Control characters, which YAML lets in through escapes ("\0"): never in text a person reads.
        ({**with_fields({"key": "x", "type": "text", "label": "X"}), "title": "Prov\x00"}, None,
         "title holds the control character '\\x00'"),
        (with_fields({"key": "x", "type": "text", "label": "X\x1b[31m"}), None,
         "fields.0.label holds the control character '\\x1b'"),
    ],
)
def test_bad_definitions_are_refused_with_field_and_reason(raw, field, reason):
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw, slug="prov", source="forms/prov.yaml")
    assert caught.value.source == "forms/prov.yaml"
    assert caught.value.field_key == field
    assert reason in caught.value.reason
    assert str(caught.value).startswith("forms/prov.yaml")


def test_a_closing_date_includes_the_whole_day():
    definition = parse_definition({**GOOD, "closes": "2026-09-04"}, slug="prov")
    assert definition.last_day.isoformat() == "2026-09-04"
    assert definition.closes.isoformat() == "2026-09-05T00:00:00+02:00"


def test_the_version_changes_with_the_content_only():
    first = parse_definition(GOOD, slug="prov")
    again = parse_definition(yaml.safe_load(yaml.safe_dump(GOOD)), slug="prov")
    changed = parse_definition({**GOOD, "title": "Test 2"}, slug="prov")
    assert first.version == again.version != changed.version


def test_each_definition_gets_its_own_form_class():
    one = build_form_class(parse_definition(GOOD, slug="one"))
    two = build_form_class(parse_definition(with_fields({"key": "epost", "type": "email", "label": "E"}), slug="two"))
    assert one is not two
    assert hasattr(one, "namn") and not hasattr(two, "namn")


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def test_forms_check_exits_nonzero_naming_file_field_and_reason(tmp_path):
    write(tmp_path, "bra.yaml", "title: Bra\nfields:\n  - {key: a, type: text, label: A}\n")
    write(tmp_path, "fel.yaml", "title: Fel\nfields:\n  - {key: a, type: stars, label: A}\n")
    write(tmp_path, "tom.yaml", "title: Tom\nfields:\n  - {key: a, type: choice, label: A}\n")
    result = subprocess.run(
        [sys.executable, "-m", "formsvc.cli", "forms", "check", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 1
    # file:line:column: code, as compilers and pyxform write it: the line and column of the node it is about
    assert f"{tmp_path / 'fel.yaml'}:3:14: FS034 field 'a': unknown field type 'stars'" in result.stderr
    assert f"{tmp_path / 'tom.yaml'}:3:14: FS036 field 'a': a choice field needs 'choices'" in result.stderr
    assert "bra.yaml" not in result.stderr
    swedish = subprocess.run(
        [sys.executable, "-m", "formsvc.cli", "forms", "check", "--language", "sv", str(tmp_path / "tom.yaml")],
        capture_output=True, text=True,
    )
    assert swedish.returncode == 1
    expected = f"{tmp_path / 'tom.yaml'}:3:14: FS036 fältet ”a”: ett fält av typen choice behöver ”choices”"
    assert expected in swedish.stderr


def test_forms_check_accepts_the_shipped_forms():
    from click.testing import CliRunner

    result = CliRunner().invoke(forms_cli, ["check"])
    assert result.exit_code == 0, result.output
    assert "form definitions are valid" in result.output


def test_a_control_character_written_as_a_yaml_escape_is_refused(tmp_path):
    path = write(tmp_path, "styr.yaml", 'title: "Prov\\0"\nfields:\n  - {key: x, type: text, label: X}\n')
    with pytest.raises(DefinitionError, match=r"styr.yaml:1:1: FS004 title holds the control character '\\x00'"):
        load_file(path)


def test_a_yaml_syntax_error_names_the_file(tmp_path):
    path = write(tmp_path, "trasig.yaml", "title: [unclosed\n")
    with pytest.raises(DefinitionError, match="trasig.yaml:2:1: FS001 cannot read the file"):
        load_file(path)


def test_a_bad_definition_stops_start_up(tmp_path):
    write(tmp_path, "fel.yaml", "title: Fel\nfields:\n  - {key: a, type: text, label: A, required: maybe}\n")
    with pytest.raises(DefinitionError, match=r"fel.yaml:3:36: FS013 field 'a': 'required' must be true or false"):
        create_app({"TESTING": True, "FORMSVC_FORMS_DIR": str(tmp_path), "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_definitions_package_knows_nothing_of_flask():
    folder = Path(definitions.__file__).parent
    imported = set()
    for path in folder.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert "wtforms" in imported  # the check sees imports at all
    assert not {name for name in imported if name.startswith("flask")}


# --- form content read by features: roster, mail images, the newsletter's sign-up form ---------------------

PEOPLE_FIELDS = [
    {"key": "namn", "type": "text", "label": "Namn"},
    {"key": "epost", "type": "email", "label": "E-post"},
    {"key": "telefon", "type": "phone", "label": "Telefon"},
    {"key": "val", "type": "choice", "label": "Val", "choices": {"a": "A"}},
]
PERSON = {"role": "Ledamot", "name": "namn", "email": "epost"}


@pytest.mark.parametrize(
    ("top", "reason"),
    [
        ({"roster": {"people": []}}, "'roster' must be a mapping with 'people'"),
        ({"roster": {"people": [{**PERSON, "role": ""}]}}, "person 1 needs 'role'"),
        ({"roster": {"people": [{**PERSON, "name": "saknas"}]}}, "'name' must name a field of type text, not 'saknas'"),
        ({"roster": {"people": [{**PERSON, "email": "namn"}]}}, "person 1: 'email' must name a field of type email"),
        ({"roster": {"people": [{**PERSON, "phone": "val"}]}}, "person 1: 'phone' must name a field of type phone"),
        ({"roster": {"people": [{**PERSON, "fax": "telefon"}]}}, "person 1: unknown setting(s): fax"),
        ({"roster": {"people": [PERSON], "other": "kommentar"}}, "'other' must name a field of this form"),
        ({"roster": {"people": [PERSON], "colour": "red"}}, "unknown setting(s): colour"),
        ({"mails": [{"template": "kvitto", "to": "epost", "images": ["logo.gif"]}]}, "'images' must be a list of"),
        ({"mails": [{"template": "kvitto", "to": "epost", "images": "sticker.png"}]}, "'images' must be a list of"),
        ({"newsletter": {"email": "epost", "sign_up": "ja"}}, "'newsletter: sign_up' must be true or false"),
    ],
)
def test_a_bad_roster_image_or_sign_up_setting_is_refused_naming_file_and_reason(top, reason):
    with pytest.raises(DefinitionError) as error:
        parse_definition({"title": "T", "fields": PEOPLE_FIELDS, **top}, slug="prov", source="forms/prov.yaml")
    assert str(error.value).startswith("forms/prov.yaml") and reason in str(error.value)


def test_roster_images_and_sign_up_are_read_and_kept_with_the_stored_version():
    top = {
        "roster": {"people": [{**PERSON, "phone": "telefon"}], "other": "val"},
        "mails": [{"template": "kvitto", "to": "epost", "images": ["sticker.png"]}],
        "newsletter": {"email": "epost", "sign_up": True},
    }
    definition = parse_definition({"title": "T", "fields": PEOPLE_FIELDS, **top}, slug="prov")
    assert definition.roster.people[0].phone == "telefon" and definition.roster.other == "val"
    assert definition.mails[0].images == ("sticker.png",) and definition.newsletter.sign_up is True
    again = definitions.FormDefinition.from_json(definition.as_json(), "prov")
    assert again.roster == definition.roster and again.mails == definition.mails
    plain = parse_definition({"title": "T", "fields": PEOPLE_FIELDS}, slug="prov")
    assert not {"roster", "images", "sign_up"} & set(str(plain.as_json()).replace("'", " ").split())


def test_two_sign_up_forms_are_refused_naming_the_second_file(tmp_path):
    """Bad input: two forms both saying they are where the newsletter's pages send people to sign up."""
    for name in ("a", "b"):
        (tmp_path / f"{name}.yaml").write_text(yaml.safe_dump(
            {"title": name, "fields": PEOPLE_FIELDS, "newsletter": {"email": "epost", "sign_up": True}}))
    with pytest.raises(DefinitionError) as error:
        load_directory(tmp_path)
    assert str(error.value).startswith(str(tmp_path / "b.yaml")) and "a.yaml too" in str(error.value)
    assert len(definitions.check_directory(tmp_path)) == 1


def test_the_shipped_forms_name_their_roster_sticker_and_sign_up_form():
    forms = load_directory(resource_dir("forms"))
    assert [p.role for p in forms["nominering"].roster.people] == ["Ordinarie ledamot", "Fast ersättare"]
    assert forms["nominering"].roster.other == "kommentar"
    assert [m.images for m in forms["anslutning"].mails if m.template == "valkomstpaket"] == [("sticker.png",)]
    assert [slug for slug, d in forms.items() if d.newsletter and d.newsletter.sign_up] == ["nyhetsbrev"]
