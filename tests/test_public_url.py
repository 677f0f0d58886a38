"""Links in mails, QR codes and share pages come from FORMSVC_PUBLIC_URL, never from the request's Host header;
production refuses to start without that address or with a short secret key."""

from __future__ import annotations

import re
import secrets

import pytest
from flask.testing import FlaskClient
from helpers import flush_mail, hidden_values, login
from test_live import decode_qr, start_round

from formsvc import create_app

PUBLIC = "https://formular.example.org"
FORGED_HOST = "evil.example"
SUBSCRIBER = "sam@example.org"


class ForgedHostClient(FlaskClient):
    """A browser whose every request says `Host: evil.example`."""

    def open(self, *args, **kwargs):
        kwargs["headers"] = {**dict(kwargs.get("headers") or {}), "Host": FORGED_HOST}
        return super().open(*args, **kwargs)


def production_settings(tmp_path, **changes) -> dict:
    settings = {
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
        "SECRET_KEY": secrets.token_hex(32),
        "FORMSVC_PUBLIC_URL": PUBLIC,
    }
    return {**settings, **changes}


def test_production_refuses_to_start_without_a_public_address_or_with_a_short_secret_key(tmp_path):
    """Tried: no FORMSVC_PUBLIC_URL; a 31-byte secret key ("test-secret" too)."""
    assert create_app(production_settings(tmp_path)).config["FORMSVC_PUBLIC_URL"] == PUBLIC
    with pytest.raises(RuntimeError, match="FORMSVC_PUBLIC_URL is not set"):
        create_app(production_settings(tmp_path, FORMSVC_PUBLIC_URL=None))
    for short in ("x" * 31, "test-secret"):
        with pytest.raises(RuntimeError, match="shorter than 32 bytes"):
            create_app(production_settings(tmp_path, SECRET_KEY=short))
    # Tests and the debug server need neither: there links may come from the request.
    assert create_app(production_settings(tmp_path, FORMSVC_PUBLIC_URL=None, SECRET_KEY="kort", TESTING=True))
    assert create_app(production_settings(tmp_path, FORMSVC_PUBLIC_URL=None, SECRET_KEY="kort", DEBUG=True))


def sign_up_with_a_forged_host(app, smtp):
    """A newsletter sign-up POSTed with `Host: evil.example`; returns the confirmation mail."""
    client = app.test_client()
    headers = {"Host": FORGED_HOST}
    page = client.get("/f/nyhetsbrev", headers=headers)
    data = {**hidden_values(page.get_data(as_text=True)), "epost": SUBSCRIBER, "samtycke": "y"}
    assert client.post("/f/nyhetsbrev", data=data, headers=headers).status_code == 303
    flush_mail(app)
    [message] = smtp.to(SUBSCRIBER)
    return message


def links_in(message) -> list[str]:
    body = message.get_body(("plain",)).get_content()
    return re.findall(r"https?://[^\s>]+", body) + re.findall(r"<(https?://[^>]+)>", message["List-Unsubscribe"])


def test_without_a_public_address_the_forged_host_would_reach_the_mail(make_app, smtp):
    """The forging itself works: in tests without FORMSVC_PUBLIC_URL links fall back to the request."""
    message = sign_up_with_a_forged_host(make_app(), smtp)
    assert any(link.startswith(f"http://{FORGED_HOST}/newsletter/confirm/") for link in links_in(message))


def test_links_in_mails_qr_codes_and_share_pages_never_take_the_request_host(make_app, smtp, staff):
    """Tried: a POST, a share page and a projector page with `Host: evil.example`."""
    app = make_app(FORMSVC_PUBLIC_URL=PUBLIC)
    message = sign_up_with_a_forged_host(app, smtp)
    links = links_in(message)
    assert any(link.startswith(f"{PUBLIC}/newsletter/confirm/") for link in links)
    assert any(link.startswith(f"{PUBLIC}/newsletter/unsubscribe/") for link in links)  # List-Unsubscribe
    assert not [link for link in links if FORGED_HOST in link]

    app.test_client_class = ForgedHostClient
    staff_client = app.test_client()
    login(staff_client, *staff)
    share_page = staff_client.get("/staff/forms/anslutning/share")
    assert share_page.request.host == FORGED_HOST  # the page really was asked for under the forged host
    share = share_page.get_data(as_text=True)
    assert f'value="{PUBLIC}/f/anslutning"' in share and FORGED_HOST not in share
    round_id, code = start_round(app, staff_client)
    projector = staff_client.get(f"/staff/live/{round_id}")
    html = projector.get_data(as_text=True)
    assert decode_qr(re.search(r"<svg[^>]*>.*?</svg>", html, re.S).group(0)) == f"{PUBLIC}/live/{code}"
    assert FORGED_HOST not in html
