"""Drafts, publishing, history and rollback (formsvc/editor/publishing.py), and the rules that keep
answers readable when a form changes."""

from __future__ import annotations

import io

import openpyxl
import sqlalchemy as sa
from helpers import submit

from formsvc.audit import AuditEvent
from formsvc.editor import publishing
from formsvc.editor.models import StoredForm
from formsvc.extensions import db
from formsvc.models import FormVersion

ACTOR = "handlaggare@example.org"
FIRST = """title: Provformulär
fields:
  - key: namn
    type: text
    label: Ditt namn
  - key: kommun
    type: text
    label: Kommun
  - key: farg
    type: choice
    label: Favoritfärg
    choices:
      bla: Blå
      rod: Röd
"""


def _publish(app, text: str, slug: str = "prov"):
    with app.app_context():
        definition, problems = publishing.publish(slug, text, ACTOR)
        db.session.commit()
        return definition, problems


def _draft(app, text: str, slug: str = "prov"):
    with app.app_context():
        definition, problems = publishing.save_draft(slug, text, ACTOR)
        db.session.commit()
        return definition, problems


def test_a_draft_is_checked_kept_apart_and_published(app, client):
    """Bad input: a draft whose choice field has no options; its error names the field and setting."""
    _publish(app, FIRST)
    broken = FIRST.replace("    choices:\n      bla: Blå\n      rod: Röd\n", "")
    definition, problems = _draft(app, broken)
    assert definition is None and problems[0].field_key == "farg" and problems[0].at
    with app.app_context():
        assert db.session.scalar(sa.select(StoredForm.draft).filter_by(slug="prov")) is None

    _draft(app, FIRST.replace("Provformulär", "Nytt namn"))
    assert "Provformulär" in client.get("/f/prov").get_data(as_text=True)  # a draft is not served
    with app.app_context():
        definition, problems = publishing.publish_draft("prov", ACTOR)
        db.session.commit()
        assert problems == [] and definition.title == "Nytt namn"
        assert db.session.scalar(sa.select(StoredForm.draft).filter_by(slug="prov")) is None
        row = db.session.scalar(sa.select(FormVersion).filter_by(form_slug="prov", version=definition.version))
        assert "Nytt namn" in row.text
        assert [p.by for p in publishing.history("prov")] == [ACTOR, ACTOR]
    assert "Nytt namn" in client.get("/f/prov").get_data(as_text=True)


def test_an_option_key_cannot_change_once_answered_but_its_label_can(app, client):
    """Bad input: the option bla renamed to key blaa (same label) after an answer picked it."""
    _publish(app, FIRST)
    renamed_key = FIRST.replace("bla: Blå", "blaa: Blå")
    assert _publish(app, renamed_key)[1] == []  # no answers yet: allowed
    _publish(app, FIRST)
    assert submit(client, "prov", {"namn": "Kim", "kommun": "Sala", "farg": "bla"}).status_code == 303

    definition, problems = _publish(app, renamed_key)
    assert definition is None
    assert problems[0].field_key == "farg" and "nyckeln ”bla”" in problems[0].message("sv")
    assert "key 'bla'" in problems[0].message("en")
    # bad input: the same through `formsvc forms import`
    result = app.test_cli_runner().invoke(args=["forms", "import", _file(app, renamed_key)])
    assert result.exit_code == 1 and "ED001" in result.output

    definition, problems = _publish(app, FIRST.replace("bla: Blå", "bla: Himmelsblå"))
    assert problems == [] and definition.field("farg").choice_label("bla") == "Himmelsblå"


def _file(app, text: str) -> str:
    path = app.instance_path + "/prov.yaml"
    import os

    os.makedirs(app.instance_path, exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def test_a_removed_question_and_option_stay_with_old_answers_marked_as_removed(app, staff_client):
    _publish(app, FIRST)
    assert submit(staff_client, "prov", {"namn": "Kim", "kommun": "Sala", "farg": "rod"}).status_code == 303
    without = FIRST.replace("  - key: kommun\n    type: text\n    label: Kommun\n", "").replace("      rod: Röd\n", "")
    assert _publish(app, without)[1] == []

    page = staff_client.get("/f/prov").get_data(as_text=True)
    assert "Kommun" not in page and "Röd" not in page  # hidden from new visitors
    assert submit(staff_client, "prov", {"namn": "Lo", "farg": "bla"}).status_code == 303

    with app.app_context():
        reference = db.session.scalar(sa.text("SELECT reference FROM responses ORDER BY id LIMIT 1"))
    answer = staff_client.get(f"/staff/forms/prov/responses/{reference}").get_data(as_text=True)
    assert "Kommun (borttagen)" in answer and "Sala" in answer
    sheet = openpyxl.load_workbook(io.BytesIO(staff_client.get("/staff/forms/prov/export.xlsx").data)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert "Kommun (borttagen)" in rows[0]
    assert "Röd (borttagen)" in rows[1] or "Röd (borttagen)" in rows[2]
    results = staff_client.get("/staff/forms/prov/results").get_data(as_text=True)
    assert "Röd (borttagen)" in results and "Blå" in results


def test_history_diff_and_rollback(app, client):
    first, _ = _publish(app, FIRST)
    changed = FIRST.replace("Provformulär", "Enkät").replace("      rod: Röd\n", "      rod: Röd\n      gron: Grön\n")
    changed = changed.replace("  - key: kommun\n    type: text\n    label: Kommun\n", "")
    changed = changed.replace("    label: Ditt namn\n", "    label: Ditt namn\n    required: true\n")
    second, _ = _publish(app, changed.replace("bla: Blå", "bla: Ljusblå"))
    with app.test_request_context():
        lines = publishing.diff(first, second)
    assert "Rubrik: ”Provformulär” blev ”Enkät”." in lines
    assert "Frågan ”Kommun” (kommun) togs bort." in lines
    assert "Frågan ”Favoritfärg”: nytt alternativ ”Grön” (gron)." in lines
    assert "Frågan ”Favoritfärg”: alternativet ”Blå” heter nu ”Ljusblå”." in lines
    assert "Frågan ”Ditt namn”: obligatorisk ”nej” blev ”ja”." in lines

    with app.app_context():
        definition, problems = publishing.rollback("prov", first.version, "annan@example.org")
        db.session.commit()
        assert problems == [] and definition.version == first.version
        history = publishing.history("prov")
        assert [(p.action, p.version, p.by) for p in history] == [
            ("form_rollback", first.version, "annan@example.org"),
            ("form_publish", second.version, ACTOR),
            ("form_publish", first.version, ACTOR),
        ]
        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "form_rollback")) == 1
    assert "Provformulär" in client.get("/f/prov").get_data(as_text=True)
