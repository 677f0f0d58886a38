"""Security headers on every class of response, and the production-mode rules: secret key, no tracebacks,
secure cookies over HTTPS, redirects only to the site's own paths, proxies trusted only as configured."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from helpers import login, submit, text_of

from formsvc import create_app
from formsvc.audit import AuditEvent
from formsvc.extensions import db
from formsvc.security import own_path

NYHETSBREV = {"epost": "ada@example.org", "samtycke": "y"}


def directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: " ".join(part.split()[1:]) for part in policy.split(";") if part.strip()}


def assert_strict(response):
    """The headers every response must carry, whatever it is."""
    csp = directives(response)
    assert csp["object-src"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["script-src"] == "'self'"  # no 'unsafe-inline', no nonce, no other host
    assert csp["style-src"] == "'self'"
    assert csp["default-src"] == "'self'"
    assert csp["form-action"] == "'self'"
    assert "unsafe" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin"}


def test_form_pages_and_receipts_stay_out_of_shared_caches(app, client):
    """A form page holds the visitor's own CSRF token (and maybe their answers), a receipt their answers."""
    assert client.get("/f/nyhetsbrev").headers["Cache-Control"] == "private, no-cache"
    assert client.post("/f/nyhetsbrev", data={}).headers["Cache-Control"] == "private, no-cache"
    stored = submit(client, "nyhetsbrev", NYHETSBREV)
    assert client.get(stored.headers["Location"]).headers["Cache-Control"] == "no-store"


def route_classes(client, staff_client=None):
    """One response of each kind the service gives."""
    yield "start page", client.get("/")
    yield "form page", client.get("/f/nyhetsbrev")
    yield "form with errors (422)", client.post("/f/nyhetsbrev", data={})
    yield "accessibility statement", client.get("/tillganglighet")
    yield "static file", client.get("/static/formsvc.css")
    yield "health check (JSON)", client.get("/healthz")
    yield "page not found (404)", client.get("/finns-inte")
    yield "redirect to login (302)", client.get("/staff/")
    yield "staff login page", client.get("/staff/login")
    yield "answer stored (303)", submit(client, "nyhetsbrev", NYHETSBREV)
    if staff_client is not None:
        yield "staff page", staff_client.get("/staff/")
        yield "staff retention page", staff_client.get("/staff/retention")


def test_every_route_class_carries_the_strict_headers_and_may_not_be_framed(app, staff):
    client, staff_client = app.test_client(), app.test_client()
    login(staff_client, *staff)
    seen = []
    for name, response in route_classes(client, staff_client):
        assert response.status_code < 500, name
        assert_strict(response)
        assert directives(response)["frame-ancestors"] == "'none'", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert "Strict-Transport-Security" not in response.headers, f"{name}: HSTS over plain HTTP"
        seen.append(name)
    assert len(seen) == 12


def test_hsts_only_over_https_as_told_by_the_configured_proxy(make_app):
    app = make_app(FORMSVC_PROXY_COUNT=1)
    client = app.test_client()
    over_https = client.get("/", headers={"X-Forwarded-Proto": "https"})
    assert over_https.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert "Strict-Transport-Security" not in client.get("/").headers

    # Without a proxy configured, a forwarded header from the client is not believed.
    direct = make_app().test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in direct.headers


def test_client_address_comes_from_the_proxy_only_when_one_is_configured(make_app, staff):
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    for proxies, expected in ((1, "203.0.113.9"), (0, "127.0.0.1")):
        app = make_app(FORMSVC_PROXY_COUNT=proxies)
        client = app.test_client()
        page = client.get("/staff/login", headers=forwarded)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True))
        client.post("/staff/login", headers=forwarded,
                    data={"csrf_token": token.group(1), "email": "ingen@example.org", "password": "fel"})
        with app.app_context():
            event = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()
            assert (event.action, event.ip) == ("login_failed", expected)


