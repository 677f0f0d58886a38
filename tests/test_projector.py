"""The projector on the wall: a page of its own (no staff menu), the join code and QR while the round is
open, bars for the points, and a round that hides its results shows no numbers but the count of votes
until it closes: not in the page, the wall, nor tally.json.

Bad input tried: reading the hidden results through each of the three ways (staff page, wall, JSON) while
votes are in; showing and hiding them by hand while the round is open.
"""

from __future__ import annotations

from helpers import csrf_token, text_of
from test_live import start_round, vote

from formsvc.extensions import db
from formsvc.live.models import LiveRound

RANKINGS = [["folkhalsa", "integration", "barnratt"], ["integration", "folkhalsa", "demokrati"],
            ["integration", "barnratt", "folkhalsa"]]
LABEL = "Integration och etablering"  # 3 + 3 + 2 = 8 points: the leader


def start_hidden_round(app, staff_client) -> tuple[int, str]:
    """As staff start one: the box "Dölj resultatet tills omröstningen stängs" ticked."""
    response = staff_client.post("/staff/live/", data={
        "csrf_token": csrf_token(staff_client, "/staff/live/"), "question": "prioritering:prioriteringar",
        "mode": "device", "title": "Workshop", "results_hidden": "y",
    })
    assert response.status_code == 303, text_of(response)
    round_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        live_round = db.session.get(LiveRound, round_id)
        assert live_round.results_hidden
        return round_id, live_round.join_code


def three_views(staff_client, round_id: int) -> tuple[str, str, dict]:
    return (
        staff_client.get(f"/staff/live/{round_id}").get_data(as_text=True),
        staff_client.get(f"/staff/live/{round_id}/projektor").get_data(as_text=True),
        staff_client.get(f"/staff/live/{round_id}/tally.json").get_json(),
    )


def close(staff_client, round_id: int) -> None:
    token = csrf_token(staff_client, f"/staff/live/{round_id}")
    assert staff_client.post(f"/staff/live/{round_id}/stang", data={"csrf_token": token}).status_code == 303


def test_hidden_results_are_nowhere_until_the_round_closes(app, staff_client):
    round_id, code = start_hidden_round(app, staff_client)
    for ranking in RANKINGS:
        assert vote(app.test_client(), code, ranking).status_code == 303

    page, wall, tally = three_views(staff_client, round_id)
    assert tally == {"state": "open", "hidden": True, "voters": 3}
    for html in (page, wall):
        assert "Resultatet visas när omröstningen stängs." in html
        assert LABEL not in html and "Efter poäng" not in html and "Omnämnanden" not in html
        assert 'data-live="voters">3<' in html  # the count of votes is shown

    close(staff_client, round_id)
    page, wall, tally = three_views(staff_client, round_id)
    assert tally["state"] == "closed" and tally["hidden"] is False
    leader = tally["by_points"][0]
    assert (leader["label"], leader["points"], leader["mentions"]) == (LABEL, 8, 3)
    assert "1 Integration och etablering 8 3" in text_of(staff_client.get(f"/staff/live/{round_id}/projektor"))
    assert LABEL in page


def test_staff_hide_and_show_the_results_while_the_round_is_open(app, staff_client):
    round_id, code = start_round(app, staff_client)
    assert vote(app.test_client(), code, RANKINGS[1]).status_code == 303
    assert "by_points" in staff_client.get(f"/staff/live/{round_id}/tally.json").get_json()
    token = csrf_token(staff_client, f"/staff/live/{round_id}")
    hide = staff_client.post(f"/staff/live/{round_id}/resultat", data={"csrf_token": token, "hidden": "1"})
    assert hide.status_code == 303
    _page, wall, tally = three_views(staff_client, round_id)
    assert tally == {"state": "open", "hidden": True, "voters": 1} and LABEL not in wall
    staff_client.post(f"/staff/live/{round_id}/resultat", data={"csrf_token": token, "hidden": "0"})
    assert staff_client.get(f"/staff/live/{round_id}/tally.json").get_json()["by_points"][0]["label"] == LABEL


def test_the_wall_is_its_own_page_with_the_code_qr_and_bars(app, staff_client):
    round_id, code = start_round(app, staff_client, title="Regionens workshop")
    for ranking in RANKINGS:
        assert vote(app.test_client(), code, ranking).status_code == 303
    response = staff_client.get(f"/staff/live/{round_id}/projektor")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Personalmeny" not in html and 'class="site-header"' not in html  # no staff menu on the wall
    half = len(code) // 2
    assert f"{code[:half]} {code[half:]}" in html and 'class="qr"' in html  # the join code and its QR
    # One bar per option, as long as its points: the leader full (8 of 8), Folkhälsa (6 points) 75 %.
    assert html.count('class="bar-value"') == 9
    assert 'width="100.0"' in html and 'width="75.0"' in html
    assert '<script src="/static/live.js" defer></script>' in html
    close(staff_client, round_id)
    closed = staff_client.get(f"/staff/live/{round_id}/projektor").get_data(as_text=True)
    assert 'class="qr"' not in closed and "Omröstningen är stängd" in closed
