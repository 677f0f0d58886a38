"""The newsletter: double opt-in, one-click unsubscribe, consent on record, list bombing, staff list, erasure."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa
from helpers import csrf_token, flush_mail, hidden_values, submit, text_of
from openpyxl import load_workbook

from formsvc.answers import on_answer_stored
from formsvc.audit import AuditEvent
from formsvc.definitions import DefinitionError, parse_definition
from formsvc.extensions import db
from formsvc.links import hash_token
from formsvc.mail import OutboxMessage
from formsvc.models import Organisation, Response, utcnow
from formsvc.newsletter.models import NewsletterToken, Subscription

PUBLIC_URL = "https://formular.example.org"
ADDRESS = "prenumerant@example.org"
NYHETSBREV = {"epost": ADDRESS, "namn": "Sam Exempel", "organisation": "Föreningen Exempel", "samtycke": "y"}
ANSLUTNING = {
    "organisation": "Västerås stad",
    "organisationstyp": "kommun",
    "kontaktperson": "Kim Exempel",
    "epost": "kim@example.org",
    "fokusomraden": ["makt"],
    "nyhetsbrev": "ja",
    "samtycke": "y",
}


@pytest.fixture
def app(make_app):
    """Links in mails under the public https address, as in production."""
    return make_app(FORMSVC_PUBLIC_URL=PUBLIC_URL)


def subscriptions(app) -> list[Subscription]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Subscription).order_by(Subscription.id)))
        db.session.expunge_all()
        return rows


def set_columns(app, model, **values):
    with app.app_context():
        db.session.execute(sa.update(model).values(**values))
        db.session.commit()


def link(message, kind: str) -> str:
    """The path of the confirm or unsubscribe link in a mail's text, checked to be under the public URL."""
    body = message.get_body(("plain",)).get_content()
    url = re.search(rf"https?://\S+/newsletter/{kind}/\S+", body).group(0)
    assert url.startswith(f"{PUBLIC_URL}/newsletter/{kind}/"), url
    return urlsplit(url).path


