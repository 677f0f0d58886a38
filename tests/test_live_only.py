"""The workshop vote cannot be stuffed: /f/prioritering (live_only) takes votes only inside a live round or
through a personal link, once; its results and export count the form's votes and the rounds' together."""

from __future__ import annotations

import io
import re
from datetime import datetime

import pytest
import sqlalchemy as sa
from helpers import csrf_token, hidden_values, personal_link_client, submit, text_of
from openpyxl import load_workbook

from formsvc.definitions import DefinitionError
from formsvc.definitions.loader import parse_definition
from formsvc.extensions import db
from formsvc.live.models import LiveRound, LiveVote
from formsvc.models import Organisation, Response, name_key

VOTE = {"prioriteringar": ["folkhalsa", "barnratt", "demokrati"], "motivering": "Viktigast först."}


def stored_votes(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Response.id)).filter_by(form_slug="prioritering"))


def add_organisation(app, name: str = "Sala kommun") -> str:
    with app.app_context():
        db.session.add(Organisation(name=name, name_key=name_key(name), type="kommun"))
        db.session.commit()
    return name


def start_round(app, staff_client) -> tuple[int, str]:
    """A round of prioritering, one vote per device, started as staff would; returns (id, join code)."""
    token = csrf_token(staff_client, "/staff/live/")
    response = staff_client.post("/staff/live/", data={
        "csrf_token": token, "question": "prioritering:prioriteringar", "mode": "device", "title": "Rådsmöte"})
    assert response.status_code == 303, text_of(response)
    round_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        return round_id, db.session.get(LiveRound, round_id).join_code


def live_vote(app, code: str, ranking: list[str]):
    """A new phone opens the round and votes."""
    phone = app.test_client()
    page = phone.get(f"/live/{code}")
    assert page.status_code == 200
    return phone.post(f"/live/{code}", data={**hidden_values(page.get_data(as_text=True)), "prioriteringar": ranking})


def test_the_open_address_points_to_the_join_code_and_stores_nothing(app):
    visitor = app.test_client()
    page = visitor.get("/f/prioritering")
    assert page.status_code == 403
    text = text_of(page)
    assert "Den här omröstningen görs under mötet" in text and "Skriv mötets kod" in text
    assert 'href="/live/"' in page.get_data(as_text=True)
    assert 'name="prioriteringar"' not in page.get_data(as_text=True)

    # Stuffing: the same browser posts a valid vote ten times, with a good CSRF token and new submission keys.
    token = hidden_values(visitor.get("/f/nyhetsbrev").get_data(as_text=True))["csrf_token"]
    for n in range(10):
        sent = visitor.post("/f/prioritering", data={**VOTE, "csrf_token": token, "submission_key": f"key-{n:02d}"})
        assert sent.status_code == 403 and "Skriv mötets kod" in text_of(sent)
    # And without a token: the same clear page, not the form.
    bare = app.test_client().post("/f/prioritering", data=VOTE)
    assert bare.status_code == 403 and "Skriv mötets kod" in text_of(bare)
    assert stored_votes(app) == 0


def test_a_live_round_vote_still_works(app, staff_client):
    round_id, code = start_round(app, staff_client)
    response = live_vote(app, code, ["folkhalsa", "integration", "barnratt"])
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/live/{code}/tack")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LiveVote.id)).filter_by(round_id=round_id)) == 1


def test_a_personal_link_votes_once(app):
    voter = personal_link_client(app, "prioritering", add_organisation(app))
    page = voter.get("/f/prioritering")
    assert page.status_code == 200 and 'name="prioriteringar"' in page.get_data(as_text=True)
    form = hidden_values(page.get_data(as_text=True))
    sent = voter.post("/f/prioritering", data={**form, **VOTE})
    assert sent.status_code == 303
    # The same POST again (a double click) leads to the same receipt and stores nothing more.
    again = voter.post("/f/prioritering", data={**form, **VOTE})
    assert again.status_code == 303 and again.headers["Location"] == sent.headers["Location"]

    # The link now shows the vote given; a second vote (a new submission key) is refused.
    shown = voter.get("/f/prioritering")
    assert "Du har redan röstat" in text_of(shown) and "Folkhälsa och jämlik hälsa" in text_of(shown)
    other = {**form, "submission_key": "a-new-key", "prioriteringar": ["integration", "demokrati", "barnratt"]}
    refused = voter.post("/f/prioritering", data=other)
    assert refused.status_code == 409 and "Du har redan röstat" in text_of(refused)
    assert stored_votes(app) == 1


