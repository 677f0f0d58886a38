"""Live workshop vote: join code and QR, one vote per seat or device, live projector, closing, XLSX export."""

from __future__ import annotations

import http.client
import random
import re
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from urllib.parse import urlencode

import pytest
import sqlalchemy as sa
import zxingcpp
from helpers import csrf_token, hidden_values, text_of
from openpyxl import load_workbook
from PIL import Image
from werkzeug.serving import make_server

from formsvc.extensions import db
from formsvc.live.codes import ALPHABET
from formsvc.live.models import LiveRound, LiveSeat, LiveVote, LiveVotePlace

OPTIONS = [
    "barn_unga_vald",
    "utrikesfodda_kvinnor",
    "upptacka_vald",
    "brottsforebyggande",
    "folkhalsa",
    "integration",
    "demokrati",
    "barnratt",
    "manskliga_rattigheter",
]
LABELS = {"folkhalsa": "Folkhälsa och jämlik hälsa", "integration": "Integration och etablering"}


def start_round(app, staff_client, mode="device", seats="", title=""):
    """Start a round of prioritering as staff would; returns (round id, join code)."""
    token = csrf_token(staff_client, "/staff/live/")
    response = staff_client.post(
        "/staff/live/",
        data={
            "csrf_token": token,
            "question": "prioritering:prioriteringar",
            "mode": mode,
            "seats": seats,
            "title": title,
        },
    )
    assert response.status_code == 303, text_of(response)
    round_id = int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    with app.app_context():
        return round_id, db.session.get(LiveRound, round_id).join_code


def vote(client, code, ranking, seat=None):
    """Open the vote page, then send the ranking (and seat code) with its CSRF token, as a phone would."""
    page = client.get(f"/live/{code}")
    assert page.status_code == 200, page.status_code
    data = {**hidden_values(page.get_data(as_text=True)), "prioriteringar": list(ranking)}
    if seat is not None:
        data["plats"] = seat
    return client.post(f"/live/{code}", data=data)


def tally_json(staff_client, round_id):
    response = staff_client.get(f"/staff/live/{round_id}/tally.json")
    assert response.status_code == 200
    return response.get_json()


def counted(rankings):
    """Points (3-2-1) and mentions counted here, in Python, to check the SQL against."""
    points, mentions = Counter(), Counter()
    for ranking in rankings:
        for place, key in enumerate(ranking, start=1):
            points[key] += 4 - place
            mentions[key] += 1
    return points, mentions


def assert_tally_matches(result, rankings):
    points, mentions = counted(rankings)
    assert result["voters"] == len(rankings)
    assert {s["key"]: s["points"] for s in result["by_points"]} == {k: points[k] for k in OPTIONS}
    assert {s["key"]: s["mentions"] for s in result["by_mentions"]} == {k: mentions[k] for k in OPTIONS}


def decode_qr(svg: str) -> str:
    """Draw segno's SVG path (M/m moves, h runs of dark modules) as pixels and read it with zxing."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = re.search(r' d="([^"]+)"', svg).group(1)
    image = Image.new("L", (size, size), 255)
    x = y = 0.0
    for command, first, second in re.findall(r"([Mmh])(-?[\d.]+)(?:[ ,](-?[\d.]+))?", path):
        if command == "M":
            x, y = float(first), float(second)
        elif command == "m":
            x, y = x + float(first), y + float(second)
        else:
            for step in range(int(float(first))):
                image.putpixel((int(x) + step, int(y)), 0)
            x += float(first)
    found = zxingcpp.read_barcodes(image.resize((size * 8, size * 8), Image.NEAREST))
    assert found, "no QR code found"
    return found[0].text


def test_staff_start_a_round_with_a_short_join_code_and_a_qr_code_to_it(app, staff_client):
    round_id, code = start_round(app, staff_client, title="Rådsmöte 12 mars")
    assert len(code) == 6 and set(code) <= set(ALPHABET)
    assert not set(code) & set("0O1IL") and not set(ALPHABET) & set("0OQD1ILJ2Z5S8B")
    page = staff_client.get(f"/staff/live/{round_id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Rådsmöte 12 mars" in text
    assert f"{code[:3]} {code[3:]}" in text  # read aloud in two groups
    assert "localhost/live" in text and "Antal röster: 0" in text
    html = page.get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)
    assert 'role="img"' in svg and "aria-label=" in svg
    assert decode_qr(svg) == f"http://localhost/live/{code}"
    # No inline script or style: the strict CSP that comes must not break the page.
    assert not re.search(r"<script(?![^>]*\bsrc=)", html) and "style=" not in html


@pytest.mark.parametrize("public", ["https://formular.example.org/", "https://www.example.org/formular"])
def test_the_qr_code_uses_the_public_address_when_one_is_set(make_app, staff, public):
    """Also behind a proxy under a path (/formular): the QR code and the address shown keep the path, as the
    share page's links do (one way to build a public address: formsvc/links.py)."""
    from helpers import login

    app = make_app(FORMSVC_PUBLIC_URL=public)
    client = app.test_client()
    login(client, *staff)
    round_id, code = start_round(app, client)
    html = client.get(f"/staff/live/{round_id}").get_data(as_text=True)
    assert decode_qr(re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)) == f"{public.rstrip('/')}/live/{code}"
    assert f"{public.rstrip('/').removeprefix('https://')}/live" in text_of(client.get(f"/staff/live/{round_id}"))


