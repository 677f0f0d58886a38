"""Settings: defaults, then instance/config.py, then environment variables (which win).

Read inside create_app, never at import, so tests and several instances can differ.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """A top-level folder of the project (templates, forms, data); inside the package when installed."""
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else PACKAGE_DIR.parent / name


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _names(value: str) -> list[str]:
    """A list written with commas or spaces: "a.example.org, b.example.org"."""
    return value.replace(",", " ").split()


# Environment variable -> (config key, converter)
ENVIRONMENT = {
    "FORMSVC_SECRET_KEY": ("SECRET_KEY", str),
    "FORMSVC_DATABASE_URL": ("SQLALCHEMY_DATABASE_URI", str),
    "FORMSVC_SECRETARIAT_EMAIL": ("FORMSVC_SECRETARIAT_EMAIL", str),
    "FORMSVC_SECRETARIAT_PHONE": ("FORMSVC_SECRETARIAT_PHONE", str),
    "FORMSVC_CONTROLLER": ("FORMSVC_CONTROLLER", str),
    "FORMSVC_PUBLIC_URL": ("FORMSVC_PUBLIC_URL", str),
    "FORMSVC_REGISTRAR_EMAIL": ("FORMSVC_REGISTRAR_EMAIL", str),
    "FORMSVC_FORMS_DIR": ("FORMSVC_FORMS_DIR", str),
    "FORMSVC_MAIL_DIR": ("FORMSVC_MAIL_DIR", str),
    "FORMSVC_MAIL_FLUSH_SECONDS": ("FORMSVC_MAIL_FLUSH_SECONDS", float),
    "FORMSVC_CATALOG_CHECK_SECONDS": ("FORMSVC_CATALOG_CHECK_SECONDS", float),
    "FORMSVC_RATELIMIT_STORAGE_URL": ("RATELIMIT_STORAGE_URI", str),
    "FORMSVC_RATELIMIT_KEY_PREFIX": ("RATELIMIT_KEY_PREFIX", str),
    "FORMSVC_PROXY_COUNT": ("FORMSVC_PROXY_COUNT", int),
    "FORMSVC_SMTP_TIMEOUT": ("FORMSVC_SMTP_TIMEOUT", float),
    "FORMSVC_MAX_CONTENT_LENGTH": ("MAX_CONTENT_LENGTH", int),
    "FORMSVC_UPLOAD_MAX_BYTES": ("FORMSVC_UPLOAD_MAX_BYTES", int),
    "FORMSVC_MAIL_PER_ADDRESS_HOUR": ("FORMSVC_MAIL_PER_ADDRESS_HOUR", int),
    "FORMSVC_WEBHOOK_ALLOWED_HOSTS": ("FORMSVC_WEBHOOK_ALLOWED_HOSTS", _names),
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _bool),
    "MAIL_USE_SSL": ("MAIL_USE_SSL", _bool),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_DEFAULT_SENDER": ("MAIL_DEFAULT_SENDER", str),
}


def default_settings(instance_path: str) -> dict:
    instance = Path(instance_path)
    return {
        "SECRET_KEY": None,
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'formsvc.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "FORMSVC_FORMS_DIR": str(resource_dir("forms")),
        # How often a worker asks the database whether a form was published (catalog.Catalog).
        "FORMSVC_CATALOG_CHECK_SECONDS": 1.0,
        "FORMSVC_SECRETARIAT_EMAIL": None,
        # Shown with the e-mail address in every page's footer and every mail (the contact block).
        "FORMSVC_SECRETARIAT_PHONE": None,
        # Who is responsible for the personal data (personuppgiftsansvarig), named on /personuppgifter.
        "FORMSVC_CONTROLLER": "Länsstyrelsen Västmanland",
        "FORMSVC_PUBLIC_URL": None,  # e.g. https://formular.example.org, for links in e-mails
        # The registrar's mailbox: a PDF copy of every answer to a form marked `record: true` goes here; None: none.
        "FORMSVC_REGISTRAR_EMAIL": None,
        "FORMSVC_MAIL_DIR": str(instance / "mail"),  # where mail goes when no MAIL_SERVER is set
        "FORMSVC_MAIL_FLUSH_SECONDS": 0,  # >0: send the outbox in the background (dev server)
        "FORMSVC_MAIL_MAX_ATTEMPTS": 8,
        # Mails sent to one address in an hour before the next is held for staff (/staff/outbox); 0: no cap.
        # Joining with the newsletter makes four mails to one person (receipt, welcome, confirm, welcome).
        "FORMSVC_MAIL_PER_ADDRESS_HOUR": 8,
        "FORMSVC_SMTP_TIMEOUT": 30,  # seconds to wait for the mail server before trying again later
        "MAIL_SERVER": None,
        "MAIL_PORT": 25,
        "MAIL_DEFAULT_SENDER": "Social hållbarhet <social.hallbarhet@example.org>",
        "BABEL_DEFAULT_LOCALE": "sv",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Stockholm",
        "LANGUAGES": ["sv", "en"],
        # A person may take their time over a form: the CSRF token lives as long as the session.
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # No session cookie is honoured longer than this after it was last set (Flask checks its signature's
        # age): a staff session lasts at most this long, and a form page left open this long must be reloaded.
        "PERMANENT_SESSION_LIFETIME": timedelta(hours=8),
        "FORMSVC_STAFF_IDLE_MINUTES": 30,  # a staff session ends after this long without a request
        "FORMSVC_STAFF_SESSION_HOURS": 8,  # and this long after login, however busy
        # Several workers or hosts must share the counts: e.g. redis://127.0.0.1:6379 (see security.py).
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "RATELIMIT_KEY_PREFIX": "formsvc",
        "RATELIMIT_HEADERS_ENABLED": True,
        # A rate-limit store that is down must not cost anyone their answer: requests go through uncounted.
        "RATELIMIT_SWALLOW_ERRORS": True,
        "FORMSVC_SUBMIT_LIMIT": "30 per minute",
        "FORMSVC_LOGIN_LIMIT": "5 per minute; 30 per hour",  # failed logins per client
        # Failed logins per account, from any address; a short window, so that someone who fails on
        # purpose keeps the account's owner out for minutes only.
        "FORMSVC_LOGIN_ACCOUNT_LIMIT": "10 per 10 minutes",
        # Requests per client to links with a token (invitation, newsletter confirm and unsubscribe), good or
        # bad; also wrong short links (/s/<code>).
        "FORMSVC_TOKEN_LIMIT": "30 per minute",
        # Live workshop votes per client address: generous, since a meeting room of a few hundred people on
        # one wifi may reach us through a single address, each voting and changing their vote.
        "FORMSVC_VOTE_LIMIT": "600 per minute",
        # Read API requests per client address, all /api/v1/ routes together, good keys or bad.
        "FORMSVC_API_LIMIT": "300 per minute",
        # How many reverse proxies stand in front (X-Forwarded-* is trusted from that many); 0: none.
        "FORMSVC_PROXY_COUNT": 0,
        "FORMSVC_FORM_TOKEN_MAX_AGE": 8 * 3600,  # seconds an embedded form's page stays valid to send
        "FORMSVC_RECEIPT_TOKEN_MAX_AGE": 3600,  # seconds an embedded form's receipt address works
        "FORMSVC_OUTBOX_RETENTION_DAYS": 30,  # sent mail (it holds the answers) is deleted after this
        # Wrong or revoked invitation links (/i/<token>) per client; good links are not counted.
        "FORMSVC_INVITATION_LIMIT": "20 per minute; 200 per day",
        "FORMSVC_ROSTER_FORM": "nominering",  # the form the council roster (/staff/roster) is read from
        # Seconds a worker reuses the organisation register it read for form pages (changes made in other
        # workers or hosts show after this; the worker that made one shows it at once).
        "FORMSVC_REGISTER_CACHE_SECONDS": 5,
        # Bytes a request body may have: more gets 413 before anything reads it. The register upload
        # (and its confirmation) may take FORMSVC_UPLOAD_MAX_BYTES instead (see security.larger_body).
        "MAX_CONTENT_LENGTH": 1024 * 1024,
        "FORMSVC_UPLOAD_MAX_BYTES": 8 * 1024 * 1024,
        # Newsletter: a confirmation link lasts this many days; one confirmation mail per address per
        # interval (seconds) however often it is entered; unconfirmed sign-ups pruned after PENDING_DAYS;
        # requests per client to the confirm and unsubscribe links.
        "FORMSVC_NEWSLETTER_CONFIRM_DAYS": 7,
        "FORMSVC_NEWSLETTER_MAIL_INTERVAL": 3600,
        "FORMSVC_NEWSLETTER_PENDING_DAYS": 30,
        "FORMSVC_NEWSLETTER_LIMIT": "30 per minute; 300 per hour",
        # Live vote: failed attempts (unknown join code, wrong seat code) per client address; successful
        # votes are not limited, as a whole meeting room may reach us through one address.
        "FORMSVC_LIVE_FAILED_LIMIT": "120 per minute",
        # Webhooks (formsvc/webhooks): the host names endpoints may point at (none: no endpoint can be saved);
        # seconds a worker reuses the list of endpoints it read; seconds to wait for a receiver; the first
        # retry's wait, doubled each time up to the cap; how long a delivery is retried before it fails.
        "FORMSVC_WEBHOOK_ALLOWED_HOSTS": [],
        "FORMSVC_WEBHOOK_CACHE_SECONDS": 5,
        "FORMSVC_WEBHOOK_TIMEOUT": 10,
        "FORMSVC_WEBHOOK_BACKOFF_SECONDS": 30,
        "FORMSVC_WEBHOOK_MAX_BACKOFF_SECONDS": 4 * 3600,
        "FORMSVC_WEBHOOK_RETRY_SECONDS": 24 * 3600,
        "FORMSVC_WEBHOOK_KEEP_DAYS": 30,  # finished deliveries are deleted after this (by the sender)
    }


def load_config(app, test_config: dict | None) -> None:
    app.config.from_mapping(default_settings(app.instance_path))
    if test_config is not None:
        app.config.update(test_config)
        return
    app.config.from_pyfile("config.py", silent=True)
    for variable, (key, convert) in ENVIRONMENT.items():
        if os.environ.get(variable):
            app.config[key] = convert(os.environ[variable])


MIN_SECRET_KEY_BYTES = 32


def check_config(app) -> None:
    """Refuse to run in production on settings that would be unsafe (tests and debug get stand-ins)."""
    development = app.debug or app.testing
    if not app.config.get("SECRET_KEY"):
        if development:
            app.config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            raise RuntimeError(
                "FORMSVC_SECRET_KEY is not set. Set it in the environment or in instance/config.py "
                "(python -c 'import secrets; print(secrets.token_hex(32))')."
            )
    if development:
        return
    if len(str(app.config["SECRET_KEY"]).encode()) < MIN_SECRET_KEY_BYTES:
        raise RuntimeError(
            f"FORMSVC_SECRET_KEY is shorter than {MIN_SECRET_KEY_BYTES} bytes: anyone could guess it and sign "
            "their own session. Make a new one: python -c 'import secrets; print(secrets.token_hex(32))'."
        )
    # Links in mails, QR codes and share pages must never be built from the Host header an attacker sends.
    if not app.config.get("FORMSVC_PUBLIC_URL"):
        raise RuntimeError(
            "FORMSVC_PUBLIC_URL is not set: links in mails and QR codes need the service's public address "
            "(they are never taken from the request), e.g. FORMSVC_PUBLIC_URL=https://formular.example.org."
        )
