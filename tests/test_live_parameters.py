"""The vote page passes on only the query parameters it knows, whatever else the address carries."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from helpers import text_of
from test_live import start_round

# Bad input: query parameters named after url_for's own arguments and the view's, with foreign values.
PAYLOADS = [
    "code=x",
    "_method=POST",
    "_external=1",
    "_external=1&_scheme=javascript",
    "_scheme=https",
    "_anchor=x%22%3E%3Cscript%3E",
    "_external=1&_scheme=https&_anchor=evil",
    "endpoint=staff.audit",
    "values=x&code=ABCDEF",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_the_vote_page_ignores_parameters_it_does_not_know(app, client, staff_client, payload):
    _round_id, code = start_round(app, staff_client)
    # The code typed in lower case: the page redirects to the code as stored, which is where the
    # parameters were passed on.
    response = client.get(f"/live/{code.lower()}?{payload}", headers={"Host": "evil.example"})
    assert response.status_code == 303, response.status_code
    location = urlsplit(response.headers["Location"])
    assert (location.scheme, location.netloc, location.path) == ("", "", f"/live/{code}")
    assert location.query == "" and location.fragment == ""
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    assert "javascript:" not in page.get_data(as_text=True)


def test_the_vote_page_passes_on_the_seat_code_and_language(app, client, staff_client):
    _round_id, code = start_round(app, staff_client, mode="seat", seats="2")
    response = client.get(f"/live/{code.lower()}?plats=ACEF3479&lang=en&_external=1")
    location = urlsplit(response.headers["Location"])
    assert (location.netloc, location.path) == ("", f"/live/{code}")
    assert sorted(location.query.split("&")) == ["lang=en", "plats=ACEF3479"]
    page = client.get(response.headers["Location"])
    assert 'value="ACEF3479"' in page.get_data(as_text=True)
    assert "Seat code" in text_of(page) or "seat code" in text_of(page)
