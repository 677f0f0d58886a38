"""The authorisation matrix: every route in the url_map, as an anonymous visitor, as staff of each role, and
as someone holding a receipt or token for another form and organisation, against an explicit expected table.

Staff roles: the `staff` column is an Administratör; `handlaggare` is a Handläggare (same as `staff` unless
the line says); `lasare` is a Läsare given the form the URL names (anslutning), `lasare_other` a Läsare given
another form (prioritering). On /staff routes a Läsare gets 403 unless the line says otherwise; elsewhere
both Läsare get what `staff` gets.

A route without a line in ROUTES fails test_every_route_has_an_expected_line: add one line per new
route (method, rule, URL arguments, expected status for each visitor, and its rate limit if it has one).
The same table drives the rate-limit test, on Redis shared by two app instances as two workers would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from helpers import hidden_values, login, submit

LOGIN = "login"  # a redirect to the staff login page
REDIS_URL = "redis://127.0.0.1:6379"
NO_ACCOUNT = {"email": "ingen@example.org", "password": "fel lösenord"}


@dataclass
class World:
    """What the visitors hold: the owner's answer (form anslutning, organisation A) that the URLs point at;
    the other visitor has an answer of their own to another form for organisation B."""

    app: object
    owner_slug: str = "anslutning"
    owner_reference: str = ""
    other_reference: str = ""
    extra: dict = field(default_factory=dict)  # for routes added later: tokens and the like they need


Args = dict | Callable[[World], dict]


@dataclass(frozen=True)
class Case:
    """For routes with a token in the address the token is the credential: `args` then holds a made-up one
    (anonymous, staff), `other_args` a real token of another kind or organisation, `owner_args` the right one."""

    args: Args  # URL arguments, or a function making them from the world
    anonymous: int | str
    staff: int | str
    other: int | str
    owner: int | str | None = None  # the visitor the object belongs to: proves the refusals are not blanket
    data: dict = field(default_factory=dict)  # form fields of a POST (a valid CSRF token is added)
    limit: str | None = None  # config key of the route's rate limit
    other_args: Args | None = None
    owner_args: Args | None = None
    handlaggare: int | str | None = None  # None: as staff
    lasare: int | str | None = None  # None: 403 on /staff routes, else as staff
    lasare_other: int | str | None = None  # likewise

    def expected(self, who: str, rule: str) -> int | str | None:
        """What this visitor should get; the staff roles fall back as the module docstring says."""
        value = getattr(self, who)
        if who == "handlaggare" and value is None:
            return self.staff
        if who in ("lasare", "lasare_other") and value is None:
            return 403 if rule.startswith("/staff/") else self.staff
        return value

    def url_args(self, who: str, world: World) -> dict:
        chosen = {"other": self.other_args, "owner": self.owner_args}.get(who) or self.args
        return chosen(world) if callable(chosen) else chosen


def token(kind: str) -> Callable[[World], dict]:
    return lambda w: {"token": w.extra[kind]}


MADE_UP = {"token": "x" * 43}


ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/"): Case({}, 200, 200, 200),
    ("GET", "/f/<slug>"): Case({"slug": "nyhetsbrev"}, 200, 200, 200),
    ("POST", "/f/<slug>"): Case({"slug": "nyhetsbrev"}, 422, 422, 422, limit="FORMSVC_SUBMIT_LIMIT"),
    ("GET", "/f/<slug>/tack/<reference>"): Case(
        lambda w: {"slug": w.owner_slug, "reference": w.owner_reference}, 404, 404, 404, owner=200),
    ("GET", "/tillganglighet"): Case({}, 200, 200, 200),
    ("GET", "/personuppgifter"): Case({}, 200, 200, 200),
    ("GET", "/healthz"): Case({}, 200, 200, 200),
    ("GET", "/static/<path:filename>"): Case({"filename": "formsvc.css"}, 200, 200, 200),
    ("GET", "/staff/"): Case({}, LOGIN, 200, LOGIN, lasare=200, lasare_other=200),
    ("GET", "/staff/login"): Case({}, 200, 302, 200, lasare=302, lasare_other=302),
    ("POST", "/staff/login"): Case(
        {}, 401, 302, 401, data=NO_ACCOUNT, limit="FORMSVC_LOGIN_LIMIT", lasare=302, lasare_other=302),
    ("POST", "/staff/logout"): Case(  # staff: logged out, back to the login page
        {}, LOGIN, LOGIN, LOGIN, lasare=LOGIN, lasare_other=LOGIN),
    ("GET", "/staff/password"): Case({}, LOGIN, 200, LOGIN, lasare=200, lasare_other=200),
    ("POST", "/staff/password"): Case(  # staff: no fields filled in
        {}, LOGIN, 422, LOGIN, lasare=422, lasare_other=422),
    ("GET", "/staff/retention"): Case({}, LOGIN, 200, LOGIN, handlaggare=403),
    # the outbox's held and failed mails (issue 15); no such mail: 404
    ("GET", "/staff/outbox"): Case({}, LOGIN, 200, LOGIN),
    ("POST", "/staff/outbox/<int:message_id>/release"): Case({"message_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/outbox/<int:message_id>/discard"): Case({"message_id": 999999}, LOGIN, 404, LOGIN),
    # newsletter (issue 5); its links share one limit, so only the first names it
    ("GET", "/newsletter/confirm/<token>"): Case(MADE_UP, 404, 404, 404, owner=200, other_args=token("unsubscribe"),
                                                 owner_args=token("confirm"), limit="FORMSVC_NEWSLETTER_LIMIT"),
    ("POST", "/newsletter/confirm/<token>"): Case(MADE_UP, 404, 404, 404, owner=303, other_args=token("unsubscribe"),
                                                  owner_args=token("confirm")),
    ("POST", "/newsletter/confirm/<token>/new"): Case(MADE_UP, 404, 404, 404, owner=303,
                                                      other_args=token("unsubscribe"), owner_args=token("confirm")),
    ("GET", "/newsletter/mail-sent"): Case({}, 200, 200, 200),
    ("GET", "/newsletter/unsubscribe/<token>"): Case(MADE_UP, 404, 404, 404, owner=200, other_args=token("confirm"),
                                                     owner_args=token("unsubscribe")),
    ("POST", "/newsletter/unsubscribe/<token>"): Case(MADE_UP, 404, 404, 404, owner=303,
                                                      other_args=token("confirm"), owner_args=token("unsubscribe")),
    ("GET", "/staff/newsletter"): Case({}, LOGIN, 200, LOGIN),
    ("GET", "/staff/newsletter/export.csv"): Case({}, LOGIN, 200, LOGIN),
    ("GET", "/staff/newsletter/export.xlsx"): Case({}, LOGIN, 200, LOGIN),
    ("GET", "/staff/newsletter/<int:subscription_id>/remove"): Case(
        lambda w: {"subscription_id": w.extra["subscription_id"]}, LOGIN, 200, LOGIN, handlaggare=403),
    ("POST", "/staff/newsletter/<int:subscription_id>/remove"): Case(
        lambda w: {"subscription_id": w.extra["subscription_id"]}, LOGIN, 303, LOGIN, handlaggare=403),
    # sharing (issue 9)
    ("GET", "/s/<code>"): Case({"code": "finnsinte"}, 404, 404, 404, owner=302,
                               owner_args=lambda w: {"code": w.extra["short_code"]}),
    ("GET", "/staff/forms/<slug>/share"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("GET", "/staff/forms/<slug>/share/email"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("GET", "/staff/forms/<slug>/share/qr.png"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("GET", "/staff/forms/<slug>/share/qr.svg"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("POST", "/staff/forms/<slug>/share/short"): Case({"slug": "anslutning"}, LOGIN, 303, LOGIN),
    # invitations and the organisation register (issue 4): unknown ids and tokens; owner lines still to add
    ("GET", "/i/<token>"): Case(MADE_UP, 404, 404, 404, limit="FORMSVC_INVITATION_LIMIT"),
    ("GET", "/staff/invitations/<slug>"): Case({"slug": "nominering"}, LOGIN, 200, LOGIN),
    ("GET", "/staff/invitations/<slug>/mail"): Case({"slug": "nominering"}, LOGIN, 200, LOGIN),
    ("GET", "/staff/invitations/<slug>/organisations/<int:organisation_id>"): Case(
        {"slug": "nominering", "organisation_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/invitations/<slug>/create"): Case({"slug": "nominering"}, LOGIN, 303, LOGIN),
    ("POST", "/staff/invitations/<slug>/mail"): Case({"slug": "nominering"}, LOGIN, 400, LOGIN),
    ("POST", "/staff/invitations/<slug>/<int:invitation_id>/link"): Case(
        {"slug": "nominering", "invitation_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/invitations/<slug>/<int:invitation_id>/revoke"): Case(
        {"slug": "nominering", "invitation_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/invitations/<slug>/answers/<reference>/accept"): Case(
        {"slug": "nominering", "reference": "ABCD-EFGH"}, LOGIN, 404, LOGIN),
    ("POST", "/staff/invitations/<slug>/answers/<reference>/reject"): Case(
        {"slug": "nominering", "reference": "ABCD-EFGH"}, LOGIN, 404, LOGIN),
    ("GET", "/staff/organisations"): Case({}, LOGIN, 200, LOGIN),
    ("GET", "/staff/organisations/new"): Case({}, LOGIN, 200, LOGIN),
    ("POST", "/staff/organisations/new"): Case({}, LOGIN, 422, LOGIN),
    ("GET", "/staff/organisations/<int:organisation_id>/edit"): Case({"organisation_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/organisations/<int:organisation_id>/edit"): Case({"organisation_id": 999999}, LOGIN, 404, LOGIN),
    ("GET", "/staff/organisations/import"): Case({}, LOGIN, 200, LOGIN),
    ("POST", "/staff/organisations/import"): Case({}, LOGIN, 422, LOGIN),
    ("POST", "/staff/organisations/import/confirm"): Case({}, LOGIN, 400, LOGIN),
    # results, answers, exports and the audit log (issue 3)
    ("GET", "/staff/audit"): Case({}, LOGIN, 200, LOGIN, handlaggare=403),
    ("GET", "/staff/forms/<slug>/results"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN, lasare=200),
    ("GET", "/staff/forms/<slug>/results/<key>"): Case(
        {"slug": "anslutning", "key": "kontaktperson"}, LOGIN, 200, LOGIN, lasare=200),
    ("GET", "/staff/forms/<slug>/responses"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN, lasare=200),
    ("GET", "/staff/forms/<slug>/responses/<reference>"): Case(
        {"slug": "anslutning", "reference": "ZZZZ-ZZZZ"}, LOGIN, 404, LOGIN, lasare=404),
    ("GET", "/staff/forms/<slug>/responses/<reference>/delete"): Case(
        {"slug": "anslutning", "reference": "ZZZZ-ZZZZ"}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/forms/<slug>/responses/<reference>/delete"): Case(
        {"slug": "anslutning", "reference": "ZZZZ-ZZZZ"}, LOGIN, 404, LOGIN, handlaggare=403),
    ("GET", "/staff/forms/<slug>/organisations"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN, lasare=200),
    ("GET", "/staff/forms/<slug>/export.xlsx"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN, lasare=200),
    ("GET", "/staff/forms/<slug>/export.csv"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN, lasare=200),
    # registrar copies (issue 18): a receipt for the answer does not open its copy
    ("GET", "/staff/forms/<slug>/responses/<reference>/diariekopia.pdf"): Case(
        lambda w: {"slug": w.owner_slug, "reference": w.owner_reference}, LOGIN, 200, LOGIN, owner=LOGIN, lasare=200),
    ("GET", "/staff/forms/<slug>/diariekopior.pdf"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN, lasare=200),
    ("GET", "/staff/roster"): Case({}, LOGIN, 200, LOGIN),
    ("GET", "/staff/roster.xlsx"): Case({}, LOGIN, 200, LOGIN),
    # live vote (issue 6): unknown codes and rounds; owner lines still to add
    ("GET", "/live/"): Case({}, 200, 200, 200),
    ("GET", "/live/<code>"): Case({"code": "ZZZZZZ"}, 404, 404, 404),
    ("POST", "/live/<code>"): Case({"code": "ZZZZZZ"}, 404, 404, 404),
    ("GET", "/live/<code>/tack"): Case({"code": "ZZZZZZ"}, 404, 404, 404),
    ("GET", "/staff/live/"): Case({}, LOGIN, 200, LOGIN),
    ("POST", "/staff/live/"): Case({}, LOGIN, 422, LOGIN),
    ("GET", "/staff/live/<int:round_id>"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    ("GET", "/staff/live/<int:round_id>/platskoder"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    ("GET", "/staff/live/<int:round_id>/resultat.xlsx"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    ("GET", "/staff/live/<int:round_id>/tally.json"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/live/<int:round_id>/stang"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    ("GET", "/staff/live/<int:round_id>/projektor"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    ("POST", "/staff/live/<int:round_id>/resultat"): Case({"round_id": 999999}, LOGIN, 404, LOGIN),
    # the form editor (issue 17): a POST without fields is refused next to them; unknown questions 404
    ("GET", "/staff/forms-admin/"): Case({}, LOGIN, 200, LOGIN),
    ("POST", "/staff/forms-admin/new"): Case({}, LOGIN, 422, LOGIN),
    ("GET", "/staff/forms-admin/<slug>"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/settings"): Case({"slug": "anslutning"}, LOGIN, 422, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/fields"): Case({"slug": "anslutning"}, LOGIN, 400, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/fields/<key>"): Case({"slug": "anslutning", "key": "finnsinte"},
                                                             LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/fields/<key>/move"): Case({"slug": "anslutning", "key": "finnsinte"},
                                                                  LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/fields/<key>/remove"): Case({"slug": "anslutning", "key": "finnsinte"},
                                                                    LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/mails"): Case({"slug": "anslutning"}, LOGIN, 422, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/mails/<int:number>"): Case({"slug": "anslutning", "number": 99},
                                                                    LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/mails/<int:number>/remove"): Case({"slug": "anslutning", "number": 99},
                                                                           LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/rules"): Case({"slug": "anslutning"}, LOGIN, 422, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/rules/<int:number>"): Case({"slug": "anslutning", "number": 99},
                                                                    LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/rules/<int:number>/remove"): Case({"slug": "anslutning", "number": 99},
                                                                           LOGIN, 404, LOGIN),
    ("GET", "/staff/forms-admin/<slug>/preview"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/preview"): Case({"slug": "anslutning"}, LOGIN, 422, LOGIN),
    ("GET", "/staff/forms-admin/<slug>/preview/mobil"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/publish"): Case({"slug": "finnsinte"}, LOGIN, 404, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/archive"): Case({"slug": "finnsinte"}, LOGIN, 404, LOGIN),
    ("GET", "/staff/forms-admin/<slug>/history"): Case({"slug": "anslutning"}, LOGIN, 200, LOGIN),
    ("POST", "/staff/forms-admin/<slug>/history/<version>/publish"): Case(
        {"slug": "anslutning", "version": "0" * 12}, LOGIN, 404, LOGIN),
    ("GET", "/staff/forms-admin/<slug>/<kind>.yaml"): Case({"slug": "anslutning", "kind": "published"},
                                                           LOGIN, 200, LOGIN),
    # webhooks (issue 18): unknown endpoints; a POST without fields is refused next to them
    ("GET", "/staff/webhooks/"): Case({}, LOGIN, 200, LOGIN, handlaggare=403),
    ("GET", "/staff/webhooks/new"): Case({}, LOGIN, 200, LOGIN, handlaggare=403),
    ("POST", "/staff/webhooks/new"): Case({}, LOGIN, 422, LOGIN, handlaggare=403),
    ("GET", "/staff/webhooks/<int:endpoint_id>"): Case({"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/webhooks/<int:endpoint_id>"): Case({"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/webhooks/<int:endpoint_id>/disable"): Case(
        {"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/webhooks/<int:endpoint_id>/enable"): Case(
        {"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/webhooks/<int:endpoint_id>/retry"): Case(
        {"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("GET", "/staff/webhooks/<int:endpoint_id>/delete"): Case(
        {"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/webhooks/<int:endpoint_id>/delete"): Case(
        {"endpoint_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    # the read API and its keys (issue 18): without a key everyone gets 401 in JSON, a staff session too
    # (the API never reads the session); key by key, tests/test_api.py
    ("GET", "/api/v1/forms"): Case({}, 401, 401, 401, limit="FORMSVC_API_LIMIT"),
    ("GET", "/api/v1/forms/<slug>"): Case({"slug": "anslutning"}, 401, 401, 401),
    ("GET", "/api/v1/forms/<slug>/answers"): Case({"slug": "anslutning"}, 401, 401, 401),
    ("GET", "/api/v1/forms/<slug>/answers/<reference>"): Case(
        lambda w: {"slug": w.owner_slug, "reference": w.owner_reference}, 401, 401, 401, owner=401),
    ("GET", "/api/v1/organisations"): Case({}, 401, 401, 401),
    ("GET", "/api/v1/subscribers"): Case({}, 401, 401, 401),
    ("GET", "/api/v1/openapi.json"): Case({}, 200, 200, 200),
    ("GET", "/staff/api-keys/"): Case({}, LOGIN, 200, LOGIN, handlaggare=403),
    ("POST", "/staff/api-keys/"): Case({}, LOGIN, 422, LOGIN, handlaggare=403),
    ("POST", "/staff/api-keys/<int:key_id>/revoke"): Case({"key_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    # staff accounts and roles (issue 17): Administratörs only; unknown accounts; a POST without fields
    ("GET", "/staff/accounts/"): Case({}, LOGIN, 200, LOGIN, handlaggare=403),
    ("POST", "/staff/accounts/"): Case({}, LOGIN, 422, LOGIN, handlaggare=403),
    ("POST", "/staff/accounts/<int:staff_id>/role"): Case({"staff_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/accounts/<int:staff_id>/forms"): Case({"staff_id": 999999}, LOGIN, 404, LOGIN, handlaggare=403),
    ("POST", "/staff/accounts/<int:staff_id>/forms/<slug>/take"): Case(
        {"staff_id": 999999, "slug": "anslutning"}, LOGIN, 404, LOGIN, handlaggare=403),
}


def app_routes(app) -> set[tuple[str, str]]:
    return {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def test_every_route_has_an_expected_line(app):
    routes = app_routes(app)
    missing = sorted(routes - set(ROUTES))
    assert not missing, f"add a line to ROUTES in tests/test_authorisation.py for: {missing}"
    gone = sorted(set(ROUTES) - routes)
    assert not gone, f"ROUTES has lines for routes that no longer exist: {gone}"


ANSLUTNING_A = {
    "organisation": "Organisation A", "organisationstyp": "kommun", "kontaktperson": "Ada Andersson",
    "epost": "ada@example.org", "fokusomraden": ["makt"], "samtycke": "y",
}
NYHETSBREV_B = {"epost": "bo@example.org", "organisation": "Organisation B", "samtycke": "y"}


def build_url(app, rule: str, args: dict) -> str:
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == rule)
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **args)


def outcome(response) -> int | str:
    if response.status_code in (302, 303) and "/staff/login" in response.headers.get("Location", ""):
        return LOGIN
    return response.status_code


def effective(response, directive: str) -> str | None:
    """A CSP directive's value, falling back to default-src as browsers do for fetch directives."""
    parts = dict(
        (p.split()[0], " ".join(p.split()[1:])) for p in response.headers["Content-Security-Policy"].split(";")
        if p.strip()
    )
    return parts.get(directive, parts.get("default-src") if directive.endswith("-src") else None)