def header_link(message) -> str:
    """The List-Unsubscribe header's https link, as a path; the one-click header checked with it.

    As sent, too: a mail program reads the header's <URL> as it stands, and decodes no RFC 2047 word in it."""
    sent = dict(message.raw_items())["List-Unsubscribe"]
    assert sent == message["List-Unsubscribe"], f"sent encoded or folded: {sent!r}"
    match = re.fullmatch(r"<(https://[^>]+)>", message["List-Unsubscribe"])
    assert match, message["List-Unsubscribe"]
    assert match.group(1).startswith(f"{PUBLIC_URL}/newsletter/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    return urlsplit(match.group(1)).path


def press_button(client, path: str, action: str | None = None, **data):
    """POST the page's form as a browser would: with its CSRF token."""
    page = client.get(path)
    return client.post(action or path, data={**hidden_values(page.get_data(as_text=True)), **data})


def sign_up_and_confirm(app, client, smtp, answers=NYHETSBREV):
    assert submit(client, "nyhetsbrev", answers).status_code == 303
    flush_mail(app)
    [mail] = smtp.to(answers["epost"])
    assert press_button(client, link(mail, "confirm")).status_code == 303
    flush_mail(app)
    return smtp.to(answers["epost"])[-1]  # the welcome mail


# --- Double opt-in -------------------------------------------------------------------------------


def test_sign_up_mails_a_link_whose_get_changes_nothing_and_whose_post_confirms(app, client, smtp):
    response = submit(client, "nyhetsbrev", NYHETSBREV)
    assert response.status_code == 303
    assert "Titta i din inkorg" in text_of(client.get(response.headers["Location"]))
    [pending] = subscriptions(app)
    assert (pending.email, pending.status, pending.name) == (ADDRESS, "pending", "Sam Exempel")
    # Consent on record: where and when, and the definition version whose text was agreed to.
    assert pending.source_form == "nyhetsbrev"
    assert pending.consent_version == app.extensions["formsvc_catalog"].get("nyhetsbrev").version
    assert pending.signed_up_at is not None and pending.confirmed_at is None

    assert flush_mail(app) == (1, 0)  # the confirmation replaces the plain receipt
    [mail] = smtp.to(ADDRESS)
    assert "Bekräfta" in mail["Subject"]
    confirm_path = link(mail, "confirm")
    token = confirm_path.rsplit("/", 1)[1]
    with app.app_context():  # stored hashed, never as it is
        hashes = set(db.session.scalars(sa.select(NewsletterToken.token_hash)))
        assert hash_token(token) in hashes and token not in hashes and len(token) >= 43

    # A mail scanner follows the link: a page with a button, nothing changed, no mail.
    for _ in range(2):
        page = client.get(confirm_path)
        assert page.status_code == 200
        assert "Ja, jag vill ha nyhetsbrevet" in text_of(page)
    assert subscriptions(app)[0].status == "pending"
    assert flush_mail(app) == (0, 0)

    # A POST without the page's CSRF token (a cross-site form) is refused and changes nothing.
    assert app.test_client().post(confirm_path).status_code == 400
    assert subscriptions(app)[0].status == "pending"

    form = hidden_values(client.get(confirm_path).get_data(as_text=True))
    confirmed = client.post(confirm_path, data=form)
    assert confirmed.status_code == 303 and confirmed.headers["Location"] == confirm_path
    assert "Prenumerationen är bekräftad" in text_of(client.get(confirm_path))
    [subscription] = subscriptions(app)
    assert subscription.status == "confirmed" and subscription.confirmed_at >= subscription.signed_up_at

    # Confirming twice (a double click, a resent POST) is fine: the same page, one welcome mail.
    assert client.post(confirm_path, data=form).status_code == 303
    assert flush_mail(app) == (1, 0)
    [_, welcome] = smtp.to(ADDRESS)
    assert "Välkommen" in welcome["Subject"]
    assert subscriptions(app)[0].confirmed_at == subscription.confirmed_at


def test_every_newsletter_mail_carries_one_click_unsubscribe_headers(app, client, smtp):
    welcome = sign_up_and_confirm(app, client, smtp)
    confirmation = smtp.to(ADDRESS)[0]
    paths = [header_link(confirmation), header_link(welcome)]
    # Each mail has its own link, the same one in the text and in the header.
    assert paths[0] != paths[1]
    assert link(confirmation, "unsubscribe") == paths[0] and link(welcome, "unsubscribe") == paths[1]
    html = welcome.get_body(("html",)).get_content()
    assert f'href="{PUBLIC_URL}{paths[1]}"' in html


def test_links_use_the_request_host_when_no_public_url_is_set(make_app, smtp):
    app = make_app()
    client = app.test_client()
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    flush_mail(app)
    [mail] = smtp.to(ADDRESS)
    assert re.fullmatch(r"<http://localhost/newsletter/unsubscribe/[\w-]{43}>", mail["List-Unsubscribe"])


def test_joining_with_newsletter_yes_signs_up_and_no_does_not(app, client, smtp):
    assert submit(client, "anslutning", {**ANSLUTNING, "epost": "nej@example.org", "nyhetsbrev": "nej"}).status_code \
        == 303
    assert submit(client, "anslutning", ANSLUTNING).status_code == 303
    [subscription] = subscriptions(app)
    assert (subscription.email, subscription.source_form) == ("kim@example.org", "anslutning")
    assert (subscription.name, subscription.organisation) == ("Kim Exempel", "Västerås stad")
    flush_mail(app)
    assert [m for m in smtp.to("kim@example.org") if m["List-Unsubscribe"]][0]["Subject"].startswith("Bekräfta")
    assert not any(m["List-Unsubscribe"] for m in smtp.to("nej@example.org"))


# --- Unsubscribe -----------------------------------------------------------------------------------


def test_one_click_unsubscribe_works_without_a_session_and_re_subscribing_works(app, client, smtp):
    welcome = sign_up_and_confirm(app, client, smtp)
    path = header_link(welcome)

    page = app.test_client().get(path)  # GET: a page with a button, nothing changed
    assert page.status_code == 200 and "Avsluta prenumerationen" in text_of(page)
    assert subscriptions(app)[0].status == "confirmed"

    # What a mail program sends (RFC 8058): no cookie, no CSRF token.
    mail_program = app.test_client()
    response = mail_program.post(
        path, data="List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    [ended] = subscriptions(app)
    assert ended.status == "unsubscribed" and ended.unsubscribed_at is not None
    assert ended.email is None and ended.name is None  # the form promises the address is deleted
    assert "Du prenumererar inte längre" in text_of(app.test_client().get(path))
    # The confirmation mail's link too now says it is over; a second one-click is fine.
    assert mail_program.post(header_link(smtp.to(ADDRESS)[0]), data={"List-Unsubscribe": "One-Click"}).status_code \
        == 200

    smtp.clear()
    sign_up_and_confirm(app, client, smtp)
    statuses = sorted(s.status for s in subscriptions(app))
    assert statuses == ["confirmed", "unsubscribed"]


def test_the_unsubscribe_button_ends_the_subscription_at_once(app, client, smtp):
    welcome = sign_up_and_confirm(app, client, smtp)
    path = header_link(welcome)
    response = press_button(client, path, button="1")
    assert response.status_code == 303 and response.headers["Location"] == path
    assert "Du prenumererar inte längre" in text_of(client.get(path))
    assert subscriptions(app)[0].status == "unsubscribed"


def test_unknown_links_get_a_clear_page_and_404(app, client):
    for path in ("/newsletter/confirm/inte-en-riktig-nyckel", "/newsletter/unsubscribe/inte-en-riktig-nyckel"):
        response = client.get(path)
        assert response.status_code == 404
        assert "Länken fungerar inte" in text_of(response)
    assert client.post("/newsletter/unsubscribe/x", data={"List-Unsubscribe": "One-Click"}).status_code == 404
    assert client.get("/newsletter/confirm/" + "x" * 5000).status_code == 404


# --- Expiry and list bombing ---------------------------------------------------------------------


def test_an_expired_link_says_so_and_offers_a_new_mail(app, client, smtp):
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    flush_mail(app)
    old_path = link(smtp.to(ADDRESS)[0], "confirm")
    set_columns(app, NewsletterToken, expires_at=utcnow() - timedelta(minutes=1))
    set_columns(app, Subscription, confirm_mailed_at=utcnow() - timedelta(days=8))

    page = client.get(old_path)
    assert page.status_code == 410
    assert "Länken har slutat gälla" in text_of(page) and "Skicka ett nytt mejl" in text_of(page)
    tried = client.post(old_path, data=hidden_values(page.get_data(as_text=True)))
    assert tried.status_code == 410 and subscriptions(app)[0].status == "pending"

    asked = press_button(client, old_path, action=f"{old_path}/new")
    assert asked.status_code == 303
    assert "Titta i din inkorg" in text_of(client.get(asked.headers["Location"]))
    assert flush_mail(app) == (1, 0)
    new_path = link(smtp.to(ADDRESS)[-1], "confirm")
    assert new_path != old_path
    assert press_button(client, new_path).status_code == 303
    assert subscriptions(app)[0].status == "confirmed"


def test_repeated_sign_ups_of_one_address_send_one_mail_an_hour(app, client, smtp):
    for _ in range(4):
        assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    shouted = {**ANSLUTNING, "epost": "  PRENUMERANT@example.org ", "kontaktperson": "Sam"}
    assert submit(client, "anslutning", shouted).status_code == 303
    flush_mail(app)
    confirmations = [m for m in smtp.to(ADDRESS) if m["Subject"].startswith("Bekräfta")]
    assert len(confirmations) == 1
    assert len(subscriptions(app)) == 1

    set_columns(app, Subscription, confirm_mailed_at=utcnow() - timedelta(minutes=61))
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    flush_mail(app)
    assert len([m for m in smtp.to(ADDRESS) if m["Subject"].startswith("Bekräfta")]) == 2


def test_the_same_address_signed_up_at_the_same_moment_makes_one_subscription_and_one_mail(app, smtp):
    # Each answer's transaction stays open a moment after the sign-up, so the others' sign-ups meet it.
    assert submit(app.test_client(), "nyhetsbrev", {**NYHETSBREV, "epost": "forst@example.org"}).status_code == 303
    on_answer_stored(app, lambda definition, response: lambda connection: time.sleep(0.3))  # in the transaction
    clients = [app.test_client() for _ in range(4)]
    pages = [hidden_values(c.get("/f/nyhetsbrev").get_data(as_text=True)) for c in clients]
    barrier = threading.Barrier(len(clients))
    statuses = []

    def post(client, hidden):
        barrier.wait()
        statuses.append(client.post("/f/nyhetsbrev", data={**hidden, **NYHETSBREV}).status_code)

    threads = [threading.Thread(target=post, args=pair) for pair in zip(clients, pages, strict=True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * len(clients)
    assert len(subscriptions(app)) == 2
    assert flush_mail(app) == (2, 0)


def test_the_page_answers_the_same_whether_or_not_the_address_is_subscribed(app, client, smtp):
    sign_up_and_confirm(app, client, smtp)
    smtp.clear()

    visitor = app.test_client()
    for address in (ADDRESS, "ny@example.org"):
        response = submit(visitor, "nyhetsbrev", {**NYHETSBREV, "epost": address})
        assert response.status_code == 303
    pages = [text_of(visitor.get(r)) for r in _receipts(visitor)]
    normalised = [
        re.sub(r"[A-Z0-9]{4}-[A-Z0-9]{4}|\d{1,2} \w+ \d{4} \d\d:\d\d", "#", p).replace("ny@example.org", ADDRESS)
        for p in pages
    ]
    assert normalised[0] == normalised[1]
    flush_mail(app)
    assert smtp.to(ADDRESS) == []  # already confirmed: nothing to send
    assert len(smtp.to("ny@example.org")) == 1
    assert subscriptions(app)[0].status == "confirmed"


def _receipts(client):
    with client.session_transaction() as session:
        return [f"/f/nyhetsbrev/tack/{reference}" for reference in session["receipts"]]


def test_confirm_and_unsubscribe_links_are_rate_limited_per_client(make_app):
    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_NEWSLETTER_LIMIT="3 per minute")
    client = app.test_client()
    statuses = [client.get(f"/newsletter/confirm/gissning-{n}").status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]
    assert "för många försök" in text_of(client.get("/newsletter/unsubscribe/gissning"))


# --- Staff -------------------------------------------------------------------------------------------


HOSTILE_NAME = '=HYPERLINK("http://evil.example","klicka")'


@pytest.fixture
def seeded(app):
    """One confirmed subscriber with a hostile name, one pending, one unsubscribed."""
    now = utcnow()
    with app.app_context():
        common = {"source_form": "nyhetsbrev", "consent_version": "abc123", "signed_up_at": now}
        db.session.add_all([
            Subscription(email="bekraftad@example.org", name=HOSTILE_NAME, organisation="@SUM(1)", status="confirmed",
                         confirmed_at=now, **common),
            Subscription(email="vantar@example.org", status="pending", **common),
            Subscription(email=None, status="unsubscribed", unsubscribed_at=now, **common),
        ])
        db.session.commit()


def test_staff_see_subscribers_with_status_and_counts(app, staff_client, seeded):
    page = staff_client.get("/staff/newsletter")
    assert page.status_code == 200
    text = text_of(page)
    assert "Bekräftade: 1" in text and "Väntar på bekräftelse: 1" in text and "Avslutade: 1" in text
    assert "bekraftad@example.org" in text and "vantar@example.org" in text
    assert "&lt;" not in HOSTILE_NAME and HOSTILE_NAME.replace('"', "&#34;") in page.get_data(as_text=True)
    only_pending = text_of(staff_client.get("/staff/newsletter?status=pending"))
    assert "vantar@example.org" in only_pending and "bekraftad@example.org" not in only_pending


def test_anonymous_visitors_cannot_reach_the_subscriber_list_or_exports(app, client, seeded):
    for path in ("/staff/newsletter", "/staff/newsletter/export.csv", "/staff/newsletter/export.xlsx",
                 "/staff/newsletter/1/remove"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]
    assert client.post("/staff/newsletter/1/remove").status_code in (302, 400)
    assert len(subscriptions(app)) == 3


def test_the_xlsx_export_holds_confirmed_subscribers_only_as_text(app, staff_client, seeded):
    response = staff_client.get("/staff/newsletter/export.xlsx")
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows())
    assert [c.value for c in rows[0]][:3] == ["E-post", "Namn", "Organisation"]
    assert len(rows) == 2
    email, name, organisation, confirmed = (c for c in rows[1][:4])
    assert email.value == "bekraftad@example.org"
    assert name.value == HOSTILE_NAME and organisation.value == "@SUM(1)"  # literal text, not formulas
    assert not any(c.data_type == "f" for row in rows for c in row)
    assert confirmed.is_date
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.detail).filter_by(action="export", target="newsletter")) == {
            "format": "xlsx", "rows": 1}


