"""Helpers for tests: read the hidden values of a form page, submit a form as a browser would."""

from __future__ import annotations

import re
from html import unescape

import pytest

from formsvc.extensions import db
from formsvc.mail import send_outbox

# Tests of what only SQLite has (its writers lock, its log, its backup API): run on SQLite alone.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


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


def personal_link_client(app, slug: str, organisation_name: str):
    """A new browser that followed the organisation's personal link to the form (invited now if need be)."""
    import sqlalchemy as sa

    from formsvc.invitations.models import Invitation
    from formsvc.invitations.tokens import new_token
    from formsvc.models import Organisation

    with app.app_context():
        organisation = db.session.scalar(sa.select(Organisation).filter_by(name=organisation_name))
        invitation = db.session.scalar(sa.select(Invitation).filter_by(form_slug=slug, organisation=organisation))
        if invitation is None:
            invitation = Invitation(form_slug=slug, organisation=organisation, created_by="test")
            db.session.add(invitation)
        token = new_token(invitation, "manual")
        db.session.commit()
    browser = app.test_client()
    assert browser.get(f"/i/{token}").status_code == 303
    return browser


def open_to_all(app, slug: str = "prioritering") -> None:
    """Make a live-only form (prioritering) answerable by anyone at /f/<slug>, for tests of its questions,
    results and exports that need many answers; tests/test_live_only.py tests it as it ships."""
    definition = app.extensions["formsvc_catalog"].get(slug)
    object.__setattr__(definition, "live_only", False)
    object.__setattr__(definition, "open_link", True)


def send_mass_mail(client, slug: str, data: dict):
    """Send invitations or reminders as staff do: the first POST only shows who would get the mail; the
    second confirms that list (its digest) and sends. Returns the second response."""
    path = f"/staff/invitations/{slug}/mail"
    shown = client.post(path, data=data)
    assert shown.status_code == 200, shown.status_code
    digest = re.search(r'name="confirm" value="([0-9a-f]+)"', shown.get_data(as_text=True))
    assert digest, "the confirmation page has no send button"
    return client.post(path, data={**data, "confirm": digest.group(1)})
