"""Personal invitation links, one current answer per organisation, invitation and reminder mails, who is missing."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from helpers import csrf_token, flush_mail, hidden_values, send_mass_mail, submit, text_of

from formsvc.definitions import DefinitionError
from formsvc.definitions.loader import parse_definition
from formsvc.extensions import db
from formsvc.invitations.models import Invitation, InvitationToken, InvitedResponse
from formsvc.mail import OutboxMessage
from formsvc.models import Organisation, Response, name_key

PUBLIC = "https://formular.example.org"
LINK = re.compile(r"https://formular\.example\.org/i/([A-Za-z0-9_-]{43})\b")


@pytest.fixture
def app(make_app):
    """The app with a public address, as in production: links in mails point there."""
    return make_app(FORMSVC_PUBLIC_URL=PUBLIC)


def add_organisations(app, count: int, kind: str = "kommun", start: int = 1) -> list[str]:
    names = []
    with app.app_context():
        for number in range(start, start + count):
            name = f"Organisation {number:02d}"
            db.session.add(Organisation(name=name, name_key=name_key(name), type=kind, contact_name=f"Kontakt {number}",
                                        contact_email=f"kontakt{number:02d}@example.org"))
            names.append(name)
        db.session.commit()
    return names


def email_of(name: str) -> str:
    return f"kontakt{name.split()[-1]}@example.org"


def plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def tokens_by_recipient(messages) -> dict[str, str]:
    found = {}
    for message in messages:
        match = LINK.search(plain(message))
        assert match, plain(message)
        found[message["To"]] = match.group(1)
    return found


def nomination(number: int, **changes) -> dict:
    answers = {
        "ledamot_namn": f"Ledamot {number}",
        "ledamot_befattning": "Förvaltningschef",
        "ledamot_epost": f"ledamot{number}@example.org",
        "ersattare_namn": f"Ersättare {number}",
        "ersattare_befattning": "Biträdande chef",
        "ersattare_epost": f"ersattare{number}@example.org",
        "mandat": "y",
    }
    return {**answers, **changes}


def enter(app, token: str):
    """A new browser follows the personal link; returns (client, the redirect response)."""
    browser = app.test_client()
    return browser, browser.get(f"/i/{token}")


def answer_via_link(app, token: str, answers: dict, browser=None):
    if browser is None:
        browser, entered = enter(app, token)
        assert entered.status_code == 303
    return submit(browser, "nominering", answers)


def invite(runner, *args):
    result = runner.invoke(args=["invite", "nominering", *args])
    assert result.exit_code == 0, result.output
    return result


def outbox_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))


def responses(app, name: str) -> list[Response]:
    with app.app_context():
        rows = list(db.session.scalars(
            sa.select(Response).filter_by(form_slug="nominering", organisation_name=name).order_by(Response.id)
        ))
        db.session.expunge_all()
        return rows


def set_closes(app, when: datetime, slug: str = "nominering") -> None:
    object.__setattr__(app.extensions["formsvc_catalog"].get(slug), "closes", when)


def invited_tokens(app, smtp, runner, count: int) -> dict[str, str]:
    """`count` organisations invited by the command, mails delivered; organisation name -> token."""
    names = add_organisations(app, count)
    invite(runner)
    flush_mail(app)
    by_address = tokens_by_recipient(smtp.messages)
    return {name: by_address[email_of(name)] for name in names}


# --- the link --------------------------------------------------------------------------------------------------


def test_the_link_leaves_the_address_bar_and_fixes_the_organisation(app, smtp, runner):
    token = invited_tokens(app, smtp, runner, 1)["Organisation 01"]
    browser, entered = enter(app, token)
    assert entered.status_code == 303
    assert entered.headers["Location"] == "/f/nominering"  # the token is gone from the address
    assert "no-store" in entered.headers["Cache-Control"]
    page = browser.get("/f/nominering")
    html = page.get_data(as_text=True)
    assert "Ni svarar för Organisation 01 via er personliga länk" in text_of(page)
    assert 'name="organisation"' not in html  # fixed: nothing to type or change
    assert token not in html

    # Whatever organisation a crafted POST names, the answer is the invited organisation's.
    response = submit(browser, "nominering", nomination(1, organisation="Någon annan"))
    assert response.status_code == 303
    [stored] = responses(app, "Organisation 01")
    assert stored.answers["organisation"] == "Organisation 01" and stored.is_current
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitedResponse)) == 1


def test_tokens_are_unique_and_only_their_hash_is_stored(app, smtp, runner):
    tokens = invited_tokens(app, smtp, runner, 12)
    assert len(set(tokens.values())) == 12
    with app.app_context():
        stored = set(db.session.scalars(sa.select(InvitationToken.token_hash)))
        columns = [
            str(value)
            for table in ("invitations", "invitation_tokens")
            for row in db.session.execute(sa.text(f"SELECT * FROM {table}"))
            for value in row
        ]
    assert stored == {hashlib.sha256(t.encode()).hexdigest() for t in tokens.values()}
    assert not any(token in value for token in tokens.values() for value in columns)


def test_a_token_works_for_its_own_form_only(app, smtp, runner):
    token = invited_tokens(app, smtp, runner, 1)["Organisation 01"]
    browser, _ = enter(app, token)
    other = browser.get("/f/anslutning").get_data(as_text=True)
    assert 'name="organisation"' in other and "Ni svarar för" not in other
    # An answer to the other form is not one given through the invitation.
    response = submit(browser, "anslutning", {
        "organisation": "Organisation 01", "organisationstyp": "kommun", "kontaktperson": "Kim",
        "epost": "kim@example.org", "fokusomraden": ["makt"], "samtycke": "y",
    })
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(InvitedResponse)) == 0
        invitation = db.session.scalar(sa.select(Invitation))
        assert invitation.form_slug == "nominering"


def test_wrong_and_revoked_links_get_a_clear_page_and_404(app, smtp, runner, staff_client):
    tokens = invited_tokens(app, smtp, runner, 2)
    for wrong in ("x" * 43, "kort", tokens["Organisation 01"][:-1] + "A" if not tokens["Organisation 01"].endswith(
            "A") else tokens["Organisation 01"][:-1] + "B"):
        response = app.test_client().get(f"/i/{wrong}")
        assert response.status_code == 404
        assert "Länken fungerar inte" in text_of(response)

    # A browser that entered before the invitation was revoked loses it too.
    browser, _ = enter(app, tokens["Organisation 02"])
    with app.app_context():
        invitation = db.session.scalar(
            sa.select(Invitation).join(Organisation).filter(Organisation.name == "Organisation 02")
        )
        invitation_id = invitation.id
    revoked = staff_client.post(f"/staff/invitations/nominering/{invitation_id}/revoke",
                                data={"csrf_token": csrf_token(staff_client)})
    assert revoked.status_code == 303
    response = app.test_client().get(f"/i/{tokens['Organisation 02']}")
    assert response.status_code == 404 and "Länken fungerar inte" in text_of(response)
    assert "Ni svarar för" not in text_of(browser.get("/f/nominering"))


def test_a_hundred_wrong_tokens_in_a_row_get_429s(make_app):
    app = make_app(FORMSVC_PUBLIC_URL=PUBLIC, RATELIMIT_ENABLED=True)
    guesser = app.test_client()
    statuses = [guesser.get(f"/i/{'A' * 42}{chr(65 + n % 26)}").status_code for n in range(100)]
    assert set(statuses) == {404, 429}
    assert statuses.index(429) <= 25 and all(s == 429 for s in statuses[statuses.index(429):])
    page = guesser.get("/i/" + "B" * 43)
    assert page.status_code == 429 and "för många försök" in text_of(page)


# --- one current answer per organisation -----------------------------------------------------------------------


def test_a_second_answer_replaces_the_first_and_history_keeps_both(app, smtp, runner, staff_client):
    token = invited_tokens(app, smtp, runner, 1)["Organisation 01"]
    browser, _ = enter(app, token)
    assert answer_via_link(app, token, nomination(1), browser).status_code == 303

    # Back through the link: the current answer is filled in, to change; consent is asked again.
    page = browser.get("/f/nominering")
    html = page.get_data(as_text=True)
    assert "Ni skickade ett svar" in text_of(page)
    assert 'value="Ledamot 1"' in html and not re.search(r'name="mandat"[^>]*checked', html)
    assert answer_via_link(app, token, nomination(1, ledamot_namn="Ny Ledamot"), browser).status_code == 303

    first, second = responses(app, "Organisation 01")
    assert (first.is_current, second.is_current) == (False, True)
    assert (first.answers["ledamot_namn"], second.answers["ledamot_namn"]) == ("Ledamot 1", "Ny Ledamot")

    with app.app_context():
        organisation_id = db.session.scalar(sa.select(Organisation.id).filter_by(name="Organisation 01"))
    history = text_of(staff_client.get(f"/staff/invitations/nominering/organisations/{organisation_id}"))
    assert "Ny Ledamot" in history and "Ledamot 1" in history
    assert history.index("gällande svar") < history.index("ersatt")
    assert history.count("Källa: personlig länk") == 2


def test_after_the_deadline_the_link_shows_the_answer_and_nothing_changes(app, smtp, runner):
    token = invited_tokens(app, smtp, runner, 1)["Organisation 01"]
    browser, _ = enter(app, token)
    assert answer_via_link(app, token, nomination(1), browser).status_code == 303
    form = browser.get("/f/nominering").get_data(as_text=True)
    set_closes(app, datetime(2020, 1, 1, tzinfo=UTC))

    later, entered = enter(app, token)
    assert entered.status_code == 303
    page = text_of(later.get("/f/nominering"))
    assert "Formuläret är stängt" in page and "Ert svar" in page and "Ledamot 1" in page
    assert "kan inte längre ändras" in page

    late = browser.post("/f/nominering", data={**hidden_values(form), **nomination(1, ledamot_namn="För sent")})
    assert late.status_code == 422 and "Svaret har inte sparats" in text_of(late)
    [only] = responses(app, "Organisation 01")
    assert only.is_current and only.answers["ledamot_namn"] == "Ledamot 1"


# --- the open link ---------------------------------------------------------------------------------------------


def test_the_open_link_takes_answers_but_staff_decide_whether_they_count(app, staff_client):
    add_organisations(app, 1)
    visitor = app.test_client()
    assert submit(visitor, "nominering", nomination(1, organisation="organisation 01")).status_code == 303
    assert submit(visitor, "nominering", nomination(1, organisation="Organisation 01",
                                                    ledamot_namn="Andra")).status_code == 303
    first, second = responses(app, "Organisation 01")
    assert not first.is_current and not second.is_current  # neither speaks for the organisation yet
    assert (first.review, second.review) == ("pending", "pending") and first.source == "open"

    page = text_of(staff_client.get("/staff/invitations/nominering"))
    assert "2 svar via öppen länk väntar på granskning" in page
    assert page.count("via öppen länk, ej bekräftad") == 2

    # An organisation that is not in the register cannot be named for a form answered once per organisation.
    response = submit(visitor, "nominering", nomination(2, organisation="Påhittad förening"))
    assert response.status_code == 422
    assert "Välj er organisation i listan" in text_of(response)
    assert responses(app, "Påhittad förening") == []


def test_a_form_without_open_link_needs_the_personal_link(app, smtp, runner):
    token = invited_tokens(app, smtp, runner, 1)["Organisation 01"]
    object.__setattr__(app.extensions["formsvc_catalog"].get("nominering"), "open_link", False)
    visitor = app.test_client()
    page = visitor.get("/f/nominering")
    assert page.status_code == 403 and "personliga länk" in text_of(page)
    token_page = hidden_values(visitor.get("/f/nyhetsbrev").get_data(as_text=True))
    refused = visitor.post("/f/nominering", data={**token_page, **nomination(1, organisation="Organisation 01")})
    assert refused.status_code == 403 and responses(app, "Organisation 01") == []
    assert answer_via_link(app, token, nomination(1)).status_code == 303


@pytest.mark.parametrize(
    ("setting", "reason"),
    [
        ({"open_link": "ja"}, "'open_link' must be true or false"),
        ({"one_answer_per_organisation": True}, "needs a field of type organisation"),
    ],
)
def test_bad_invitation_settings_are_refused_at_load(setting, reason):
    raw = {"title": "Test", "fields": [{"key": "namn", "type": "text", "label": "Namn"}], **setting}
    with pytest.raises(DefinitionError, match=re.escape(reason)):
        parse_definition(raw, "test", "forms/test.yaml")


# --- mails -------------------------------------------------------------------------------------------------------


def test_staff_preview_the_mail_then_send_and_see_the_status(app, smtp, staff_client):
    add_organisations(app, 3)
    token = csrf_token(staff_client)
    created = staff_client.post("/staff/invitations/nominering/create", data={"csrf_token": token, "all": "1"})
    assert created.status_code == 303
    listing = staff_client.get("/staff/invitations/nominering").get_data(as_text=True)
    assert listing.count('class="status-created"') == 3

    preview = staff_client.get("/staff/invitations/nominering/mail?kind=inbjudan&recipients=all")
    shown = text_of(preview)
    assert "Så här ser mejlet ut för Organisation 01" in shown and "Hej Kontakt 1!" in shown
    assert LINK.search(preview.get_data(as_text=True))  # the personal link, filled in
    assert "Sista dag att svara är den 29 januari 2027" in shown
    assert "Skicka till 3 mottagare" in shown
    assert outbox_count(app) == 0  # a preview sends nothing

    sent = send_mass_mail(staff_client, "nominering", {"csrf_token": token, "kind": "inbjudan", "recipients": "all"})
    assert sent.status_code == 303
    assert "3 inbjudningar är skickade" in text_of(staff_client.get(sent.headers["Location"]))
    flush_mail(app)
    assert sorted(m["To"] for m in smtp.messages) == [f"kontakt0{n}@example.org" for n in (1, 2, 3)]
    assert all(m["Subject"].startswith("Inbjudan: Nominera ledamot") for m in smtp.messages)

    tokens = tokens_by_recipient(smtp.messages)
    assert answer_via_link(app, tokens["kontakt01@example.org"], nomination(1)).status_code == 303
    for _ in range(2):
        reminded = send_mass_mail(staff_client, "nominering", {"csrf_token": token, "kind": "paminnelse"})
        assert reminded.status_code == 303
    page = text_of(staff_client.get("/staff/invitations/nominering"))
    assert page.count("Har svarat") >= 1 and page.count("Påmind") >= 2
    assert "2 gånger, senast" in page
    with app.app_context():
        counts = {i.organisation.name: (i.send_count, i.reminder_count, i.sent_at is not None)
                  for i in db.session.scalars(sa.select(Invitation))}
    assert counts == {"Organisation 01": (1, 0, True), "Organisation 02": (1, 2, True),
                      "Organisation 03": (1, 2, True)}


def test_the_commands_need_the_public_address_and_change_nothing_without_it(make_app, smtp):
    app = make_app()
    add_organisations(app, 2)
    result = app.test_cli_runner().invoke(args=["invite", "nominering"])
    assert result.exit_code != 0 and "FORMSVC_PUBLIC_URL" in result.output
    assert outbox_count(app) == 0
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Invitation.id))) == 0


def test_invite_by_type_and_dry_run(app, smtp, runner):
    add_organisations(app, 2, kind="kommun")
    add_organisations(app, 1, kind="region", start=3)
    dry = runner.invoke(args=["invite", "nominering", "--type", "region", "--dry-run"])
    assert dry.exit_code == 0 and "Organisation 03" in dry.output and "Organisation 01" not in dry.output
    assert outbox_count(app) == 0
    invite(runner, "--type", "region")
    flush_mail(app)
    assert [m["To"] for m in smtp.messages] == ["kontakt03@example.org"]
    unknown = runner.invoke(args=["invite", "finns-inte"])
    assert unknown.exit_code != 0 and "No form 'finns-inte'" in unknown.output


def test_invitation_pages_need_login(client):
    for path in ("/staff/invitations/nominering", "/staff/invitations/nominering/mail?kind=inbjudan"):
        response = client.get(path)
        assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


# --- the whole round -------------------------------------------------------------------------------------------


def test_nomination_round_end_to_end(app, smtp, runner, staff_client):
    """30 organisations invited, 20 answer, a reminder reaches exactly the other 10, 5 of them answer: 5 missing."""
    # The answers' own mails (to the nominated people) are tested with the form; here only invitations count.
    object.__setattr__(app.extensions["formsvc_catalog"].get("nominering"), "mails", ())
    tokens = invited_tokens(app, smtp, runner, 30)
    assert len(smtp.messages) == 30
    names = sorted(tokens)
    for number, name in enumerate(names[:20], start=1):
        assert answer_via_link(app, tokens[name], nomination(number)).status_code == 303
    dashboard = text_of(staff_client.get("/staff/"))
    assert "10 saknar svar" in dashboard

    smtp.clear()
    confirmed = send_mass_mail(staff_client, "nominering", {"csrf_token": csrf_token(staff_client),
                                                            "kind": "paminnelse"})
    assert confirmed.status_code == 303
    flush_mail(app)
    reminders = smtp.messages
    assert sorted(m["To"] for m in reminders) == sorted(email_of(n) for n in names[20:])
    assert all(m["Subject"].startswith("Påminnelse:") for m in reminders)

    reminder_tokens = tokens_by_recipient(reminders)
    for number, name in enumerate(names[20:25], start=21):
        assert answer_via_link(app, reminder_tokens[email_of(name)], nomination(number)).status_code == 303

    missing = staff_client.get("/staff/invitations/nominering?status=missing")
    html, page = missing.get_data(as_text=True), text_of(missing)
    assert re.search(r'id="missing-count">5<', html)
    assert [n for n in names if n in page] == names[25:]
    assert "5 saknar svar" in text_of(staff_client.get("/staff/"))
    with app.app_context():
        current = db.session.scalar(sa.select(sa.func.count(Response.id)).filter_by(is_current=True))
    assert current == 25


def test_answers_arriving_at_once_leave_one_current(app):
    """Several answers from one organisation at the same moment: each replaces the one before, one stays current."""
    import threading

    from formsvc.answers import INVITATION, new_submission_key, store_answer

    add_organisations(app, 1)
    definition = app.extensions["formsvc_catalog"].get("nominering")
    barrier = threading.Barrier(4, timeout=30)
    errors = []

    def answer(number: int) -> None:
        with app.app_context():
            try:
                barrier.wait()  # before any query: on SQLite a transaction holds the write lock from its start
                organisation = db.session.scalar(sa.select(Organisation))
                store_answer(definition, {**nomination(number), "organisation": organisation.name},
                             new_submission_key(), organisation, source=INVITATION)
            except Exception as error:  # reported below; a thread's exception would otherwise vanish
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=answer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stored = responses(app, "Organisation 01")
    assert len(stored) == 4 and sum(r.is_current for r in stored) == 1


def test_the_invitation_links_the_personal_link_and_the_intro_but_not_register_data(app, smtp, runner):
    """Bad input: a contact name in the register that is a link. The HTML part links the personal link and
    the address staff wrote in the form's intro; the contact name stays text."""
    add_organisations(app, 1)
    with app.app_context():
        db.session.execute(sa.update(Organisation).values(contact_name="https://evil.example/kontakt"))
        db.session.commit()
    definition = app.extensions["formsvc_catalog"].get("nominering")
    object.__setattr__(definition, "intro", "Läs mer på https://www.example.org/radet.")
    invite(runner)
    flush_mail(app)
    [mail] = smtp.messages
    hrefs = re.findall(r'<a href="([^"]+)"', mail.get_body(("html",)).get_content())
    [personal] = [href for href in hrefs if LINK.fullmatch(href)]
    service = [href for href in hrefs if not href.endswith("/personuppgifter")]  # the footer's link aside
    assert sorted(service) == sorted([personal, "https://www.example.org/radet"])
    assert "https://evil.example/kontakt" in mail.get_body(("html",)).get_content()
