"""The four shipped forms, filled as a person would, and every kind of bad input."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

import lxml.html
import pytest
import sqlalchemy as sa
from helpers import flush_mail, hidden_values, open_to_all, personal_link_client, submit, text_of

from formsvc import create_app
from formsvc.extensions import db
from formsvc.mail import OutboxMessage
from formsvc.models import AnswerValue, FormVersion, Organisation, Response

ANSLUTNING = {
    "organisation": "Västerås stad",
    "organisationstyp": "kommun",
    "kontaktperson": "Kim Exempel",
    "epost": "kim@example.org",
    "telefon": "021-123 45 67",
    "fokusomraden": ["makt", "vald"],
    "valkomstpaket": ["natverk", "forelasningar"],
    "nyhetsbrev": "ja",
    "samtycke": "y",
}
NOMINERING = {
    "organisation": "Region Västmanland",
    "ledamot_namn": "Alex Exempel",
    "ledamot_befattning": "Regiondirektör",
    "ledamot_epost": "alex@example.org",
    "ledamot_telefon": "+46 21 17 30 00",
    "ersattare_namn": "Robin Exempel",
    "ersattare_befattning": "Biträdande regiondirektör",
    "ersattare_epost": "robin@example.org",
    "mandat": "y",
    "kommentar": "Vegetarisk kost till mötena.",
}
NYHETSBREV = {"epost": "prenumerant@example.org", "namn": "Sam", "samtycke": "y"}
PRIORITERING = {"prioriteringar": ["folkhalsa", "barnratt", "demokrati"], "motivering": "Det här är viktigast."}


def stored(app, slug=None):
    with app.app_context():
        query = sa.select(Response).order_by(Response.id)
        if slug:
            query = query.filter_by(form_slug=slug)
        rows = list(db.session.scalars(query))
        for row in rows:
            _ = row.form_version.definition, row.values  # load before the session closes
        return rows


def outbox_count(app):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(OutboxMessage.id)))


@pytest.fixture
def register(app):
    with app.app_context():
        db.session.add(Organisation(name="Västerås stad", name_key="västerås stad", type="kommun"))
        db.session.add(Organisation(name="Region Västmanland", name_key="region västmanland", type="region"))
        db.session.commit()


def test_start_page_lists_open_listed_forms(client):
    page = text_of(client.get("/"))
    assert "Anslut er organisation till länets strategi" in page
    assert "Prenumerera på nyhetsbrevet" in page
    assert "Nominera ledamot" not in page  # reached by invitation, not listed


def test_joining_stores_the_answer_shows_a_receipt_and_sends_mails(app, client, smtp, register):
    response = submit(client, "anslutning", ANSLUTNING)
    assert response.status_code == 303
    assert re.fullmatch(r"/f/anslutning/tack/[A-Z0-9]{4}-[A-Z0-9]{4}", response.headers["Location"])

    [answer] = stored(app)
    assert answer.answers["fokusomraden"] == ["makt", "vald"]
    assert answer.answers["epost"] == "kim@example.org"
    assert answer.organisation_name == "Västerås stad" and answer.organisation_id is not None
    assert answer.form_version.version == app.extensions["formsvc_catalog"].get("anslutning").version
    assert answer.consents == {"samtycke": answer.form_version.version}
    assert sorted((v.field, v.value) for v in answer.values if v.field == "fokusomraden") == [
        ("fokusomraden", "makt"), ("fokusomraden", "vald")
    ]

    receipt = client.get(response.headers["Location"])
    assert receipt.status_code == 200
    page = text_of(receipt)
    assert answer.reference in page
    assert "Mäns våld mot kvinnor ska upphöra" in page and "En jämn fördelning av makt och inflytande" in page
    assert f"{answer.submitted_at.astimezone().year}" in page

    assert flush_mail(app) == (4, 0)  # with the newsletter confirmation ("nyhetsbrev": "ja")
    kvitto = [m for m in smtp.to("kim@example.org") if m["Subject"].startswith("Kvitto")]
    welcome = [m for m in smtp.to("kim@example.org") if "Välkommen" in m["Subject"]]
    notice = smtp.to("sekretariat@example.org")
    assert len(kvitto) == len(welcome) == len(notice) == 1
    # Machine-sent (RFC 3834): an out-of-office reply to it would only fill the secretariat's inbox.
    assert {m["Auto-Submitted"] for m in kvitto + welcome + notice} == {"auto-generated"}
    assert answer.reference in kvitto[0].get_body(("plain",)).get_content()
    # In the HTML part the questions stand out from the answers.
    assert "<strong>Kontaktperson</strong><br>Kim Exempel<br>" in kvitto[0].get_body(("html",)).get_content()
    body = welcome[0].get_body(("plain",)).get_content()
    assert "Mäns våld mot kvinnor ska upphöra" in body and "Nätverk och erfarenhetsutbyte" in body
    sticker = [part for part in welcome[0].iter_attachments() if part.get_content_type() == "image/png"]
    assert len(sticker) == 1 and sticker[0].get_content().startswith(b"\x89PNG")
    assert 'src="cid:klistermarke"' in welcome[0].get_body(("html",)).get_content()


def test_the_joining_form_asks_about_the_newsletter_once(client):
    """The welcome package used to offer the newsletter as an option beside a yes/no question about it."""
    page = lxml.html.fromstring(client.get("/f/anslutning").get_data(as_text=True))
    asking = [" ".join(e.text_content().split()) for e in page.xpath("//form//label | //form//legend")]
    assert [text for text in asking if "nyhetsbrev" in text.lower()] == [
        "Vill ni få nyhetsbrevet ”Ett jämställt Västmanland”, fyra nummer om året?"
    ]
    assert page.xpath("//input[@name='valkomstpaket' and @value='nyhetsbrev']") == []


@pytest.mark.parametrize("newsletter", ["ja", "nej"])
def test_the_welcome_mail_names_what_the_form_offered_and_nothing_else(app, client, smtp, register, newsletter):
    """Answered with and without the newsletter: the welcome mail lists the options picked in the form's own
    words, names the newsletter only when it was asked for, and the sign-up (a confirmation mail) follows only
    then. Tried: an option that is not picked must not be promised."""
    answers = {**ANSLUTNING, "valkomstpaket": ["spridning"], "fokusomraden": ["halsa"], "nyhetsbrev": newsletter}
    assert submit(client, "anslutning", answers).status_code == 303
    flush_mail(app)
    [welcome] = [m for m in smtp.to("kim@example.org") if "Välkommen" in m["Subject"]]
    body = " ".join(welcome.get_body(("plain",)).get_content().split())
    definition = app.extensions["formsvc_catalog"].get("anslutning")
    package, focus = definition.field("valkomstpaket"), definition.field("fokusomraden")
    assert package.choice_label("spridning") in body and focus.choice_label("halsa") in body
    for other in package.choices[:-1]:
        if other.key != "spridning":
            assert other.label not in body, other.key
    assert focus.choice_label("makt") not in body
    assert "klistermärket" in body
    confirmations = [m for m in smtp.to("kim@example.org") if "Bekräfta" in m["Subject"]]
    if newsletter == "ja":
        assert "Ni valde att få nyhetsbrevet ”Ett jämställt Västmanland”" in body
        assert len(confirmations) == 1
    else:
        assert "nyhetsbrev" not in body.lower()
        assert confirmations == []


def test_organisation_from_the_register_brings_its_type(app, client, register):
    answers = {k: v for k, v in ANSLUTNING.items() if k != "organisationstyp"}
    assert submit(client, "anslutning", answers).status_code == 303
    assert stored(app)[0].answers["organisationstyp"] == "kommun"


def test_nomination_mails_both_people(app, smtp, register):
    """Through the organisation's personal link (the open link's answers wait for staff: test_review.py)."""
    response = submit(personal_link_client(app, "nominering", "Region Västmanland"), "nominering", NOMINERING)
    assert response.status_code == 303
    [answer] = stored(app)
    assert answer.answers["ledamot_namn"] == "Alex Exempel"
    assert flush_mail(app) == (3, 0)
    assert "ordinarie ledamot" in smtp.to("alex@example.org")[0].get_body(("plain",)).get_content()
    assert "fast ersättare" in smtp.to("robin@example.org")[0].get_body(("plain",)).get_content()
    assert len(smtp.to("sekretariat@example.org")) == 1


def test_a_comment_of_several_lines_keeps_them_in_the_notice_mail(app, client, smtp, register):
    """A textarea's lines (a browser sends CRLF), blank line and one that looks like a question included,
    stay one answer: indented below its question in the text, not set in bold as a question in the HTML."""
    comment = "Vegetarisk kost.\r\n\r\nKontaktperson\r\nRullstolsplats, tack."
    assert submit(client, "nominering", {**NOMINERING, "kommentar": comment}).status_code == 303
    assert stored(app)[0].answers["kommentar"] == comment  # stored as sent
    flush_mail(app)
    [notice] = smtp.to("sekretariat@example.org")
    text = notice.get_body(("plain",)).get_content().replace("\r\n", "\n")  # as sent: CRLF line ends
    assert "Övrigt\n  Vegetarisk kost.\n  \n  Kontaktperson\n  Rullstolsplats, tack.\n" in text
    html = notice.get_body(("html",)).get_content()
    assert "<strong>Övrigt</strong><br>Vegetarisk kost.<br><br>Kontaktperson<br>Rullstolsplats, tack." in html


def test_newsletter_form_stores_and_mails(app, client, smtp):
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    assert stored(app)[0].answers["epost"] == "prenumerant@example.org"
    flush_mail(app)
    assert len(smtp.to("prenumerant@example.org")) == 1


def test_ranking_stores_places_in_order(app, client, smtp):
    open_to_all(app)
    response = submit(client, "prioritering", PRIORITERING)
    assert response.status_code == 303
    [answer] = stored(app)
    assert answer.answers["prioriteringar"] == ["folkhalsa", "barnratt", "demokrati"]
    assert sorted((v.position, v.value) for v in answer.values) == [
        (1, "folkhalsa"), (2, "barnratt"), (3, "demokrati")
    ]
    page = text_of(client.get(response.headers["Location"]))
    assert "1. Folkhälsa och jämlik hälsa, 2. Barnrättsperspektivet, 3. Demokrati och delaktighet" in page
    assert flush_mail(app) == (0, 0)  # the vote sends no mail


def test_a_resent_post_stores_one_answer(app, client):
    page = client.get("/f/nyhetsbrev")
    data = {**hidden_values(page.get_data(as_text=True)), **NYHETSBREV}
    first = client.post("/f/nyhetsbrev", data=data)
    second = client.post("/f/nyhetsbrev", data=data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(stored(app)) == 1
    assert outbox_count(app) == 1


def test_the_receipt_is_shown_only_to_the_browser_that_sent_it(app, client):
    location = submit(client, "nyhetsbrev", NYHETSBREV).headers["Location"]
    stranger = app.test_client()
    response = stranger.get(location)
    assert response.status_code == 404
    assert "prenumerant@example.org" not in response.get_data(as_text=True)


# --- Bad input: each gets 400/422, a Swedish message next to the field, keeps the input, stores nothing.

def assert_refused(app, response, status, field_id, message, kept=()):
    assert response.status_code == status, text_of(response)[:500]
    html = response.get_data(as_text=True)
    error = re.search(rf'<p class="field-error" id="{field_id}-error">(.*?)</p>', html, re.S)
    assert error, f"no error next to {field_id}"
    assert message in " ".join(error.group(1).split())
    assert 'id="error-summary"' in html and f'href="#{field_id}' in html
    for value in kept:
        assert value in html, f"lost what was typed: {value}"
    assert stored(app) == []
    assert outbox_count(app) == 0


def without(answers, *keys):
    return {k: v for k, v in answers.items() if k not in keys}


@pytest.mark.parametrize(
    ("slug", "answers", "field_id", "message", "kept"),
    [
        # the focus-area question above all: required, at least one
        ("anslutning", without(ANSLUTNING, "fokusomraden"), "fokusomraden", "Välj minst ett alternativ",
         ["Kim Exempel", "kim@example.org", "021-123 45 67"]),
        ("anslutning", {**ANSLUTNING, "fokusomraden": ["makt", "karlek"]}, "fokusomraden",
         "inte ett giltigt val", ["Kim Exempel"]),
        ("anslutning", without(ANSLUTNING, "kontaktperson"), "kontaktperson", "Fyll i det här fältet", ["kim@"]),
        ("anslutning", {**ANSLUTNING, "kontaktperson": "   "}, "kontaktperson", "Fyll i det här fältet", []),
        ("anslutning", {**ANSLUTNING, "kontaktperson": "K" * 201}, "kontaktperson", "högst 200 tecken", ["K" * 201]),
        ("anslutning", {**ANSLUTNING, "epost": "kim(at)example"}, "epost", "Skriv en e-postadress",
         ["kim(at)example"]),
        ("anslutning", {**ANSLUTNING, "telefon": "ring mig"}, "telefon", "Skriv ett telefonnummer", ["ring mig"]),
        ("anslutning", {**ANSLUTNING, "organisationstyp": "kungahus"}, "organisationstyp", "giltigt val", []),
        ("anslutning", without(ANSLUTNING, "samtycke"), "samtycke", "Kryssa i rutan", ["Kim Exempel"]),
        ("anslutning", {**ANSLUTNING, "nyhetsbrev": "kanske"}, "nyhetsbrev", "giltigt val", []),
        ("nominering", {**NOMINERING, "ersattare_epost": "ALEX@example.org "}, "ersattare_epost",
         "Ersättaren ska vara en annan person", ["Robin Exempel"]),
        ("nominering", without(NOMINERING, "ledamot_befattning"), "ledamot_befattning", "Fyll i", ["Alex Exempel"]),
        ("nominering", {**NOMINERING, "kommentar": "x" * 5001}, "kommentar", "högst 5000 tecken", []),
        ("prioritering", {"prioriteringar": ["folkhalsa", "barnratt"]}, "prioriteringar", "Välj exakt 3", []),
        ("prioritering", {"prioriteringar": ["folkhalsa", "barnratt", "demokrati", "integration"]},
         "prioriteringar", "Välj bland de alternativ", []),
        ("prioritering", {"prioriteringar": ["folkhalsa", "folkhalsa", "demokrati"]}, "prioriteringar",
         "bara väljas en gång", []),
        ("prioritering", {"prioriteringar": ["folkhalsa", "barnratt", "glass"]}, "prioriteringar",
         "Välj bland de alternativ", []),
        ("prioritering", {"prioriteringar": ["", "", ""]}, "prioriteringar", "Välj exakt 3", []),
        ("prioritering", {**PRIORITERING, "motivering": "m" * 1001}, "motivering", "högst 1000 tecken", []),
    ],
)
def test_bad_input_is_refused_next_to_the_field(app, client, register, slug, answers, field_id, message, kept):
    open_to_all(app)
    response = submit(client, slug, answers)
    target = field_id if slug != "prioritering" or field_id == "motivering" else field_id
    assert_refused(app, response, 422, target, message, kept)


@pytest.mark.parametrize(
    ("repeated", "message"),
    [
        # Tried: another address in the repeat box, and the repeat box left empty.
        ("bo@example.com", "Skriv samma e-postadress två gånger."),
        ("", "Skriv samma e-postadress två gånger."),
    ],
)
def test_a_same_rule_refuses_two_different_answers_next_to_the_second(make_app, tmp_path, repeated, message):
    (tmp_path / "prov.yaml").write_text(
        "title: Prov\nfields:\n  - {key: epost, type: email, label: E-post, required: true}\n"
        "  - {key: epost_igen, type: email, label: E-post igen}\n"
        "rules:\n  - {same: [epost, epost_igen], message: Skriv samma e-postadress två gånger.}\n",
        encoding="utf-8",
    )
    app = make_app(FORMSVC_FORMS_DIR=str(tmp_path))
    client = app.test_client()
    refused = submit(client, "prov", {"epost": "bo@example.org", "epost_igen": repeated})
    assert_refused(app, refused, 422, "epost_igen", message, ["bo@example.org"])
    # The same address, in other case and with spaces around it, is the same.
    assert submit(client, "prov", {"epost": "bo@example.org", "epost_igen": " Bo@Example.org "}).status_code == 303


def test_ranking_keeps_the_places_picked(app, client):
    open_to_all(app)
    response = submit(client, "prioritering", {"prioriteringar": ["folkhalsa", "", "demokrati"]})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'id="prioriteringar-1".*?<option value="folkhalsa" selected>', html, re.S)
    assert re.search(r'id="prioriteringar-3".*?<option value="demokrati" selected>', html, re.S)


def test_missing_csrf_token_gives_the_form_back(app, client):
    response = client.post("/f/nyhetsbrev", data=NYHETSBREV)
    assert response.status_code == 400
    page = text_of(response)
    assert "Kontrollera svaren och skicka igen" in page
    assert 'value="prenumerant@example.org"' in response.get_data(as_text=True)
    assert stored(app) == []


def test_filled_honeypot_stores_nothing(app, client):
    response = submit(client, "nyhetsbrev", {**NYHETSBREV, "website": "http://spam.example"})
    assert response.status_code == 400
    assert "Lämna det dolda fältet tomt" in text_of(response)
    assert stored(app) == [] and outbox_count(app) == 0


def test_unknown_form_is_404(client):
    assert client.get("/f/finns-inte").status_code == 404
    token = hidden_values(client.get("/f/nyhetsbrev").get_data(as_text=True))
    assert client.post("/f/finns-inte", data=token).status_code == 404


def closes(app, slug, when):
    definition = app.extensions["formsvc_catalog"].get(slug)
    object.__setattr__(definition, "closes", when)


def test_a_closed_form_says_so_and_stores_nothing(app, client):
    page = client.get("/f/nominering")
    closes(app, "nominering", datetime(2020, 1, 1, tzinfo=UTC))
    assert "Formuläret är stängt" in text_of(client.get("/f/nominering"))
    data = {**hidden_values(page.get_data(as_text=True)), **NOMINERING}
    response = client.post("/f/nominering", data=data)
    assert response.status_code == 422
    page = text_of(response)
    assert "Formuläret är stängt" in page and "Svaret har inte sparats" in page
    assert "Alex Exempel" in page  # what was typed is shown back
    assert stored(app) == []


def test_a_form_not_yet_open_says_when_it_opens(app, client):
    definition = app.extensions["formsvc_catalog"].get("anslutning")
    object.__setattr__(definition, "opens", datetime(2099, 1, 1, tzinfo=UTC))
    response = client.get("/f/anslutning")
    assert response.status_code == 200
    assert "Formuläret har inte öppnat än" in text_of(response)
    assert "<form" not in response.get_data(as_text=True)


def test_query_parameters_prefill_the_option_fields_only(client):
    """Bad input: a link that tries to fill the e-mail field (where the receipt goes), a typed field and the
    consent. Only the options are filled; the rest stays empty, as if the parameters were not there."""
    html = client.get(
        "/f/anslutning?epost=x%40evil.example&kontaktperson=Kim&fokusomraden=halsa&fokusomraden=makt&samtycke=y"
    ).get_data(as_text=True)
    assert re.search(r'value="halsa"\s+checked', html) and re.search(r'value="makt"\s+checked', html)
    email = re.search(r'<input[^>]*id="epost"[^>]*>', html).group(0)
    assert 'value=""' in email or "value=" not in email
    assert "evil.example" not in html and "Kim" not in html
    assert not re.search(r'name="samtycke" value="y"\s+checked', html)  # consent is never prefilled
    assert "inte längre har" not in html  # no notice about values the link may not set


def test_a_link_with_only_an_email_parameter_gives_an_empty_email_field(client):
    """Bad input: /f/nyhetsbrev?epost=x@evil.example, a link that would send the receipt elsewhere."""
    html = client.get("/f/nyhetsbrev?epost=x%40evil.example").get_data(as_text=True)
    email = re.search(r'<input[^>]*id="epost"[^>]*>', html).group(0)
    assert "evil.example" not in html and ('value=""' in email or "value=" not in email)


def test_an_outdated_prefill_value_is_dropped_with_a_notice(client):
    response = client.get("/f/anslutning?fokusomraden=jamstalld_skog&fokusomraden=makt")
    assert response.status_code == 200
    page = text_of(response)
    assert "innehöll svar som formuläret inte längre har" in page and "jamstalld_skog" in page
    assert re.search(r'value="makt"\s+checked', response.get_data(as_text=True))


def test_answers_keep_the_definition_version_they_were_given_under(app, client):
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    definition = app.extensions["formsvc_catalog"].get("nyhetsbrev")
    object.__setattr__(definition, "version", "changed00000")
    assert submit(client, "nyhetsbrev", {**NYHETSBREV, "epost": "ny@example.org"}).status_code == 303
    first, second = stored(app)
    assert first.form_version_id != second.form_version_id
    assert first.form_version.definition["fields"][0]["key"] == "epost"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(FormVersion.id))) == 2
        assert db.session.scalar(sa.select(sa.func.count(AnswerValue.id))) == 0  # no countable fields here


def test_a_blank_form_page_shows_neither_earlier_prefills_nor_an_old_register(app, client):
    """Blank form pages are served from a cache (public._blank_page): what one visitor's link
    filled in must not reach the next visitor, and an organisation added to the register must show."""
    def organisation_field(html: str) -> str:
        return re.search(r'<input[^>]*id="organisation"[^>]*>', html).group(0)

    assert 'value=""' in organisation_field(client.get("/f/anslutning").get_data(as_text=True))
    prefilled = client.get("/f/anslutning?organisation=L%C3%A4nkens+f%C3%B6rening").get_data(as_text=True)
    assert 'value="Länkens förening"' in organisation_field(prefilled)
    again = client.get("/f/anslutning").get_data(as_text=True)
    assert 'value=""' in organisation_field(again) and "Länkens förening" not in again

    with app.app_context():
        db.session.add(Organisation(name="Nya föreningen", name_key="nya föreningen", type="civilsamhalle"))
        db.session.commit()
    assert '<option value="Nya föreningen"' in client.get("/f/anslutning").get_data(as_text=True)


def test_each_visitor_of_a_cached_blank_page_gets_a_csrf_token_and_submission_key_of_their_own(app):
    first, second = app.test_client(), app.test_client()
    first_values = hidden_values(first.get("/f/nyhetsbrev").get_data(as_text=True))
    second_values = hidden_values(second.get("/f/nyhetsbrev").get_data(as_text=True))
    assert first_values["csrf_token"] != second_values["csrf_token"]
    assert first_values["submission_key"] != second_values["submission_key"]
    # Each token belongs to its own visitor's session: swapped, the check refuses them (bad input tried).
    swapped = first.post("/f/nyhetsbrev", data={**NYHETSBREV, **second_values})
    assert swapped.status_code == 400 and "Kontrollera svaren och skicka igen" in swapped.get_data(as_text=True)
    assert first.post("/f/nyhetsbrev", data={**NYHETSBREV, **first_values}).status_code == 303
    second_answer = {**NYHETSBREV, "epost": "b@example.org", **second_values}
    assert second.post("/f/nyhetsbrev", data=second_answer).status_code == 303
    assert len(stored(app)) == 2


def test_a_register_change_in_another_worker_shows_on_form_pages_within_the_cache_time(app, client, monkeypatch):
    """Each worker reads the register at most once per FORMSVC_REGISTER_CACHE_SECONDS (5 by default)."""
    assert "Nya föreningen" not in client.get("/f/anslutning").get_data(as_text=True)
    other_worker = create_app({**app.config})
    with other_worker.app_context():
        db.session.add(Organisation(name="Nya föreningen", name_key="nya föreningen", type="civilsamhalle"))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    assert "Nya föreningen" not in client.get("/f/anslutning").get_data(as_text=True)  # still the one read
    later = time.monotonic() + app.config["FORMSVC_REGISTER_CACHE_SECONDS"] + 1
    monkeypatch.setattr("formsvc.organisations.time.monotonic", lambda: later)
    assert '<option value="Nya föreningen"' in client.get("/f/anslutning").get_data(as_text=True)
