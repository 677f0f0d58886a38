"""Demo data for `make run`: something to see for every feature, and a staff login that stays the same.

The answers go in through the app's own pages, as people send them (a test client per visitor, each from
its own address in TEST-NET-1, 192.0.2.0/24, so rate limits see different people): they are checked,
stored, mailed and counted exactly as real ones, and a nomination comes through the organisation's own
personal link. What the demo adds, by part:
- the organisation register (data/organisations.csv, with example.org contacts);
- answers to the joining form, the newsletter form and the workshop vote;
- a nomination round: ten organisations invited and mailed, five have answered through their link, the
  other five got a reminder;
- newsletter subscribers: some confirmed through the mailed link, some still pending;
- a closed live round with votes.
Each part is added once: run again, a part that finds its data in the database adds nothing. The parts
commit as they go (they are the command's own steps): the visitors' requests write in transactions of
their own.

The demo staff password is kept in instance/demo-staff-password (mode 0600) so it stays the same across
restarts, until a new one is asked for.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import time
import urllib.request
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app

from .access.models import ADMIN
from .catalog import catalog
from .config import resource_dir
from .extensions import db
from .invitations.mails import INVITE, REMIND, create_invitations, recipients, send
from .invitations.models import Invitation
from .invitations.tokens import new_token as new_invitation_token
from .live import codes
from .live.models import LiveRound
from .live.voting import close_round
from .models import Organisation, Response
from .newsletter.models import CONFIRM, PENDING, Subscription
from .newsletter.subscriptions import new_token as new_newsletter_token
from .organisations import add_organisations, check_rows, demo_email, read_file
from .staff.auth import find_staff
from .staff.models import StaffUser

DEMO_STAFF = "handlaggare@example.org"
PASSWORD_FILE = "demo-staff-password"
NOMINATION_FORM = "nominering"
INVITED, ANSWERED = 10, 5

JOINING = [
    {"organisation": "Föreningen Jämställt Köping", "organisationstyp": "civilsamhalle", "kontaktperson": "Kim Exempel",
     "epost": "kim@example.org", "telefon": "0221-123 45", "fokusomraden": ["ekonomi", "vald"],
     "valkomstpaket": ["natverk", "forelasningar"], "nyhetsbrev": "ja", "samtycke": "y"},
    {"organisation": "Sala kommun", "organisationstyp": "kommun", "kontaktperson": "Robin Exempel",
     "epost": "robin@example.org", "fokusomraden": ["makt", "utbildning", "halsa"], "nyhetsbrev": "nej",
     "samtycke": "y"},
    {"organisation": "Exempelbolaget AB", "organisationstyp": "naringsliv", "kontaktperson": "Alex Exempel",
     "epost": "alex@example.org", "fokusomraden": ["omsorg"], "valkomstpaket": ["spridning"], "nyhetsbrev": "nej",
     "samtycke": "y"},
]
NEWSLETTER = [
    {"epost": "sam@example.org", "namn": "Sam Exempel", "samtycke": "y"},
    {"epost": "maja@example.org", "namn": "Maja Exempel", "organisation": "Region Västmanland", "samtycke": "y"},
    {"epost": "noa@example.org", "samtycke": "y"},
]
CONFIRMED = 2  # of the newsletter form's sign-ups, confirmed through their link; the rest stay pending
VOTES = [
    ["folkhalsa", "barnratt", "barn_unga_vald"],
    ["barn_unga_vald", "folkhalsa", "upptacka_vald"],
    ["integration", "utrikesfodda_kvinnor", "folkhalsa"],
    ["barnratt", "barn_unga_vald", "demokrati"],
    ["folkhalsa", "integration", "barnratt"],
]
MOTIVES = ["Det här är viktigast för länet.", "", "Barnen först.", "", "Hälsan påverkar allt annat."]


# ---------------------------------------------------------------- the staff login


def password_file() -> Path:
    """instance/demo-staff-password, or FORMSVC_DEMO_PASSWORD_FILE (tests keep theirs apart)."""
    return Path(current_app.config.get("FORMSVC_DEMO_PASSWORD_FILE") or Path(current_app.instance_path) / PASSWORD_FILE)


def demo_password(new: bool = False) -> str:
    """The kept demo password; a new random one when asked or when none is kept. Readable by its owner only."""
    path = password_file()
    if not new and path.exists() and (kept := path.read_text(encoding="utf-8").strip()):
        path.chmod(0o600)  # made readable by others since: no longer
        return kept
    password = secrets.token_urlsafe(12)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(password + "\n")
    path.chmod(0o600)  # a file that was there before keeps its old mode otherwise
    return password


def ensure_staff(new_password: bool = False) -> str:
    """The demo staff account with the kept password (set again only when it does not match); the caller commits."""
    password = demo_password(new_password)
    user = find_staff(DEMO_STAFF) or StaffUser(email=DEMO_STAFF)
    user.role = ADMIN  # the demo shows every page
    if not user.password_hash or not user.check_password(password):
        user.set_password(password)
    db.session.add(user)
    return password


def login_text(port: int, password: str) -> str:
    """The login as `make run` prints it last: on lines of its own, easy to find."""
    line = "=" * 64
    return (f"\n{line}\n  Staff login: http://127.0.0.1:{port}/staff/\n  E-mail:      {DEMO_STAFF}\n"
            f"  Password:    {password}\n  (kept in instance/{PASSWORD_FILE}; a new one: make run NEW_PASSWORD=1)\n"
            f"{line}\n")


# ---------------------------------------------------------------- visitors


class _HiddenFields(HTMLParser):
    """The hidden inputs of the last form on a page (its CSRF token and submission key)."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "form":
            self.fields = {}
        elif tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.fields[found["name"]] = found.get("value") or ""