def test_a_wrong_join_code_gets_a_clear_page(app, client, staff_client):
    start_round(app, staff_client)
    for typed in ("KMT47R", "ABC", "<script>", "kmt-47r"):
        response = client.get(f"/live/{typed}")
        assert response.status_code == 404, typed
        assert "Det finns ingen omröstning med koden" in text_of(response)
        assert "Kontrollera koden" in text_of(response)
    assert "<script>" not in client.get("/live/<script>").get_data(as_text=True)
    assert client.post("/live/KMT47R", data={}).status_code in (400, 404)  # no CSRF token: 400 before lookup


def test_the_join_page_takes_the_code_as_people_type_it(app, client, staff_client):
    _round_id, code = start_round(app, staff_client)
    typed = f" {code[:3].lower()} - {code[3:].lower()} "
    response = client.get("/live/", query_string={"kod": typed})
    assert response.status_code == 303 and response.headers["Location"] == f"/live/{code}"
    assert client.get(f"/live/{code.lower()}").headers["Location"] == f"/live/{code}"
    empty = client.get("/live/", query_string={"kod": " "})
    assert empty.status_code == 422 and "Skriv koden från skärmen" in text_of(empty)
    assert "Gå med i en omröstning" in text_of(client.get("/live/"))


def test_the_vote_page_uses_the_forms_accessible_ranking_and_works_without_javascript(app, client, staff_client):
    _round_id, code = start_round(app, staff_client)
    page = client.get(f"/live/{code}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert '<meta name="viewport"' in html
    assert "<legend>Välj och rangordna de tre viktigaste problemområdena" in html
    for place in (1, 2, 3):
        assert f'<label for="prioriteringar-{place}">Plats {place}' in html
        assert f'<select id="prioriteringar-{place}" name="prioriteringar"' in html
    assert 'name="motivering"' not in html  # only the ranking is asked in the room
    assert 'method="post"' in html and not re.search(r"<script(?![^>]*\bsrc=)", html)


def test_one_vote_per_device_and_a_second_vote_replaces_the_first(app, staff_client):
    round_id, code = start_round(app, staff_client)
    phone, laptop = app.test_client(), app.test_client()
    first = vote(phone, code, ["folkhalsa", "integration", "barnratt"])
    assert first.status_code == 303 and first.headers["Location"] == f"/live/{code}/tack"
    receipt = text_of(phone.get(first.headers["Location"]))
    assert "Tack, din röst är registrerad" in receipt and "Folkhälsa och jämlik hälsa" in receipt
    again = phone.get(f"/live/{code}")
    assert "Du har redan röstat" in text_of(again)
    assert '<option value="folkhalsa" selected>' in again.get_data(as_text=True)
    assert vote(phone, code, ["demokrati", "folkhalsa", "integration"]).status_code == 303
    assert vote(laptop, code, ["folkhalsa", "barnratt", "demokrati"]).status_code == 303
    result = tally_json(staff_client, round_id)
    assert_tally_matches(result, [["demokrati", "folkhalsa", "integration"], ["folkhalsa", "barnratt", "demokrati"]])
    assert "Integration och etablering" in text_of(phone.get(f"/live/{code}/tack"))
    with app.app_context():
        assert db.session.scalar(sa.select(LiveVote.changes).order_by(LiveVote.id).limit(1)) == 1


def test_a_seat_code_votes_once_and_a_second_vote_replaces_the_first(app, staff_client):
    round_id, code = start_round(app, staff_client, mode="seat", seats="3")
    with app.app_context():
        seats = list(db.session.scalars(sa.select(LiveSeat.code).where(LiveSeat.round_id == round_id)))
    assert len(seats) == 3 and all(len(s) == 8 and set(s) <= set(ALPHABET) for s in seats)
    listing = text_of(staff_client.get(f"/staff/live/{round_id}/platskoder"))
    assert all(f"{s[:4]} {s[4:]}" in listing for s in seats) and "Plats 3" in listing

    phone = app.test_client()
    assert vote(phone, code, ["folkhalsa", "integration", "barnratt"], seat=seats[0]).status_code == 303
    # The same seat from another phone, typed with a space and in lower case: it replaces, never adds.
    other_phone = app.test_client()
    typed = f"{seats[0][:4].lower()} {seats[0][4:].lower()}"
    assert vote(other_phone, code, ["demokrati", "barnratt", "integration"], seat=typed).status_code == 303
    assert vote(app.test_client(), code, ["integration", "folkhalsa", "demokrati"], seat=seats[1]).status_code == 303
    assert_tally_matches(
        tally_json(staff_client, round_id),
        [["demokrati", "barnratt", "integration"], ["integration", "folkhalsa", "demokrati"]],
    )
    # The first phone's receipt shows the vote as it stands now.
    assert "Demokrati och delaktighet" in text_of(phone.get(f"/live/{code}/tack"))
    # A seat slip's QR code brings the seat code along.
    prefilled = app.test_client().get(f"/live/{code}?plats={seats[2]}")
    assert f'value="{seats[2]}"' in prefilled.get_data(as_text=True)


@pytest.mark.parametrize(
    ("seat", "message"),
    [
        ("", "Skriv platskoden från din lapp."),  # no seat code
        ("KMTR4796", "Platskoden finns inte i den här omröstningen."),  # a code never handed out
    ],
)
def test_a_missing_or_wrong_seat_code_is_refused_with_a_message(app, staff_client, seat, message):
    round_id, code = start_round(app, staff_client, mode="seat", seats="2")
    response = vote(app.test_client(), code, ["folkhalsa", "integration", "barnratt"], seat=seat)
    assert response.status_code == 422
    assert message in text_of(response)
    html = response.get_data(as_text=True)
    assert 'aria-invalid="true"' in html and '<option value="folkhalsa" selected>' in html  # the ranking is kept
    assert tally_json(staff_client, round_id)["voters"] == 0


def test_a_seat_code_of_another_round_does_not_vote_here(app, staff_client):
    first_id, _ = start_round(app, staff_client, mode="seat", seats="1")
    _second_id, second_code = start_round(app, staff_client, mode="seat", seats="1")
    with app.app_context():
        seat = db.session.scalar(sa.select(LiveSeat.code).where(LiveSeat.round_id == first_id))
    response = vote(app.test_client(), second_code, ["folkhalsa", "integration", "barnratt"], seat=seat)
    assert response.status_code == 422


@pytest.mark.parametrize(
    ("ranking", "message"),
    [
        (["folkhalsa", "integration"], "Välj exakt 3 alternativ"),  # only two places filled
        (["folkhalsa", "folkhalsa", "barnratt"], "Samma alternativ kan bara väljas en gång"),  # one option twice
        (["folkhalsa", "integration", "rymdfart"], "Välj bland de alternativ som finns i listan"),  # unknown option
        (["folkhalsa", "integration", "barnratt", "demokrati"], "Välj bland de alternativ som finns i listan"),  # 4
    ],
)
def test_a_bad_ranking_gets_a_clear_message_and_stores_nothing(app, staff_client, ranking, message):
    round_id, code = start_round(app, staff_client)
    response = vote(app.test_client(), code, ranking)
    assert response.status_code == 422
    assert message in text_of(response) and "Rösten skickades inte" in text_of(response)
    assert tally_json(staff_client, round_id)["voters"] == 0


def test_the_honeypot_stops_a_bot(app, staff_client):
    round_id, code = start_round(app, staff_client)
    client = app.test_client()
    page = client.get(f"/live/{code}")
    data = {**hidden_values(page.get_data(as_text=True)), "website": "https://spam.example"}
    response = client.post(f"/live/{code}", data={**data, "prioriteringar": ["folkhalsa", "integration", "barnratt"]})
    assert response.status_code == 400
    assert tally_json(staff_client, round_id)["voters"] == 0


def test_closing_stops_votes_and_keeps_the_final_ranking(app, staff_client):
    round_id, code = start_round(app, staff_client)
    phone = app.test_client()
    assert vote(phone, code, ["folkhalsa", "integration", "barnratt"]).status_code == 303
    page = phone.get(f"/live/{code}")  # a phone with the page open while staff close
    token = csrf_token(staff_client, f"/staff/live/{round_id}")
    closed = staff_client.post(f"/staff/live/{round_id}/stang", data={"csrf_token": token})
    assert closed.status_code == 303
    late = phone.post(
        f"/live/{code}",
        data={**hidden_values(page.get_data(as_text=True)), "prioriteringar": ["demokrati", "barnratt", "integration"]},
    )
    assert late.status_code == 410 and "Omröstningen är avslutad" in text_of(late)
    assert app.test_client().get(f"/live/{code}").status_code == 410
    result = tally_json(staff_client, round_id)
    assert result["state"] == "closed"
    assert_tally_matches(result, [["folkhalsa", "integration", "barnratt"]])
    projector = staff_client.get(f"/staff/live/{round_id}")
    text, html = text_of(projector), projector.get_data(as_text=True)
    assert "Resultatet är slutligt" in text and "<svg" not in html and code[:3] not in text
    assert 'http-equiv="refresh"' not in html  # nothing changes any more
    # Closing twice changes nothing.
    again = staff_client.post(f"/staff/live/{round_id}/stang", data={"csrf_token": token})
    assert again.status_code == 303
    assert "Omröstningen är avslutad" in text_of(phone.get(f"/live/{code}/tack"))


def test_ties_are_shown_as_ties(app, staff_client):
    round_id, code = start_round(app, staff_client)
    # folkhalsa 3+1 = 4 points, integration 2+2 = 4 points: a shared first place on points.
    for ranking in (["folkhalsa", "integration", "barnratt"], ["demokrati", "integration", "folkhalsa"]):
        assert vote(app.test_client(), code, ranking).status_code == 303
    result = tally_json(staff_client, round_id)
    top = result["by_points"][:3]
    assert [(s["key"], s["points"], s["points_place"], s["points_tied"]) for s in top] == [
        ("folkhalsa", 4, 1, True),
        ("integration", 4, 1, True),
        ("demokrati", 3, 3, False),
    ]
    assert [(s["key"], s["mentions_place"], s["mentions_tied"]) for s in result["by_mentions"][:2]] == [
        ("folkhalsa", 1, True),
        ("integration", 1, True),
    ]
    text = text_of(staff_client.get(f"/staff/live/{round_id}"))
    assert "1 (delad) Folkhälsa och jämlik hälsa 4 2" in text
    assert "1 (delad) Integration och etablering 4 2" in text
    assert "3 Demokrati och delaktighet 3 1" in text


def test_the_projector_updates_without_reload_and_without_javascript(app, staff_client):
    round_id, code = start_round(app, staff_client)
    page = staff_client.get(f"/staff/live/{round_id}")
    html = page.get_data(as_text=True)
    assert f'data-tally-url="/staff/live/{round_id}/tally.json"' in html
    assert '<script src="/static/live.js" defer></script>' in html
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in html
    script = staff_client.get("/static/live.js")
    assert script.status_code == 200
    assert b"setTimeout(poll, INTERVAL)" in script.data and b"INTERVAL = 1000" in script.data
    assert vote(app.test_client(), code, ["folkhalsa", "integration", "barnratt"]).status_code == 303
    # The page itself, reloaded, shows the new numbers (the no-JavaScript path).
    assert "Antal röster: 1" in text_of(staff_client.get(f"/staff/live/{round_id}"))
    assert "1 Folkhälsa och jämlik hälsa 3 1" in text_of(staff_client.get(f"/staff/live/{round_id}"))


def test_several_rounds_of_one_form_each_have_their_own_results(app, staff_client):
    first_id, first_code = start_round(app, staff_client, title="Mars")
    second_id, second_code = start_round(app, staff_client, title="April")
    assert first_code != second_code
    phone = app.test_client()
    assert vote(phone, first_code, ["folkhalsa", "integration", "barnratt"]).status_code == 303
    assert vote(phone, second_code, ["demokrati", "barnratt", "integration"]).status_code == 303
    assert vote(app.test_client(), second_code, ["barnratt", "demokrati", "folkhalsa"]).status_code == 303
    assert_tally_matches(tally_json(staff_client, first_id), [["folkhalsa", "integration", "barnratt"]])
    assert_tally_matches(
        tally_json(staff_client, second_id),
        [["demokrati", "barnratt", "integration"], ["barnratt", "demokrati", "folkhalsa"]],
    )
    listing = text_of(staff_client.get("/staff/live/"))
    assert "April" in listing and "Mars" in listing and listing.index("April") < listing.index("Mars")


def projector_rows(text: str, heading: str) -> list[tuple[int, str, int, int]]:
    """(place, option, points, mentions) as a person reads them in the projector's points table."""
    section = text.split(heading, 1)[1].split("Efter antal omnämnanden", 1)[0]
    labels = "|".join(re.escape(label) for label in sorted(ALL_LABELS, key=len, reverse=True))
    return [
        (int(place), label, int(points), int(mentions))
        for place, label, points, mentions in re.findall(rf"(\d+)(?: \(delad\))? ({labels}) (\d+) (\d+)", section)
    ]


ALL_LABELS = [
    "Våldsförebyggande arbete med barn och unga",
    "Utrikesfödda kvinnors väg till arbete",
    "Systematiskt arbete för att upptäcka våld",
    "Brottsförebyggande arbete",
    "Folkhälsa och jämlik hälsa",
    "Integration och etablering",
    "Demokrati och delaktighet",
    "Barnrättsperspektivet",
    "Mänskliga rättigheter och icke-diskriminering",
]


def test_the_export_matches_the_projector(app, staff_client):
    round_id, code = start_round(app, staff_client, title="=HYPERLINK(\"https://evil.example\")")
    rankings = [
        ["folkhalsa", "integration", "barnratt"],
        ["demokrati", "integration", "folkhalsa"],
        ["integration", "barnratt", "upptacka_vald"],
        ["folkhalsa", "demokrati", "barnratt"],
    ]
    for ranking in rankings:
        assert vote(app.test_client(), code, ranking).status_code == 303
    token = csrf_token(staff_client, f"/staff/live/{round_id}")
    staff_client.post(f"/staff/live/{round_id}/stang", data={"csrf_token": token})
    shown = projector_rows(text_of(staff_client.get(f"/staff/live/{round_id}")), "Efter poäng")
    assert len(shown) == 9 and "Antal röster: 4" in text_of(staff_client.get(f"/staff/live/{round_id}"))

    response = staff_client.get(f"/staff/live/{round_id}/resultat.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(BytesIO(response.data))
    sheet = book["Omröstning"]
    facts = {row[0]: row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert facts["Antal röstande"] == 4 and facts["Kod"] == code
    assert sheet["B2"].data_type == "s" and sheet["B2"].value.startswith("=")  # text, never a formula
    rows = [tuple(cell.value for cell in row) for row in book.active.iter_rows()]
    assert rows[0] == (
        "Placering (poäng)", "Alternativ", "Poäng", "Omnämnanden", "Placering (omnämnanden)", "Delad placering"
    )
    exported = [(place, label, points, mentions) for place, label, points, mentions, _m, _t in rows[1:]]
    assert exported == shown
    points, mentions = counted(rankings)
    assert {label: p for _place, label, p, _m in exported}["Integration och etablering"] == points["integration"]
    with app.app_context():
        from formsvc.audit import AuditEvent

        assert db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.action == "export")) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "seat", "seats": ""}, "Ange hur många platskoder"),  # seat codes chosen but no number
        ({"mode": "seat", "seats": "5000"}, "Ange ett antal mellan 1 och 500"),  # far too many
        ({"mode": "device", "question": "nyhetsbrev:epost"}, "Fråga: Inte ett giltigt val"),  # not a ranking question
        ({"mode": "public"}, "Vem får rösta?: Inte ett giltigt val"),  # a mode that does not exist
    ],
)
def test_starting_a_round_with_bad_input_gets_a_message(app, staff_client, data, message):
    token = csrf_token(staff_client, "/staff/live/")
    response = staff_client.post(
        "/staff/live/", data={"csrf_token": token, "question": "prioritering:prioriteringar", **data}
    )
    assert response.status_code == 422
    assert message in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LiveRound.id))) == 0


