"""Retention and erasure: answers past their form's time are anonymised or deleted by `formsvc purge`,
which logs what it did; staff see what is due. And the accessibility statement with its report form."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from helpers import flush_mail, submit, text_of

from formsvc.audit import AuditEvent
from formsvc.config import resource_dir
from formsvc.definitions import DefinitionError, load_directory, parse_definition
from formsvc.extensions import db
from formsvc.mail import SENT, OutboxMessage
from formsvc.models import AnswerValue, Response, utcnow

ANSLUTNING = {
    "organisation": "Exempelkommunen", "organisationstyp": "kommun", "kontaktperson": "Ada Andersson",
    "epost": "ada@example.org", "telefon": "021-123 45 67", "fokusomraden": ["makt", "halsa"],
    "nyhetsbrev": "ja", "samtycke": "y",
}
TEST_FORM = """
title: Anmälan till seminarium
retention_days: 10
retention_action: delete
fields:
  - {key: namn, type: text, label: Namn, required: true}
  - {key: mat, type: choice, label: Mat, choices: {kott: Kött, vego: Vegetariskt}}
"""


@pytest.fixture
def forms_dir(tmp_path) -> Path:
    folder = tmp_path / "forms"
    shutil.copytree(resource_dir("forms"), folder)
    (folder / "seminarium.yaml").write_text(TEST_FORM, encoding="utf-8")
    return folder


@pytest.fixture
def retention_app(make_app, forms_dir):
    return make_app(FORMSVC_FORMS_DIR=str(forms_dir))


def age(app, reference: str, days: int) -> None:
    """Make an answer look as if it was given this many days ago."""
    with app.app_context():
        db.session.execute(
            sa.update(Response).filter_by(reference=reference).values(submitted_at=utcnow() - timedelta(days=days))
        )
        db.session.commit()


def reference_of(response) -> str:
    assert response.status_code == 303
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_every_shipped_form_states_how_long_its_answers_are_kept():
    for definition in load_directory(resource_dir("forms")).values():
        assert definition.retention_days, f"{definition.slug} has no retention_days"
        assert definition.retention_action in {"anonymise", "delete"}


def test_a_retention_action_that_is_not_known_is_refused_naming_the_file():
    raw = {"title": "T", "retention_days": 5, "retention_action": "forget", "fields": [
        {"key": "a", "type": "text", "label": "A"}]}
    with pytest.raises(DefinitionError, match="x.yaml: FS023 'retention_action' must be 'anonymise' or 'delete'"):
        parse_definition(raw, slug="x", source="x.yaml")


def test_purge_anonymises_old_answers_keeps_what_they_counted_and_logs_it(retention_app, smtp):
    app, client = retention_app, retention_app.test_client()
    old = reference_of(submit(client, "anslutning", ANSLUTNING))
    new = reference_of(submit(client, "anslutning", {**ANSLUTNING, "epost": "bo@example.org"}))
    age(app, old, 1096)  # anslutning keeps answers 1095 days
    age(app, new, 1094)

    result = app.test_cli_runner().invoke(args=["purge"])
    assert result.exit_code == 0, result.output
    assert "Did anonymise 1 answer(s) of anslutning." in result.output

    with app.app_context():
        purged = db.session.scalar(sa.select(Response).filter_by(reference=old))
        kept = db.session.scalar(sa.select(Response).filter_by(reference=new))
        for personal in ("kontaktperson", "epost", "telefon"):
            assert purged.answers[personal] is None
        assert purged.answers["organisation"] == "Exempelkommunen"
        assert purged.answers["fokusomraden"] == ["makt", "halsa"]
        assert purged.anonymised_at is not None
        assert kept.answers["epost"] == "bo@example.org" and kept.anonymised_at is None
        # Counts in the results still include the anonymised answer.
        counted = db.session.scalar(
            sa.select(sa.func.count()).select_from(AnswerValue).filter_by(field="fokusomraden", value="makt")
        )
        assert counted == 2
        [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="purge_anonymise")).all()
        assert (event.actor, event.target, event.detail["count"]) == ("system", "anslutning", 1)

    again = app.test_cli_runner().invoke(args=["purge"])
    assert "Nothing is past its retention period." in again.output


def test_purge_deletes_old_answers_of_a_form_that_says_delete(retention_app):
    app, client = retention_app, retention_app.test_client()
    old = reference_of(submit(client, "seminarium", {"namn": "Ada", "mat": "vego"}))
    new = reference_of(submit(client, "seminarium", {"namn": "Bo", "mat": "kott"}))
    age(app, old, 11)
    dry = app.test_cli_runner().invoke(args=["purge", "--dry-run"])
    assert "Would delete 1 answer(s) of seminarium." in dry.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 2  # a dry run changes nothing

    assert "Did delete 1 answer(s) of seminarium." in app.test_cli_runner().invoke(args=["purge"]).output
    with app.app_context():
        assert list(db.session.scalars(sa.select(Response.reference))) == [new]
        assert list(db.session.scalars(sa.select(AnswerValue.value))) == ["kott"]  # its values went with it
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="purge_delete"))
        assert event.detail == {"count": 1, "retention_days": 10, "before": event.detail["before"]}


def test_sent_mail_is_deleted_after_its_time_and_unsent_mail_is_kept(retention_app, smtp):
    app, client = retention_app, retention_app.test_client()
    submit(client, "nyhetsbrev", {"epost": "ada@example.org", "samtycke": "y"})
    flush_mail(app)
    submit(client, "nyhetsbrev", {"epost": "bo@example.org", "samtycke": "y"})  # not sent yet
    with app.app_context():
        db.session.execute(sa.update(OutboxMessage).values(created_at=utcnow() - timedelta(days=31)))
        db.session.commit()
    result = app.test_cli_runner().invoke(args=["purge"])
    assert "Did delete 1 sent mail(s) from the outbox." in result.output
    with app.app_context():
        assert [m.recipient for m in db.session.scalars(sa.select(OutboxMessage))] == ["bo@example.org"]
        assert db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)).filter_by(status=SENT)) == 0


def test_staff_see_what_is_due_per_form(retention_app, staff):
    from helpers import login

    app = retention_app
    client = app.test_client()
    old = reference_of(submit(client, "seminarium", {"namn": "Ada", "mat": "vego"}))
    submit(client, "seminarium", {"namn": "Bo", "mat": "kott"})
    age(app, old, 12)
    login(client, *staff)
    page = client.get("/staff/retention")
    assert page.status_code == 200
    text = text_of(page)
    assert "Anmälan till seminarium 10 dagar raderas 1 0" in text
    assert "jämställdhetsintegrering 1095 dagar avidentifieras 0 0" in text


def test_the_accessibility_statement_leads_to_the_report_form_which_reaches_the_secretariat(app, client, smtp):
    statement = client.get("/tillganglighet")
    assert statement.status_code == 200
    text = text_of(statement)
    for part in ("Tillgänglighetsredogörelse", "WCAG 2.1", "Rapportera ett tillgänglighetsproblem", "Digg"):
        assert part in text
    assert 'href="/f/tillganglighet"' in statement.get_data(as_text=True)

    report = {"sida": "/f/anslutning", "problem": "Knappen syns inte i högkontrastläge.", "epost": "ada@example.org"}
    assert submit(client, "tillganglighet", report).status_code == 303
    flush_mail(app)
    [notice] = smtp.to("sekretariat@example.org")
    assert "Knappen syns inte i högkontrastläge." in notice.get_body(("plain",)).get_content()
    assert len(smtp.to("ada@example.org")) == 1  # a copy to the reporter who left an address
    anonymous = {"problem": "Texten är svår att läsa."}
    assert submit(client, "tillganglighet", anonymous).status_code == 303  # no contact details needed