def test_the_csv_export_holds_confirmed_subscribers_only_and_is_formula_safe(app, staff_client, seeded):
    response = staff_client.get("/staff/newsletter/export.csv")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))
    assert len(rows) == 2 and rows[0][0] == "E-post"
    assert rows[1][:3] == ["bekraftad@example.org", "'" + HOSTILE_NAME, "'@SUM(1)"]
    assert "vantar@example.org" not in text
    # the times as Swedish wall-clock minutes (no zone, no seconds), as the answers' CSV writes them
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", cell) for cell in rows[1][3:5]), rows[1]
    assert text.count("\r\n") == len(rows)


def test_staff_remove_a_subscriber_after_a_question_and_it_is_audited(app, staff_client, seeded):
    [confirmed, *_] = subscriptions(app)
    path = f"/staff/newsletter/{confirmed.id}/remove"
    question = staff_client.get(path)
    assert question.status_code == 200 and "bekraftad@example.org" in text_of(question)
    assert len(subscriptions(app)) == 3  # asking removes nothing
    response = staff_client.post(path, data={"csrf_token": csrf_token(staff_client, path)})
    assert response.status_code == 303
    assert "Prenumeranten är borttagen" in text_of(staff_client.get(response.headers["Location"]))
    assert [s.email for s in subscriptions(app)] == ["vantar@example.org", None]
    with app.app_context():
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="newsletter_remove"))
        assert event.actor == "handlaggare@example.org" and event.target == f"subscription {confirmed.id}"
        assert "bekraftad@example.org" not in str(event.detail)
    assert staff_client.get(path).status_code == 404  # removed already
    assert staff_client.get("/staff/newsletter/999999/remove").status_code == 404  # no such subscriber


