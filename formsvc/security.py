"""Protections every request gets: CSRF, rate limits, security headers, proxy handling, own-path redirects.

CSRF: Flask-WTF's check runs here rather than in its own hook, so that a form embedded in another site
(where the session cookie is not sent) can present its signed form token instead (see embed.py).
Rate limits: Flask-Limiter, with storage several workers share (FORMSVC_RATELIMIT_STORAGE_URL, e.g. Redis).
"""

from __future__ import annotations

import io
from urllib.parse import urlsplit

from flask import Flask, abort, current_app, g, request
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from . import embed
from .extensions import csrf, limiter

# Strict: scripts, styles and images from this site only (no inline script or style attribute);
# no plugins, no <base> tricks, forms post here only. frame-ancestors is added per response.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'"
)
HSTS = "max-age=31536000; includeSubDomains"

# The rate limits of the endpoints that take input from anyone, per client address. Views apply them with
# these decorators; the numbers are settings (config.py) so an operator can change them without code.
# Answers sent to any form (POST /f/<slug>).
submit_limit = limiter.limit(lambda: current_app.config["FORMSVC_SUBMIT_LIMIT"], methods=["POST"])
# Requests to links that carry a secret token (invitation, newsletter confirm and unsubscribe), good or bad,
# counted together; the features' own limits on wrong tokens come on top.
token_limit = limiter.shared_limit(lambda: current_app.config["FORMSVC_TOKEN_LIMIT"], scope="token-links")
# Live votes (POST /live/<code>): generous, as a whole meeting room may reach us through one address.
vote_limit = limiter.limit(lambda: current_app.config["FORMSVC_VOTE_LIMIT"], methods=["POST"])


def set_headers(response):
    """The headers every response carries; a form marked embeddable may be framed by its allowed sites."""
    headers = response.headers
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # Same-origin: no address (which may hold a token) leaks to other sites, and Flask-WTF's
    # HTTPS referrer check still gets the Referer it needs from our own pages.
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    ancestors = embed.frame_ancestors()
    if ancestors:
        frame = "frame-ancestors 'self' " + " ".join(ancestors)
    else:
        frame = "frame-ancestors 'none'"
        headers.setdefault("X-Frame-Options", "DENY")  # for browsers that do not read CSP
    headers.setdefault("Content-Security-Policy", f"{CONTENT_SECURITY_POLICY}; {frame}")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def larger_body(setting: str):
    """Let a view take a request body up to the setting's number of bytes instead of MAX_CONTENT_LENGTH
    (e.g. a file upload). Decorate the view function below its route decorator."""

    def mark(view):
        view.body_limit_setting = setting
        return view

    return mark


def apply_body_limit():
    """The body limit of a view marked with `larger_body`: set before the CSRF and NUL checks parse the
    body, so nothing bigger than the limit is ever read (Werkzeug answers 413 first). Only for a signed-in
    user: the login check comes after the body is read, and a stranger's megabytes should not be."""
    setting = getattr(current_app.view_functions.get(request.endpoint), "body_limit_setting", None)
    if setting and current_user.is_authenticated:
        request.max_content_length = request.max_form_memory_size = current_app.config[setting]
    if request.content_length is None and request.environ.get("wsgi.input_terminated"):
        _refuse_long_stream(request.max_content_length)


def _refuse_long_stream(limit: int | None) -> None:
    """A chunked body has no length for Werkzeug to check first, and Werkzeug reads it only up to the limit:
    a longer one was cut short silently. Read one byte past the limit here; more than the limit is 413."""
    if limit is None:
        return
    body = request.environ["wsgi.input"].read(limit + 1)
    if len(body) > limit:
        abort(413)
    request.environ["wsgi.input"] = io.BytesIO(body)


def _has_nul(values) -> bool:
    return any("\x00" in key or any("\x00" in value for value in items) for key, items in values.lists())


def refuse_nul():
    """NUL is in no text a person types, and PostgreSQL cannot store or even compare it: refuse it (400)
    before any view reads it, so no lookup or insert anywhere fails on it with a 500."""
    if "\x00" in request.path or _has_nul(request.args) or (request.method == "POST" and _has_nul(request.form)):
        abort(400)


def check_csrf():
    """Flask-WTF's CSRF check for every POST, except that an embedded form's signed token also counts."""
    if not current_app.config["WTF_CSRF_ENABLED"] or request.method not in current_app.config["WTF_CSRF_METHODS"]:
        return
    if embed.accept_form_token():
        g.csrf_valid = True  # what Flask-WTF's own check sets; the form then skips its session check
        return
    csrf.protect(apply_exemptions=True)


def own_path(target: str | None) -> str | None:
    """The target if it is a path on this site, else None: redirects never leave the site."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read a backslash as a slash and drop tabs and newlines: "/\\host" or "/\t/host" would leave.
    if any(c == "\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _secure_cookies(app: Flask) -> None:
    """Served over HTTPS: cookies only over HTTPS, and links in mails made with https."""
    public_url = app.config.get("FORMSVC_PUBLIC_URL") or ""
    # Tests give https public addresses (for the links in mails) to test clients that speak plain http.
    if public_url.startswith("https://") and not app.testing:
        app.config["SESSION_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["PREFERRED_URL_SCHEME"] = "https"


def _behind_proxies(app: Flask) -> None:
    """Trust X-Forwarded-For/-Proto/-Host from exactly as many proxies as we are told (0: none)."""
    count = app.config["FORMSVC_PROXY_COUNT"]
    if count:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_prefix=count)


def _bind_limiter(app: Flask) -> None:
    # The one Limiter object keeps some settings from the first app it was bound to. A process builds
    # one app in production but many in tests: forget the last app's, so each app's own settings apply.
    limiter._swallow_errors = None
    limiter._headers_enabled = None
    limiter._key_prefix = ""
    limiter.init_app(app)


def init_app(app: Flask) -> None:
    _secure_cookies(app)
    _behind_proxies(app)
    _bind_limiter(app)  # first: a flood is counted before any other work is done for it
    # check_csrf runs Flask-WTF's check; its own hook stays off so it does not run twice.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    app.before_request(apply_body_limit)
    app.before_request(refuse_nul)
    app.before_request(check_csrf)
    # Limits kept in memory are per process: gunicorn.conf.py says so at start when it runs several workers
    # (a one-process dev server or command has nothing to warn about).
    embed.init_app(app)
    app.after_request(set_headers)