class Visitor:
    """One person's browser: its own cookies and its own address.

    Each request runs in an app context of its own, as under a server: otherwise it would share the
    command's `g` (and its cached CSRF token) and database session.
    """

    def __init__(self, app: Flask, number: int):
        self.app = app
        self.client = app.test_client()
        self.client.environ_base["REMOTE_ADDR"] = f"192.0.2.{number}"
        # At the public address's host: the session cookie is set for it, and sent back only to it.
        self.base = app.config["FORMSVC_PUBLIC_URL"]

    def send(self, path: str, answers: dict) -> str:
        """Open the page, send the form on it with `answers`; returns where it went. Refused: ClickException."""
        with self.app.app_context():
            page = self.client.get(path, base_url=self.base)
        if page.status_code != 200:
            raise click.ClickException(f"demo: {path} answered {page.status_code}")
        parser = _HiddenFields()
        parser.feed(page.get_data(as_text=True))
        with self.app.app_context():
            sent = self.client.post(path, data={**parser.fields, **answers}, base_url=self.base)
        if sent.status_code != 303:
            said = " ".join(re.sub(r"<[^>]+>", " ", sent.get_data(as_text=True)).split())[:800]
            raise click.ClickException(f"demo: sending {path} was refused ({sent.status_code}): {said}")
        return sent.headers["Location"]

    def follow(self, path: str) -> None:
        with self.app.app_context():
            opened = self.client.get(path, base_url=self.base)
        if opened.status_code not in (200, 302, 303):
            raise click.ClickException(f"demo: {path} did not open")


def _visitors(app: Flask) -> Callable[[], Visitor]:
    numbers = iter(range(10, 250))
    return lambda: Visitor(app, next(numbers))


def _any(query) -> bool:
    """Whether the query counts more than none. Ends the read: on SQLite a transaction holds the one write
    lock, which the visitors' requests need."""
    found = bool(db.session.scalar(query))
    db.session.commit()
    return found


def _has_answers(slug: str) -> bool:
    return _any(sa.select(sa.func.count(Response.id)).where(Response.form_slug == slug))


# ---------------------------------------------------------------- the parts


def add_register() -> str | None:
    if _any(sa.select(sa.func.count(Organisation.id))):
        return None
    rows = read_file(resource_dir("data") / "organisations.csv")
    for row in rows:
        row["contact_email"] = demo_email(row["name"])
    report = check_rows(rows)
    add_organisations(report.accepted)
    db.session.commit()
    return f"{len(report.accepted)} organisations in the register (example.org contacts)"


def add_public_answers(visitor: Callable[[], Visitor]) -> str | None:
    if _has_answers("anslutning") or _has_answers("prioritering"):
        return None
    for answers in JOINING:
        visitor().send("/f/anslutning", answers)
    # The workshop vote is live-only: outside a live round it is answered through personal links only.
    voters = list(db.session.scalars(sa.select(Organisation).order_by(Organisation.name.desc()).limit(len(VOTES))))
    links = [new_invitation_token(i, "manual") for i in create_invitations("prioritering", voters, by=DEMO_STAFF)]
    db.session.commit()
    for link, ranking, motive in zip(links, VOTES, MOTIVES, strict=True):
        person = visitor()
        person.follow(f"/i/{link}")
        person.send("/f/prioritering", {"prioriteringar": ranking, "motivering": motive})
    return f"{len(JOINING)} answers to the joining form, {len(VOTES)} to the workshop vote through personal links"