# --- Erasure -----------------------------------------------------------------------------------------


def test_erase_leaves_no_trace_in_the_subscriber_tables_and_says_what_it_touched(app, client, runner, smtp):
    kim = "kim@example.org"
    with app.app_context():
        db.session.add(Organisation(name="Västerås stad", name_key="västerås stad", type="kommun", contact_email=kim))
        db.session.commit()
    sign_up_and_confirm(app, client, smtp, {**NYHETSBREV, "epost": kim})
    assert submit(client, "anslutning", {**ANSLUTNING, "epost": "Kim@Example.org"}).status_code == 303
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303  # someone else: kept
    with app.app_context():
        notice = db.session.scalar(sa.select(OutboxMessage).filter_by(recipient="sekretariat@example.org"))
        assert "Kim@Example.org" in notice.body_text  # the secretariat's notice quotes the address

    result = runner.invoke(args=["erase", "KIM@example.org"])
    assert result.exit_code == 0, result.output
    output = result.output
    assert "Erased kim@example.org" in output
    assert "newsletter subscriptions deleted: 1" in output
    assert "outbox mails to the address deleted: 4" in output  # confirm, welcome; receipt, welcome package
    assert "outbox mails mentioning the address anonymised: 1" in output
    assert "answers whose e-mail fields (and the person's name, phone ...) were anonymised: 2 (anslutning: 1, " \
        "nyhetsbrev: 1)" in output
    assert "organisation register contacts cleared: 1" in output

    with app.app_context():
        tables = [Subscription.__table__, NewsletterToken.__table__, OutboxMessage.__table__]
        for table in tables:
            for row in db.session.execute(sa.select(table)):
                assert "kim@example.org" not in str(tuple(row)).lower(), table.name
        [kept] = db.session.scalars(sa.select(Subscription))
        assert kept.email == ADDRESS  # someone else's sign-up stays, with only its own links
        assert set(db.session.scalars(sa.select(NewsletterToken.subscription_id))) == {kept.id}
        answers = [r.answers for r in db.session.scalars(sa.select(Response).order_by(Response.id))]
        assert [a["epost"] for a in answers] == ["[raderad]", "[raderad]", ADDRESS]
        # The fields the definitions name as the same person's go too; the organisation and others stay.
        assert (answers[0]["namn"], answers[1]["kontaktperson"]) == ("[raderad]", "[raderad]")
        assert answers[1]["organisation"] == "Västerås stad" and answers[2]["namn"] == "Sam Exempel"
        assert db.session.scalar(sa.select(Organisation.contact_email)) is None
        event = db.session.scalar(sa.select(AuditEvent).filter_by(action="erase"))
        assert event.actor == "system" and event.detail["subscriptions"] == 1
        assert "kim@" not in str(event.detail).lower()

    again = runner.invoke(args=["erase", "kim@example.org"])
    assert again.exit_code == 0 and "found nowhere" in again.output