class Visitor:
    """A browser with its own session; POSTs carry a valid CSRF token, so what is tested is authorisation."""

    def __init__(self, app, credentials=None):
        self.app, self.credentials = app, credentials
        self.client = app.test_client()
        self.log_in()

    def log_in(self):
        if self.credentials:
            assert login(self.client, *self.credentials).status_code == 303

    def token(self) -> str:
        page = self.client.get("/staff/" if self.credentials else "/f/nyhetsbrev")
        return hidden_values(page.get_data(as_text=True))["csrf_token"]

    def request(self, method: str, url: str, data: dict):
        if method == "GET":
            response = self.client.get(url)
        else:
            response = self.client.open(url, method=method, data={"csrf_token": self.token(), **data})
        response.get_data()
        response.close()  # a streamed download keeps its request's context until closed
        if self.credentials and self.client.get("/staff/").status_code != 200:
            self.log_in()  # the route logged us out: log in again for the next one
        return response


@pytest.fixture
def world(app, staff) -> World:
    owner, other = app.test_client(), app.test_client()
    world = World(app)
    world.owner_reference = submit(owner, "anslutning", ANSLUTNING_A).headers["Location"].rsplit("/", 1)[-1]
    world.other_reference = submit(other, "nyhetsbrev", NYHETSBREV_B).headers["Location"].rsplit("/", 1)[-1]
    world.extra["owner"], world.extra["other"] = owner, other
    _newsletter_and_short_link(world)
    return world