def test_results_page_and_export_count_the_form_and_the_rounds_together(app, staff_client):
    voter = personal_link_client(app, "prioritering", add_organisation(app))
    assert submit(voter, "prioritering", VOTE).status_code == 303  # folkhälsa 3, barnrätt 2, demokrati 1
    _, code = start_round(app, staff_client)
    assert live_vote(app, code, ["folkhalsa", "integration", "barnratt"]).status_code == 303
    assert live_vote(app, code, ["demokrati", "folkhalsa", "barnratt"]).status_code == 303

    page = text_of(staff_client.get("/staff/forms/prioritering/results"))
    together = page[page.index("Formuläret och omröstningarna tillsammans"):]
    assert "3 röster sammanlagt: 1 via formuläret, 2 i omröstningar under möten" in together
    assert re.search(r"Rådsmöte \(" + code + r"\) .* 2 Ja", together)
    # Points 3-2-1 over all three votes: folkhälsa 3+3+2, barnrätt 2+1+1, demokrati 1+3, integration 2.
    assert re.search(r"1 Folkhälsa och jämlik hälsa 8 3", together)
    assert re.search(r"2 \(delad\) Barnrättsperspektivet 4 3", together)
    assert re.search(r"2 \(delad\) Demokrati och delaktighet 4 2", together)

    book = load_workbook(io.BytesIO(staff_client.get("/staff/forms/prioritering/export.xlsx").data))
    assert "Omröstningar" in book.sheetnames
    rows = [tuple(v for v in row if v is not None) for row in book["Omröstningar"].iter_rows(values_only=True)]
    assert ("Röster sammanlagt", 3) in rows and ("Via formuläret", 1) in rows
    [round_row] = [r for r in rows if code in r]
    assert round_row[0] == "Rådsmöte" and isinstance(round_row[2], datetime) and round_row[-2:] == (2, "Ja")
    ranking = rows[rows.index(("Alternativ", "Poäng", "Omnämnanden", "Plats", "Delad plats")) + 1:][:3]
    assert ranking == [("Folkhälsa och jämlik hälsa", 8, 3, 1, "Nej"), ("Barnrättsperspektivet", 4, 3, 2, "Ja"),
                       ("Demokrati och delaktighet", 4, 2, 2, "Ja")]


def test_a_form_without_rounds_has_no_combined_part(app, staff_client):
    assert "tillsammans" not in text_of(staff_client.get("/staff/forms/prioritering/results"))
    book = load_workbook(io.BytesIO(staff_client.get("/staff/forms/prioritering/export.xlsx").data))
    assert "Omröstningar" not in book.sheetnames


RANKING = {"key": "val", "type": "ranking", "label": "Val", "rank": 1, "choices": {"a": "A", "b": "B"}}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ({"live_only": "ja", "fields": [RANKING]}, "'live_only' must be true or false"),
        ({"live_only": True, "fields": [{"key": "t", "type": "text", "label": "T"}]}, "needs a field of type ranking"),
        ({"live_only": True, "open_link": True, "fields": [RANKING]}, "contradict"),
    ],
)
def test_bad_live_only_settings_are_refused_at_load(raw, reason):
    with pytest.raises(DefinitionError, match=re.escape(reason)):
        parse_definition({"title": "Test", **raw}, "test", "forms/test.yaml")


def test_live_only_closes_the_open_link():
    definition = parse_definition({"title": "Test", "live_only": True, "fields": [RANKING]}, "test")
    assert definition.live_only and not definition.open_link