def _mentions(app) -> tuple[int, int, int]:
    """How often the tables hold anna@b.se on its own, johanna@b.se and anna@b.se.example."""
    with app.app_context():
        tables = [OutboxMessage.__table__, Response.__table__, Subscription.__table__, Organisation.__table__]
        text = " ".join(str(tuple(row)) for table in tables for row in db.session.execute(sa.select(table))).lower()
    longer, other = text.count("anna@b.se.example"), text.count("johanna@b.se")
    return text.count("anna@b.se") - longer - other, other, longer


def test_erase_matches_the_whole_address_only_and_scrubs_it_from_free_text(app, client, runner):
    """Bad input: erasing anna@b.se beside johanna@b.se and anna@b.se.example, in answers' e-mail fields, a
    free-text answer naming all three (in capitals once), pending receipts and notices, a sign-up and the
    register. Only anna@b.se goes; the others stay everywhere, and the report says what changed where."""
    with app.app_context():
        db.session.add(Organisation(name="Johannas förening", name_key="johannas förening", type="annan",
                                    contact_email="johanna@b.se"))
        db.session.commit()
    mentioning = "Svara anna@b.se. Eller johanna@b.se, inte anna@b.se.example (kopia till ANNA@B.SE)."
    reports = [
        {"problem": mentioning, "epost": "johanna@b.se"},
        {"problem": "Knappen syns inte.", "epost": "anna@b.se"},
    ]
    for report in reports:
        assert submit(client, "tillganglighet", report).status_code == 303
    assert submit(client, "nyhetsbrev", {**NYHETSBREV, "epost": "anna@b.se.example"}).status_code == 303
    anna, johanna, longer = _mentions(app)
    assert anna > 0 and johanna > 0 and longer > 0

    result = runner.invoke(args=["erase", "anna@b.se"])
    assert result.exit_code == 0, result.output
    assert _mentions(app) == (0, johanna, longer)
    with app.app_context():
        [first, second] = [r.answers for r in db.session.scalars(
            sa.select(Response).filter_by(form_slug="tillganglighet").order_by(Response.id))]
        assert first["problem"] == (
            "Svara [raderad]. Eller johanna@b.se, inte anna@b.se.example (kopia till [raderad])."
        )
        assert first["epost"] == "johanna@b.se" and second["epost"] == "[raderad]"
        assert db.session.scalar(sa.select(Organisation.contact_email)) == "johanna@b.se"
        assert db.session.scalar(sa.select(Subscription.email)) == "anna@b.se.example"
        recipients = sorted(db.session.scalars(sa.select(OutboxMessage.recipient)))
        assert "anna@b.se" not in recipients and "johanna@b.se" in recipients
    output = result.output
    assert "outbox mails to the address deleted: 1 (outbox)" in output  # the second answer's receipt
    # the receipt to johanna@b.se and the secretariat's two notices quoted it
    assert "outbox mails mentioning the address anonymised: 3 (outbox: subject and text)" in output
    assert "e-mail fields (and the person's name, phone ...) were anonymised: 1 (tillganglighet: 1)" in output
    assert "answers whose free text named the address, now [raderad]: 1 (tillganglighet: 1) (responses)" in output
    assert "newsletter subscriptions deleted: 0" in output and "organisation register contacts cleared: 0" in output