def _newsletter_and_short_link(world: World) -> None:
    """The owner's newsletter links and a short link, for the routes of issues 5 and 9."""
    from datetime import timedelta

    from formsvc.extensions import db
    from formsvc.models import utcnow
    from formsvc.newsletter.models import CONFIRM, UNSUBSCRIBE, Subscription
    from formsvc.newsletter.subscriptions import new_token, sign_up
    from formsvc.sharing.models import short_link_for

    with world.app.test_request_context():
        subscription = db.session.get(Subscription, sign_up("ada@example.org", "nyhetsbrev", "v1"))
        world.extra["confirm"] = new_token(subscription, CONFIRM, expires_at=utcnow() + timedelta(days=7))
        world.extra["unsubscribe"] = new_token(subscription, UNSUBSCRIBE)
        link, _made = short_link_for("anslutning", "organisation=Organisation+A", created_by="system")
        db.session.commit()
        world.extra["subscription_id"], world.extra["short_code"] = subscription.id, link.code


ROLE_PASSWORD = "ett långt lösenord för en roll"


def role_account(app, email: str, role: str, given: tuple[str, ...] = ()) -> tuple[str, str]:
    """A staff account of this role, given these forms; returns (email, password)."""
    from werkzeug.security import generate_password_hash

    from formsvc.access.models import FormGrant
    from formsvc.extensions import db
    from formsvc.staff.models import StaffUser

    with app.app_context():
        user = StaffUser(email=email, role=role, session_token=uuid.uuid4().hex,
                         password_hash=generate_password_hash(ROLE_PASSWORD, "pbkdf2:sha256:1000"))
        db.session.add(user)
        db.session.flush()
        db.session.add_all(FormGrant(staff_user_id=user.id, form_slug=slug, given_by="test") for slug in given)
        db.session.commit()
    return email, ROLE_PASSWORD


