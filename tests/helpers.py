"""Helpers for tests: read the hidden values of a form page, submit a form as a browser would."""

from __future__ import annotations

import re
from html import unescape

from formsvc.extensions import db
from formsvc.mail import send_outbox


def hidden_values(html: str) -> dict[str, str]:
    found = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and name.group(1) in ("csrf_token", "submission_key") and value:
            found[name.group(1)] = unescape(value.group(1))
    return found


def submit(client, slug: str, answers: dict, query: str = ""):
    """GET the form, then POST the answers with its CSRF token and submission key."""
    page = client.get(f"/f/{slug}{query}")
    assert page.status_code == 200, page.status_code
    data = {**hidden_values(page.get_data(as_text=True)), **answers}
    return client.post(f"/f/{slug}", data=data)


def flush_mail(app) -> tuple[int, int]:
    with app.app_context():
        result = send_outbox()
        db.session.remove()
        return result


def text_of(response) -> str:
    """The page's text without tags, whitespace collapsed: what a person reads."""
    html = response.get_data(as_text=True)
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def login(client, email: str, password: str, next_page: str | None = None):
    page = client.get("/staff/login")
    token = hidden_values(page.get_data(as_text=True))["csrf_token"]
    url = "/staff/login" + (f"?next={next_page}" if next_page else "")
    return client.post(url, data={"csrf_token": token, "email": email, "password": password})


def csrf_token(client, path: str = "/staff/") -> str:
    """A CSRF token for this client's session, read from a page that has a form."""
    return hidden_values(client.get(path).get_data(as_text=True))["csrf_token"]


def send_mass_mail(client, slug: str, data: dict):
    """Send invitations or reminders as staff do: the first POST only shows who would get the mail; the
    second confirms that list (its digest) and sends. Returns the second response."""
    path = f"/staff/invitations/{slug}/mail"
    shown = client.post(path, data=data)
    assert shown.status_code == 200, shown.status_code
    digest = re.search(r'name="confirm" value="([0-9a-f]+)"', shown.get_data(as_text=True))
    assert digest, "the confirmation page has no send button"
    return client.post(path, data={**data, "confirm": digest.group(1)})
