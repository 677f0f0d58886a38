"""Absolute links for e-mails and printed material, and how a link's secret token is stored. Links are built
under FORMSVC_PUBLIC_URL when set, else on this request's host.

A mail is read far from the request that caused it (and a command has no request at all), so links in mails
are built here, never with a bare url_for.
"""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from flask import current_app, has_request_context, url_for


def hash_token(token: str) -> str:
    """How a link's secret token is stored (invitation and newsletter links): only its hash is kept.
    A plain hash is enough: the tokens have 256 random bits, so there is nothing to guess offline."""
    return hashlib.sha256(token.encode()).hexdigest()


class NoPublicURL(RuntimeError):
    """An absolute link was needed outside a request and FORMSVC_PUBLIC_URL is not set."""


def public_url(endpoint: str, **values) -> str:
    """The absolute address of `endpoint`, e.g. public_url("invitations.enter", token=...)."""
    base = current_app.config.get("FORMSVC_PUBLIC_URL")
    if not base:
        if not has_request_context() and not current_app.config.get("SERVER_NAME"):
            raise NoPublicURL(
                "FORMSVC_PUBLIC_URL is not set: links in mails need the service's public address, "
                "e.g. FORMSVC_PUBLIC_URL=https://formular.example.org"
            )
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base.rstrip("/"))
    # Bound to the public host and path prefix, so a service behind a proxy under /formular links right.
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)
