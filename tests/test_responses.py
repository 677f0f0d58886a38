"""Responses for staff: the list a page at a time, one answer in full, deleting with a confirmation step,
the organisations that have answered, and the audit log."""

from __future__ import annotations

import re

import sqlalchemy as sa
from helpers import csrf_token, open_to_all, submit, text_of

from formsvc.answers import store_answer
from formsvc.audit import AuditEvent
from formsvc.catalog import catalog
from formsvc.definitions import parse_definition
from formsvc.extensions import db
from formsvc.models import AnswerValue, Organisation, Response

VOTE = {"prioriteringar": ["folkhalsa", "barnratt", "demokrati"], "motivering": "Viktigast först."}


def references(app, slug="prioritering") -> list[str]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Response.reference).filter_by(form_slug=slug).order_by(Response.id)))


def test_the_list_pages_through_every_answer_newest_first(app, client, staff_client):
    open_to_all(app)
    for n in range(55):
        assert submit(client, "prioritering", {**VOTE, "motivering": f"Svar {n}"}).status_code == 303
    refs = references(app)
    first = staff_client.get("/staff/forms/prioritering/responses")
    assert first.status_code == 200
    page = text_of(first)
    assert "55 svar" in page and "Sida 1 av 2" in page and "Nästa sida" in page
    shown = re.findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}", page)
    assert shown[:50] == list(reversed(refs))[:50]
    second = text_of(staff_client.get("/staff/forms/prioritering/responses?page=2"))
    assert re.findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}", second) == list(reversed(refs))[50:]
    assert "Föregående sida" in second
    # A page past the end or a page that is not a number is not an error.
    assert staff_client.get("/staff/forms/prioritering/responses?page=99").status_code == 200
    assert staff_client.get("/staff/forms/prioritering/responses?page=x").status_code == 200


def test_one_answer_in_full_with_labels(app, client, staff_client):
    open_to_all(app)
    assert submit(client, "prioritering", VOTE).status_code == 303
    [reference] = references(app)
    page = text_of(staff_client.get(f"/staff/forms/prioritering/responses/{reference}"))
    assert f"Svar {reference}" in page
    assert "1. Folkhälsa och jämlik hälsa, 2. Barnrättsperspektivet, 3. Demokrati och delaktighet" in page
    assert "Viktigast först." in page and "Aktuellt" in page
    assert staff_client.get("/staff/forms/prioritering/responses/ABCD-EFGH").status_code == 404
    assert staff_client.get(f"/staff/forms/anslutning/responses/{reference}").status_code == 404


def test_an_old_answer_is_shown_with_the_questions_of_its_version(app, staff_client):
    older = parse_definition(
        {
            "title": "Prioritering, första versionen",
            "fields": [
                {"key": "prioriteringar", "type": "ranking", "label": "Rangordna två", "rank": 2,
                 "choices": {"skola": "Skolan", "folkhalsa": "Folkhälsa"}},
                {"key": "ort", "type": "text", "label": "Var bor du?"},
            ],
        },
        "prioritering",
    )
    with app.test_request_context():
        response, _ = store_answer(older, {"prioriteringar": ["skola", "folkhalsa"], "ort": "Sala"}, "old-1")
        reference = response.reference
    page = text_of(staff_client.get(f"/staff/forms/prioritering/responses/{reference}"))
    assert "tidigare version av formuläret" in page
    assert "Rangordna två 1. Skolan, 2. Folkhälsa" in page
    assert "Var bor du? (borttagen) Sala" in page  # the current version no longer asks it


def test_delete_asks_first_then_deletes_and_writes_the_log(app, client, staff_client):
    open_to_all(app)
    for _ in range(2):
        assert submit(client, "prioritering", VOTE).status_code == 303
    gone, kept = references(app)
    confirm = staff_client.get(f"/staff/forms/prioritering/responses/{gone}/delete")
    assert confirm.status_code == 200 and "Det går inte att ångra" in text_of(confirm)
    assert references(app) == [gone, kept]  # asking deletes nothing
    # A POST without the CSRF token is refused and deletes nothing.
    refused = staff_client.post(f"/staff/forms/prioritering/responses/{gone}/delete")
    assert refused.status_code == 400 and references(app) == [gone, kept]
    token = csrf_token(staff_client, f"/staff/forms/prioritering/responses/{gone}/delete")
    deleted = staff_client.post(f"/staff/forms/prioritering/responses/{gone}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert deleted.headers["Location"] == "/staff/forms/prioritering/responses"
    assert f"Svaret {gone} är raderat" in text_of(staff_client.get(deleted.headers["Location"]))
    assert references(app) == [kept]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(AnswerValue.id))) == 3  # only the kept answer's
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="delete_response"))
        assert event.target == gone and event.actor == "handlaggare@example.org"
        assert event.detail["form"] == "prioritering"
    assert "1 aktuellt svar" in text_of(staff_client.get("/staff/forms/prioritering/results"))
    assert staff_client.post(f"/staff/forms/prioritering/responses/{gone}/delete",
                             data={"csrf_token": token}).status_code == 404


def test_organisations_that_have_answered_and_those_that_have_not(app, client, staff_client):
    with app.app_context():
        db.session.add_all(
            Organisation(name=name, name_key=name.lower(), type=kind)
            for name, kind in [("Sala kommun", "kommun"), ("Polisen", "myndighet"), ("Rädda Barnen", "civilsamhalle")]
        )
        db.session.commit()
    base = {"organisationstyp": "", "kontaktperson": "Kim", "epost": "kim@example.org",
            "fokusomraden": ["makt"], "samtycke": "y"}
    for name in ("Sala kommun", "Byalaget Norr"):
        answers = {**base, "organisation": name, "organisationstyp": "" if name == "Sala kommun" else "annan"}
        assert submit(client, "anslutning", answers).status_code == 303
    page = text_of(staff_client.get("/staff/forms/anslutning/organisations"))
    answered = page[page.index("Har svarat") : page.index("Har inte svarat")]
    assert "Sala kommun Kommun" in answered and "Byalaget Norr Inte i registret" in answered
    missing = page[page.index("Har inte svarat") :]
    assert "Polisen" in missing and "Rädda Barnen" in missing and "Sala kommun" not in missing
    # A form with no organisation question has no such page.
    assert staff_client.get("/staff/forms/prioritering/organisations").status_code == 404


def test_the_audit_log_shows_logins_exports_and_deletions(app, client, staff_client):
    open_to_all(app)
    assert submit(client, "prioritering", VOTE).status_code == 303
    [reference] = references(app)
    assert staff_client.get("/staff/forms/prioritering/export.csv").status_code == 200
    token = csrf_token(staff_client, f"/staff/forms/prioritering/responses/{reference}/delete")
    staff_client.post(f"/staff/forms/prioritering/responses/{reference}/delete", data={"csrf_token": token})
    page = text_of(staff_client.get("/staff/audit"))
    assert "Inloggning" in page and "Export" in page and "Raderat svar" in page
    assert page.count("handlaggare@example.org") >= 3 and reference in page


def test_pages_about_a_form_show_its_tabs(app, staff_client):
    with app.app_context():
        definition = catalog().get("anslutning")
    html = staff_client.get("/staff/forms/anslutning/responses").get_data(as_text=True)
    assert definition.title in html
    for href in ("/staff/forms/anslutning/results", "/staff/forms/anslutning/organisations",
                 "/staff/forms/anslutning/export.xlsx", "/staff/forms/anslutning/export.csv"):
        assert f'href="{href}"' in html
    assert 'aria-current="page"' in html
