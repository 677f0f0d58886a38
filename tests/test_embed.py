"""Embeddable forms: the definition names the sites that may frame the form; inside their iframe, where
our session cookie is not sent, the form submits with its signed form token instead."""

from __future__ import annotations

import re
import shutil
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa
from conftest import free_port
from helpers import hidden_values, text_of
from werkzeug.serving import make_server

from formsvc.config import resource_dir
from formsvc.definitions import DefinitionError, parse_definition
from formsvc.extensions import db
from formsvc.models import Response

PARTNER = "https://www.partner.example"
FORM = """
title: Anmälan till seminarium
retention_days: 30
embed:
  allow: [{allow}]
fields:
  - {{key: namn, type: text, label: Namn, required: true}}
  - {{key: epost, type: email, label: E-post}}
"""


def definition(embed) -> dict:
    return {"title": "T", "embed": embed, "fields": [{"key": "a", "type": "text", "label": "A"}]}


def test_the_allowed_sites_are_read_from_the_definition():
    parsed = parse_definition(definition({"allow": ["https://WWW.Partner.example/", "https://*.kommun.example:8443"]}),
                              slug="x", source="x.yaml")
    assert parsed.embed_allow == ("https://www.partner.example", "https://*.kommun.example:8443")
    assert parse_definition(definition(None) | {"embed": None}, slug="x").embed_allow == ()


@pytest.mark.parametrize("bad", [
    ["*"], ["'self'"], ["https:"], ["www.partner.example"], ["ftp://partner.example"],
    ["https://partner.example/sida"], ["https://partner.example; script-src *"],
    ["https://partner.example 'unsafe-inline'"],
    [], "https://partner.example", [42],
])
def test_a_site_that_is_not_a_plain_address_is_refused_naming_the_file(bad):
    with pytest.raises(DefinitionError, match=r"^x\.yaml: FS07[012] 'embed"):
        parse_definition(definition({"allow": bad}), slug="x", source="x.yaml")


def test_embed_needs_its_allow_list():
    with pytest.raises(DefinitionError, match="'embed' must be a mapping with 'allow'"):
        parse_definition(definition({"sites": [PARTNER]}), slug="x", source="x.yaml")


@pytest.fixture
def embed_app(make_app, tmp_path):
    def make(allow=PARTNER, **settings):
        folder = tmp_path / f"forms-{free_port()}"
        shutil.copytree(resource_dir("forms"), folder)
        (folder / "seminarium.yaml").write_text(FORM.format(allow=allow), encoding="utf-8")
        return make_app(FORMSVC_FORMS_DIR=str(folder), **settings)

    return make


def frame_ancestors(response) -> str:
    policy = response.headers["Content-Security-Policy"]
    return next(p.strip() for p in policy.split(";") if p.strip().startswith("frame-ancestors"))


def test_only_the_embeddable_forms_pages_may_be_framed_and_only_by_the_allowed_sites(embed_app):
    app = embed_app()
    client = app.test_client()
    page = client.get("/f/seminarium")
    assert frame_ancestors(page) == f"frame-ancestors 'self' {PARTNER}"
    assert "X-Frame-Options" not in page.headers
    sent = client.post("/f/seminarium", data={**hidden_values(page.get_data(as_text=True)), "namn": "Ada"})
    assert sent.status_code == 303
    assert frame_ancestors(client.get(sent.headers["Location"])) == f"frame-ancestors 'self' {PARTNER}"
    assert frame_ancestors(client.post("/f/seminarium", data={})) == f"frame-ancestors 'self' {PARTNER}"
    for other in ("/f/anslutning", "/", "/staff/login", "/tillganglighet"):
        response = client.get(other)
        assert frame_ancestors(response) == "frame-ancestors 'none'", other
        assert response.headers["X-Frame-Options"] == "DENY"


def form_token(html: str) -> str:
    return re.search(r'name="form_token" value="([^"]+)"', html).group(1)


def embedded_get(app, slug="seminarium"):
    """A browser in a cross-site iframe: no cookies are kept or sent."""
    client = app.test_client(use_cookies=False)
    page = client.get(f"/f/{slug}")
    html = page.get_data(as_text=True)
    return client, {"submission_key": hidden_values(html)["submission_key"], "form_token": form_token(html)}