def test_erase_refuses_what_is_not_an_address(runner):
    result = runner.invoke(args=["erase", "inte-en-adress"])
    assert result.exit_code != 0 and "not an e-mail address" in result.output


def test_prune_removes_sign_ups_never_confirmed(app, runner, seeded):
    set_columns(app, Subscription, signed_up_at=utcnow() - timedelta(days=31))
    result = runner.invoke(args=["newsletter", "prune"])
    assert result.exit_code == 0 and "Removed 1" in result.output
    assert sorted(s.status for s in subscriptions(app)) == ["confirmed", "unsubscribed"]


# --- The definition setting ---------------------------------------------------------------------------


FIELDS = [
    {"key": "epost", "type": "email", "label": "E-post"},
    {"key": "namn", "type": "text", "label": "Namn"},
    {"key": "vill", "type": "yesno", "label": "Vill du?"},
    {"key": "ok", "type": "consent", "label": "OK"},
]


def test_the_shipped_forms_say_which_fields_sign_up():
    from formsvc.config import resource_dir
    from formsvc.definitions import load_directory

    forms = load_directory(resource_dir("forms"))
    assert forms["nyhetsbrev"].newsletter.email == "epost" and forms["nyhetsbrev"].newsletter.when is None
    assert not forms["nyhetsbrev"].mails  # the confirmation mail replaces the receipt
    setting = forms["anslutning"].newsletter
    assert (setting.email, setting.when, setting.when_answer) == ("epost", "nyhetsbrev", "ja")
    assert setting.address({"epost": " a@example.org ", "nyhetsbrev": "ja"}) == "a@example.org"
    assert setting.address({"epost": "a@example.org", "nyhetsbrev": "nej"}) is None
    assert setting.address({"epost": None, "nyhetsbrev": "ja"}) is None


