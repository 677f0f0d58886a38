"""The rate limits that config.py and docs/operations.md name apply where they say (429 after the limit).

Each test switches limits on (conftest switches them off) and sets the limit small; what it sends is named
in the test's docstring.
"""

from __future__ import annotations

from helpers import flush_mail, login, submit, text_of
from test_live import OPTIONS, start_round, vote
from test_newsletter import NYHETSBREV, PUBLIC_URL, link


def test_answers_to_a_form_are_limited_per_client(make_app):
    """Sent: three answers to the newsletter form from one address, with a limit of two a minute."""
    client = make_app(RATELIMIT_ENABLED=True, FORMSVC_SUBMIT_LIMIT="2 per minute").test_client()
    statuses = [submit(client, "nyhetsbrev", {**NYHETSBREV, "epost": f"n{n}@example.org"}).status_code
                for n in range(3)]
    assert statuses == [303, 303, 429]
    assert client.get("/f/nyhetsbrev").status_code == 200  # reading the form is not limited


def test_token_links_are_limited_per_client_good_and_bad_alike(make_app, smtp):
    """Sent: a real confirmation link opened three times, then an invitation link and an unsubscribe link,
    with FORMSVC_TOKEN_LIMIT at three a minute: the links count together, good ones too."""
    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_TOKEN_LIMIT="3 per minute", FORMSVC_PUBLIC_URL=PUBLIC_URL)
    client = app.test_client()
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    flush_mail(app)
    confirm = link(smtp.to(NYHETSBREV["epost"])[0], "confirm")
    assert [client.get(confirm).status_code for _ in range(3)] == [200, 200, 200]
    for path in (confirm, "/i/" + "A" * 43, "/newsletter/unsubscribe/" + "B" * 43):
        page = client.get(path)
        assert page.status_code == 429, path
    assert "för många försök" in text_of(page)
    assert submit(client, "nyhetsbrev", {**NYHETSBREV, "epost": "annan@example.org"}).status_code == 303


def test_live_votes_are_limited_per_client(make_app, staff):
    """Sent: three votes (the last two change the first) from one phone, with FORMSVC_VOTE_LIMIT two a minute."""
    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_VOTE_LIMIT="2 per minute")
    staff_client = app.test_client()
    login(staff_client, *staff)
    _round_id, code = start_round(app, staff_client)
    phone = app.test_client()
    rankings = [OPTIONS[:3], OPTIONS[1:4], OPTIONS[2:5]]
    statuses = [vote(phone, code, ranking).status_code for ranking in rankings]
    assert statuses == [303, 303, 429]