def test_every_staff_rule_is_in_the_role_policy(app):
    """The policy fails closed (a missing rule is for Administratörs only), but every rule should be decided."""
    from formsvc.access.policy import OPEN, POLICY

    staff_routes = {key for key in app_routes(app) if key[1].startswith("/staff")}
    missing = sorted(staff_routes - set(POLICY) - OPEN)
    assert not missing, f"add these to POLICY in formsvc/access/policy.py: {missing}"


def test_every_route_answers_each_visitor_as_the_table_says(app, staff, world):
    visitors = {"anonymous": Visitor(app), "staff": Visitor(app, staff), "other": Visitor(app)}
    visitors["handlaggare"] = Visitor(app, role_account(app, "roll-handlaggare@example.org", "handlaggare"))
    visitors["lasare"] = Visitor(app, role_account(app, "roll-lasare@example.org", "lasare", ("anslutning",)))
    visitors["lasare_other"] = Visitor(app, role_account(app, "roll-lasare2@example.org", "lasare", ("prioritering",)))
    visitors["other"].client = world.extra["other"]  # holds a receipt of its own, for another form and org
    visitors["owner"] = Visitor(app)
    visitors["owner"].client = world.extra["owner"]
    mismatches = []
    for (method, rule), case in sorted(ROUTES.items(), key=lambda item: item[0][1] == "/staff/logout"):
        if (method, rule) not in app_routes(app):
            continue  # reported by test_every_route_has_an_expected_line
        for who in ("anonymous", "staff", "handlaggare", "lasare", "lasare_other", "other", "owner"):
            expected = case.expected(who, rule)
            if expected is None:
                continue
            url = build_url(app, rule, case.url_args(who, world))
            response = visitors[who].request(method, url, case.data)
            got = outcome(response)
            if got != expected:
                mismatches.append(f"{method} {url} as {who}: expected {expected}, got {got}")
            # Every answer, whoever asks, carries the strict headers (a page may set a stricter policy itself).
            assert effective(response, "object-src") == "'none'", (method, url)
            assert effective(response, "base-uri") == "'none'", (method, url)
            assert response.headers["X-Content-Type-Options"] == "nosniff", (method, url)
            if rule.startswith("/staff/") and got == 200:
                assert response.headers["Cache-Control"] == "no-store", (method, url)
    assert not mismatches, "\n".join(mismatches)


