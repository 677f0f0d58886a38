"""Swedish first, English second: the page chrome and the error messages follow the chosen language."""

from __future__ import annotations

from helpers import submit, text_of


def test_swedish_is_the_default(client):
    page = client.get("/f/nyhetsbrev")
    assert '<html lang="sv">' in page.get_data(as_text=True)
    assert "Hoppa till innehållet" in text_of(page)


def test_english_on_request_and_kept_for_the_session(client):
    page = client.get("/f/nyhetsbrev?lang=en")
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert "Skip to content" in text_of(page) and "På svenska" in text_of(page)
    response = submit(client, "nyhetsbrev", {"epost": "inte en adress"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Enter an e-mail address like name@example.com." in page
    assert "Tick the box to send the form." in page


def test_swedish_whatever_the_browser_prefers(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Formulär och enkäter" in text_of(page)


def test_dates_are_written_the_swedish_way(client):
    page = text_of(client.get("/f/nominering"))
    assert "Sista dag att svara är den 29 januari 2027." in page