class Participant:
    """A phone in the meeting: its own cookie, talking HTTP to the running server."""

    def __init__(self, port):
        self.port = port
        self.cookie = ""

    def request(self, method, path, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"Cookie": self.cookie} if self.cookie else {}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        data = response.read().decode()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        connection.close()
        return response.status, data

    def open(self, code):
        status, html = self.request("GET", f"/live/{code}")
        assert status == 200
        self.token = hidden_values(html)["csrf_token"]

    def vote(self, code, ranking):
        body = urlencode([("csrf_token", self.token), *[("prioriteringar", key) for key in ranking]])
        return self.request("POST", f"/live/{code}", body)[0]


def test_200_concurrent_votes_end_in_exactly_200_votes_and_a_matching_tally(app, staff_client):
    round_id, code = start_round(app, staff_client)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        chooser = random.Random(6)
        people = [(Participant(server.server_port), chooser.sample(OPTIONS, 3)) for _ in range(200)]
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda p: p[0].open(code), people))
        # Every fifth person double-clicks: two identical POSTs at the same moment from one phone.
        sends = people + people[::5]
        start = threading.Barrier(len(sends))

        def send(person):
            start.wait()
            return person[0].vote(code, person[1])

        with ThreadPoolExecutor(len(sends)) as pool:
            statuses = list(pool.map(send, sends))
    finally:
        server.shutdown()
        thread.join()
    assert Counter(statuses) == {303: len(sends)}
    result = tally_json(staff_client, round_id)
    assert_tally_matches(result, [ranking for _participant, ranking in people])
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(LiveVote.id))) == 200
        assert db.session.scalar(sa.select(sa.func.count(LiveVotePlace.id))) == 600
        # Each double click was stored once and replaced once by its twin: nothing added, nothing lost.
        assert db.session.scalar(sa.select(sa.func.sum(LiveVote.changes))) == len(people[::5])


def test_guessing_codes_is_throttled_but_voting_is_not(make_app, staff):
    from helpers import login

    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_LIVE_FAILED_LIMIT="2 per minute")
    staff_client = app.test_client()
    login(staff_client, *staff)
    _round_id, code = start_round(app, staff_client)
    room = app.test_client()  # a whole meeting room behind one address
    for ranking in (["folkhalsa", "integration", "barnratt"], ["demokrati", "barnratt", "integration"]):
        assert vote(room, code, ranking).status_code == 303  # successful votes do not count
        room = app.test_client()
    assert vote(room, code, ["barnratt", "demokrati", "folkhalsa"]).status_code == 303
    # Guessing join codes from the same address: two misses, then a pause is asked for.
    assert [room.get(f"/live/{guess}").status_code for guess in ("KMT47R", "KMT47T", "KMT47W")] == [404, 404, 429]
    assert "Vänta en stund" in text_of(room.get("/live/KMT47X"))