def test_without_the_session_cookie_the_form_token_lets_the_embedded_form_submit(embed_app):
    app = embed_app()
    client, hidden = embedded_get(app)
    sent = client.post("/f/seminarium", data={**hidden, "namn": "Ada Andersson"})
    assert sent.status_code == 303
    receipt = client.get(sent.headers["Location"])
    assert receipt.status_code == 200
    assert "Ada Andersson" in text_of(receipt)
    # The receipt's address works for the browser that sent it, briefly; without the signature it is hidden.
    assert client.get(sent.headers["Location"].split("?")[0]).status_code == 404
    again = client.post("/f/seminarium", data={**hidden, "namn": "Ada Andersson"})  # a double click
    assert again.headers["Location"].split("?")[0] == sent.headers["Location"].split("?")[0]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 1


def forged(token: str) -> str:
    """One character of the signature changed. Not the last ones: base64's last character carries unused
    bits, so changing it may leave the signature as it was (this test failed now and then that way)."""
    return token[:-10] + ("A" if token[-10] != "A" else "B") + token[-9:]


def test_a_form_token_that_is_forged_expired_or_for_another_page_is_refused(embed_app):
    app = embed_app()
    client, hidden = embedded_get(app)
    _, other_page = embedded_get(app)
    attempts = {
        "forged": {**hidden, "form_token": forged(hidden["form_token"])},
        "another page's token": {**hidden, "form_token": other_page["form_token"]},
        "no token": {"submission_key": hidden["submission_key"]},
    }
    for what, data in attempts.items():
        response = client.post("/f/seminarium", data={**data, "namn": "Ada"})
        assert response.status_code == 400, what
        assert "Kontrollera svaren och skicka igen" in text_of(response), what
        assert 'value="Ada"' in response.get_data(as_text=True), what  # nothing typed is lost
        assert form_token(response.get_data(as_text=True)), what  # a fresh token to send again with

    expired_app = embed_app(FORMSVC_FORM_TOKEN_MAX_AGE=-1)
    client, hidden = embedded_get(expired_app)
    response = client.post("/f/seminarium", data={**hidden, "namn": "Ada"})
    assert response.status_code == 400
    assert "Kontrollera svaren och skicka igen" in text_of(response)
    with expired_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Response.id))) == 0


def test_a_form_not_marked_embeddable_carries_no_form_token_and_takes_none(embed_app):
    app = embed_app()
    _, hidden = embedded_get(app)
    client = app.test_client(use_cookies=False)
    page = client.get("/f/nyhetsbrev").get_data(as_text=True)
    assert "form_token" not in page
    stolen = {"form_token": hidden["form_token"], "submission_key": hidden["submission_key"],
              "epost": "ada@example.org", "samtycke": "y"}
    assert client.post("/f/nyhetsbrev", data=stolen).status_code == 400


# -- In a real browser: the form inside an iframe on another site (another localhost port) --------------

PARENT_PAGE = """<!doctype html><html lang="sv"><head><title>Partner</title></head>
<body><h1>Partnerns sida</h1><iframe src="{src}" title="Anmälan" width="800" height="900"></iframe></body></html>"""


class _Parent(BaseHTTPRequestHandler):
    page = b""

    def do_GET(self):  # noqa: N802 (http.server's name)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *args):
        pass


def test_an_embedded_form_in_a_cross_site_iframe_submits_in_a_real_browser(embed_app, browser):
    parent_port, app_port = free_port(), free_port()
    parent_origin = f"http://localhost:{parent_port}"  # another site than 127.0.0.1: a cross-site iframe
    app = embed_app(allow=parent_origin)
    server = make_server("127.0.0.1", app_port, app, threaded=True)
    handler = type("Parent", (_Parent,), {"page": PARENT_PAGE.format(
        src=f"http://127.0.0.1:{app_port}/f/seminarium").encode()})
    parent = ThreadingHTTPServer(("localhost", parent_port), handler)
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in (server, parent)]
    for thread in threads:
        thread.start()
    posts = []
    try:
        context = browser.new_context()
        page = context.new_page()
        page.on("request", lambda r: posts.append(r) if r.method == "POST" else None)
        page.goto(f"{parent_origin}/")
        frame = page.frame_locator("iframe")
        frame.get_by_label("Namn").fill("Ada Andersson")
        frame.get_by_label("E-post").fill("ada@example.org")
        frame.get_by_role("button", name="Skicka").click()
        frame.get_by_text("Ada Andersson").wait_for(timeout=30000)
        receipt_text = frame.locator("main").inner_text()
        cookie_sent = "cookie" in posts[0].all_headers()
        context.close()
    finally:
        server.shutdown()
        parent.shutdown()
    assert len(posts) == 1
    assert not cookie_sent  # the browser kept our session cookie out of the cross-site frame
    assert "ada@example.org" in receipt_text
    with app.app_context():
        stored = db.session.scalars(sa.select(Response)).one()
        assert stored.answers["namn"] == "Ada Andersson"