INLINE = [
    (re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I), "inline <script>"),
    (re.compile(r"\sstyle\s*=", re.I), "style attribute"),
    (re.compile(r"<style", re.I), "<style> element"),
    (re.compile(r"\son[a-z]+\s*=", re.I), "event handler attribute"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
    (re.compile(r"https?://(?!127\.0\.0\.1|localhost)[^\s\"'<>]+\.(js|css|woff2?)\b", re.I), "third-party asset"),
]


def test_no_page_needs_inline_script_or_style(app, staff):
    """The strict CSP would block them: every page must work without."""
    client, staff_client = app.test_client(), app.test_client()
    login(staff_client, *staff)
    pages = [client.get("/"), client.get("/tillganglighet"), client.get("/staff/login"),
             staff_client.get("/staff/"), staff_client.get("/staff/retention")]
    pages += [client.get(f"/f/{d.slug}") for d in app.extensions["formsvc_catalog"]]
    receipt = submit(client, "nyhetsbrev", NYHETSBREV)
    pages.append(client.get(receipt.headers["Location"]))
    for page in pages:
        assert page.status_code in (200, 403)  # 403: a live-only vote's page, pointing to the join code
        html = page.get_data(as_text=True)
        for pattern, what in INLINE:
            assert not pattern.search(html), f"{what} in {page.request.path}"


# What production needs besides: a long secret key and the public address (see test_public_url.py).
PRODUCTION = {"SECRET_KEY": "p" * 64, "FORMSVC_PUBLIC_URL": "https://formular.example.org"}


def test_the_app_refuses_to_start_in_production_without_a_secret_key(tmp_path):
    settings = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}"}
    with pytest.raises(RuntimeError, match="FORMSVC_SECRET_KEY is not set"):
        create_app(settings)
    # In tests and in debug a throwaway key is made, so development needs no setup.
    assert create_app({**settings, "TESTING": True}).secret_key


def test_an_error_in_production_shows_a_plain_swedish_page_without_a_traceback(make_app):
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False, DEBUG=False, **PRODUCTION)

    def broken():
        raise RuntimeError("secret internals /srv/formsvc/db password=hunter2")

    app.add_url_rule("/trasig", "broken", broken)
    response = app.test_client().get("/trasig")
    assert response.status_code == 500
    text = text_of(response)
    assert "Något gick fel hos oss" in text
    for leak in ("Traceback", "RuntimeError", "hunter2", "/srv/formsvc", "werkzeug"):
        assert leak not in response.get_data(as_text=True)
    assert_strict(response)


def test_cookies_are_secure_when_the_service_is_served_over_https(make_app):
    app = make_app(TESTING=False, **PRODUCTION)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    page = app.test_client().get("/f/nyhetsbrev", base_url="https://formular.example.org")
    cookie = page.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    plain = make_app(FORMSVC_PUBLIC_URL="http://127.0.0.1:5000", TESTING=False, SECRET_KEY=PRODUCTION["SECRET_KEY"])
    assert plain.config["SESSION_COOKIE_SECURE"] is False


# Targets an attacker might put in ?next= to send a person elsewhere after login.
OFFSITE = [
    "https://evil.example/", "//evil.example/", "/\\evil.example", "\\\\evil.example", "/\t/evil.example",
    "/\n/evil.example", "javascript:alert(1)", "http:/evil.example", "evil.example", "https:evil.example",
]


def test_redirect_targets_are_only_ever_paths_on_this_site():
    for target in OFFSITE:
        assert own_path(target) is None, target
    for target in ("/staff/", "/staff/retention?x=1", "/f/anslutning#fel"):
        assert own_path(target) == target


def test_login_never_redirects_off_the_site_and_returns_to_the_page_asked_for(app, staff):
    for target, expected in (("//evil.example/", "/staff/"), ("/%09/evil.example", "/staff/"),
                             ("https://evil.example/", "/staff/"), ("/staff/retention", "/staff/retention")):
        response = login(app.test_client(), *staff, next_page=target)
        assert (response.status_code, response.headers["Location"]) == (303, expected), target
