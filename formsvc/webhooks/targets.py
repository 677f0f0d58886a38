"""Where a webhook may go: http(s) to a host the operators allowed (FORMSVC_WEBHOOK_ALLOWED_HOSTS), never
to the service itself. Checked when staff save an endpoint and again before every delivery, then on the
addresses the name resolves to; the delivery connects to the address that was checked, so a name that
resolves differently a moment later (DNS rebinding) cannot slip past."""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext

DEFAULT_PORTS = {"http": 80, "https": 443}


class Refused(Exception):
    """The address may not be used; the message says why, in the page's language."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # lower case, as in the URL (IPv6 without brackets)
    port: int
    path: str  # path and query, as sent in the request line


def parse(url: str) -> Target:
    """The URL's parts, if it is one staff may register; Refused otherwise (no name resolution here)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise Refused(
            gettext("Adressen går inte att läsa. Skriv hela adressen, till exempel https://system.example.org/webhook.")
        ) from None
    if parts.scheme not in DEFAULT_PORTS:
        raise Refused(gettext("Adressen måste börja med https:// eller http://."))
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise Refused(gettext("Adressen saknar ett värdnamn, till exempel system.example.org."))
    if parts.username or parts.password:
        raise Refused(
            gettext("Skriv inte användarnamn eller lösenord i adressen. Mottagaren kontrollerar i stället signaturen.")
        )
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = Target(parts.scheme, host, port or DEFAULT_PORTS[parts.scheme], path)
    if target.host == _service()[0]:
        raise Refused(_itself())
    if target.host not in allowed_hosts():
        raise Refused(
            gettext(
                "Värden %(host)s finns inte bland de värdar som får ta emot webbhookar. Be den som driftar "
                "tjänsten att lägga till den i inställningen FORMSVC_WEBHOOK_ALLOWED_HOSTS.",
                host=target.host,
            )
        )
    return target


def allowed_hosts() -> list[str]:
    """FORMSVC_WEBHOOK_ALLOWED_HOSTS, lower case."""
    hosts = current_app.config["FORMSVC_WEBHOOK_ALLOWED_HOSTS"]
    if isinstance(hosts, str):  # written as one string in instance/config.py, as in the environment
        hosts = hosts.replace(",", " ").split()
    return [name.lower().rstrip(".") for name in hosts]


def _itself() -> str:
    return gettext("Adressen går till formulärtjänsten själv. Webbhookar kan bara skickas till andra system.")


def _service() -> tuple[str | None, int | None]:
    """The service's own host name and port, from FORMSVC_PUBLIC_URL."""
    public = current_app.config.get("FORMSVC_PUBLIC_URL")
    if not public:
        return None, None
    parts = urlsplit(public)
    return (parts.hostname or "").lower().rstrip(".") or None, parts.port or DEFAULT_PORTS.get(parts.scheme)


def _addresses(host: str, port: int) -> set[str]:
    return {info[4][0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)}


def resolve(target: Target) -> str:
    """The address to connect to: the first the name resolves to, once none of them is the service's own.
    Raises OSError when the name does not resolve, Refused when it leads to the service."""
    addresses = _addresses(target.host, target.port)
    host, port = _service()
    if host and port == target.port:
        try:
            own = _addresses(host, port)
        except OSError:
            own = set()
        if addresses & own:
            raise Refused(_itself())
    return sorted(addresses)[0]


def check_resolved(url: str) -> None:
    """For the staff form: the name checks, then the resolved addresses if the name resolves now (one that
    does not may resolve later: deliveries check again)."""
    target = parse(url)
    with contextlib.suppress(OSError):
        resolve(target)


class PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to an address already checked, with the URL's host name in the Host header."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self.address = address

    def connect(self):
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS: the certificate is checked against the host name, not the address."""

    def __init__(self, target: Target, address: str, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self.address = address
        self.tls = ssl.create_default_context()

    def connect(self):
        sock = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(sock, server_hostname=self.host)


def connection(target: Target, timeout: float) -> http.client.HTTPConnection:
    """A connection to the target, checked and pinned to the address it resolved to."""
    address = resolve(target)
    kind = PinnedHTTPSConnection if target.scheme == "https" else PinnedHTTPConnection
    return kind(target, address, timeout)