LIMITED = sorted((key, case) for key, case in ROUTES.items() if case.limit)


def test_rate_limits_are_shared_by_workers_through_redis(make_app, staff):
    """Two app instances (two workers) on one Redis: together they allow the limit, then 429 in Swedish."""
    assert LIMITED, "the table names no rate-limited route"
    prefix = f"formsvc-test-{uuid.uuid4().hex}"  # unique per run: other runs share this Redis
    settings = {case.limit: "3 per minute" for _, case in LIMITED}
    workers = [
        make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=REDIS_URL, RATELIMIT_KEY_PREFIX=prefix,
                 RATELIMIT_SWALLOW_ERRORS=False, **settings)
        for _ in range(2)
    ]
    for (method, rule), case in LIMITED:
        url = build_url(workers[0], rule, case.args if isinstance(case.args, dict) else {})
        statuses = []
        for attempt in range(4):
            visitor = Visitor(workers[attempt % 2])  # a fresh session each time: the limit is per client address
            statuses.append(visitor.request(method, url, case.data))
        assert 429 not in [r.status_code for r in statuses[:3]], (method, rule)
        assert statuses[3].status_code == 429, (method, rule, [r.status_code for r in statuses])
        if rule.startswith("/api/"):  # the API answers in JSON, in English, like its other errors
            assert statuses[3].get_json()["error"]["code"] == "too_many_requests"
        else:
            assert "för många försök" in statuses[3].get_data(as_text=True)


def test_without_redis_the_service_still_takes_answers(make_app):
    """A rate-limit store that is down must not cost anyone their answer: requests go through uncounted."""
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:1",
                   FORMSVC_SUBMIT_LIMIT="1 per minute")
    client = app.test_client()
    assert submit(client, "nyhetsbrev", {"epost": "ada@example.org", "samtycke": "y"}).status_code == 303