def test_a_consent_field_can_decide():
    definition = parse_definition({"title": "T", "fields": FIELDS, "newsletter": {"email": "epost", "when": "ok"}}, "t")
    assert definition.newsletter.address({"epost": "a@example.org", "ok": True}) == "a@example.org"
    assert definition.newsletter.address({"epost": "a@example.org", "ok": False}) is None


@pytest.mark.parametrize(
    ("setting", "field", "reason"),
    [
        ("epost", None, "must be a mapping with at least 'email'"),
        ({"name": "namn"}, None, "at least 'email'"),
        ({"email": "namn"}, "namn", "'email' must name a email field, not a text field"),
        ({"email": "saknas"}, None, "'email' must name a field of this form, not 'saknas'"),
        ({"email": "epost", "when": "namn"}, "namn", "'when' must name a consent or yesno field"),
        ({"email": "epost", "name": "vill"}, "vill", "'name' must name a text field"),
        ({"email": "epost", "lista": "kvartal"}, None, "unknown setting(s): lista"),
    ],
)
def test_a_bad_newsletter_setting_is_refused_with_file_field_and_reason(setting, field, reason):
    with pytest.raises(DefinitionError) as caught:
        parse_definition({"title": "T", "fields": FIELDS, "newsletter": setting}, slug="prov", source="forms/prov.yaml")
    assert caught.value.source == "forms/prov.yaml"
    assert caught.value.field_key == field
    assert reason in caught.value.reason