def add_subscribers(visitor: Callable[[], Visitor]) -> str | None:
    if _has_answers("nyhetsbrev"):
        return None
    for answers in NEWSLETTER:
        visitor().send("/f/nyhetsbrev", answers)
    addresses = [answers["epost"] for answers in NEWSLETTER[:CONFIRMED]]
    for subscription in list(db.session.scalars(sa.select(Subscription).where(Subscription.email.in_(addresses)))):
        token = new_newsletter_token(subscription, CONFIRM)
        db.session.commit()
        visitor().send(f"/newsletter/confirm/{token}", {})
    pending = db.session.scalar(sa.select(sa.func.count(Subscription.id)).filter_by(status=PENDING))
    return f"newsletter: {CONFIRMED} subscribers confirmed, {pending} waiting for confirmation"


def add_nomination_round(visitor: Callable[[], Visitor]) -> str | None:
    if _any(sa.select(sa.func.count(Invitation.id)).filter_by(form_slug=NOMINATION_FORM)):
        return None
    definition = catalog().get(NOMINATION_FORM)
    chosen = list(db.session.scalars(
        sa.select(Organisation).where(Organisation.contact_email.is_not(None)).order_by(Organisation.name)
        .limit(INVITED)))
    invitations = create_invitations(NOMINATION_FORM, chosen, by=DEMO_STAFF)
    db.session.flush()
    send(definition, INVITE, invitations, actor=DEMO_STAFF)
    links = [new_invitation_token(i, "manual") for i in invitations[:ANSWERED]]
    invited = len(invitations)
    db.session.commit()  # nothing read from the rows after this: a lazy load would hold SQLite's write lock
    for number, link in enumerate(links, start=1):
        person = visitor()
        person.follow(f"/i/{link}")  # the personal link: the session now knows the organisation
        person.send(f"/f/{NOMINATION_FORM}", {
            "ledamot_namn": f"Ledamot {number} Exempel", "ledamot_befattning": "Kommundirektör",
            "ledamot_epost": f"ledamot{number}@example.org", "ledamot_telefon": "021-10 00 00",
            "ersattare_namn": f"Ersättare {number} Exempel", "ersattare_befattning": "Biträdande kommundirektör",
            "ersattare_epost": f"ersattare{number}@example.org", "mandat": "y",
            "kommentar": "Vegetarisk kost, tack." if number == 1 else "",
        })
    missing = recipients(NOMINATION_FORM, REMIND)
    send(definition, REMIND, missing, actor=DEMO_STAFF)
    db.session.commit()
    return (f"nomination round: {invited} organisations invited, {ANSWERED} have nominated, "
            f"{len(missing)} reminded")


def add_live_round(visitor: Callable[[], Visitor]) -> str | None:
    if _any(sa.select(sa.func.count(LiveRound.id))):
        return None
    spec = catalog().get("prioritering").field("prioriteringar")
    taken = set(db.session.scalars(sa.select(LiveRound.join_code)))
    while (code := codes.new_code(codes.JOIN_CODE_LENGTH)) in taken:
        continue
    live_round = LiveRound(
        form_slug="prioritering", field=spec.key, title="Rådets workshop (demo)", join_code=code, mode="device",
        question=spec.label, choices=[[c.key, c.label] for c in spec.choices], rank=spec.rank, opened_by=DEMO_STAFF,
    )
    db.session.add(live_round)
    db.session.commit()
    for ranking in VOTES + VOTES[:3]:
        visitor().send(f"/live/{code}", {"prioriteringar": ranking})
    close_round(db.session.get(LiveRound, live_round.id), DEMO_STAFF)
    db.session.commit()
    return f"a closed live round with {len(VOTES) + 3} votes"


PARTS = (add_public_answers, add_subscribers, add_nomination_round, add_live_round)


def add_demo_data(app: Flask, port: int) -> list[str]:
    """Every part that is not there yet; returns what was added."""
    # Links in the mails the demo sends point at the dev server, when no public address is set.
    if not app.config.get("FORMSVC_PUBLIC_URL"):
        app.config["FORMSVC_PUBLIC_URL"] = f"http://127.0.0.1:{port}"
    added = [add_register()]
    visitor = _visitors(app)
    added += [part(visitor) for part in PARTS]
    return [line for line in added if line]


# ---------------------------------------------------------------- printed when the server is up


def print_login_when_up(port: int, instance_path: str, wait: float = 60) -> None:
    """Wait until the dev server answers /healthz, then print the login: it comes after the server's own
    start lines, last on the screen. Gives up quietly when no server answers in `wait` seconds."""
    password = (Path(instance_path) / PASSWORD_FILE).read_text(encoding="utf-8").strip()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as answer:  # noqa: S310
                if answer.status == 200:
                    time.sleep(0.3)  # the server's "Press CTRL+C to quit" is written just before it serves
                    click.secho(login_text(port, password), bold=True)
                    return
        except OSError:
            pass
        time.sleep(0.3)


if __name__ == "__main__":  # python -m formsvc.demo PORT INSTANCE_PATH (make run, in the background)
    print_login_when_up(int(sys.argv[1]), sys.argv[2])
