"""Sharing a form: the staff share page, prefilled links, QR code, e-mail and iframe snippets, short links."""

from __future__ import annotations

import io
import re
from urllib.parse import parse_qsl, urlsplit

import lxml.html
import pytest
import sqlalchemy as sa
import zxingcpp
from conftest import STAFF_EMAIL, STAFF_PASSWORD, staff_user
from helpers import csrf_token, login, text_of
from PIL import Image

from formsvc.audit import AuditEvent
from formsvc.extensions import db
from formsvc.sharing.models import CODE_ALPHABET, ShortLink
from formsvc.staff.models import StaffUser

PUBLIC = "https://formular.example.org"

# A meeting invitation whose first question is a single choice: the e-mail gets one button per option.
MEETING = """
title: Kommer du till nätverksträffen?
fields:
  - key: deltar
    type: choice
    label: Kommer du till träffen den 12 mars?
    required: true
    choices:
      plats: Ja, på plats
      distans: Ja, på distans
      nej: Nej, jag kan inte
  - key: organisation
    type: organisation
    label: Organisation
  - key: namn
    type: text
    label: Namn
  - key: samtycke
    type: consent
    label: Jag samtycker till att mitt namn sparas för träffen.
    required: true
"""
# The same form after the on-line option was taken away.
MEETING_WITHOUT_DISTANS = MEETING.replace("      distans: Ja, på distans\n", "")


def page_of(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def field_value(response, element_id: str) -> str:
    return page_of(response).get_element_by_id(element_id).value


def chosen_on_form(response) -> list[tuple[str, str]]:
    """What the public form page has filled in or ticked, as (field, value), leaving out its own fields."""
    [form] = page_of(response).xpath("//form[contains(@class, 'answer-form')]")
    own = {"csrf_token", "submission_key", "website"}
    return sorted((name, value) for name, value in form.form_values() if name not in own and value)


def open_link(client, link: str):
    """Follow an absolute link as a browser would, on this test app."""
    parts = urlsplit(link)
    return client.get(parts.path + (f"?{parts.query}" if parts.query else ""))


def logged_in(app):
    """A client of `app` logged in as staff (the account is made when the database has none yet)."""
    with app.app_context():
        if db.session.scalar(sa.select(StaffUser).filter_by(email=STAFF_EMAIL)) is None:
            db.session.add(staff_user())
            db.session.commit()
    client = app.test_client()
    assert login(client, STAFF_EMAIL, STAFF_PASSWORD).status_code == 303
    return client


@pytest.fixture
def forms_dir(tmp_path):
    folder = tmp_path / "forms"
    folder.mkdir()
    (folder / "traff.yaml").write_text(MEETING, encoding="utf-8")
    return folder


@pytest.fixture
def meeting_app(make_app, forms_dir):
    return make_app(FORMSVC_FORMS_DIR=str(forms_dir), FORMSVC_PUBLIC_URL=PUBLIC)


@pytest.fixture
def public_app(make_app):
    return make_app(FORMSVC_PUBLIC_URL=PUBLIC)


# --- the share page and its links ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/staff/forms/anslutning/share",
        "/staff/forms/anslutning/share?fokusomraden=makt",
        "/staff/forms/anslutning/share/qr.png",
        "/staff/forms/anslutning/share/qr.svg",
        "/staff/forms/anslutning/share/email",
    ],
)
def test_share_pages_need_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/staff/login"


def test_making_a_short_link_needs_login(app, client):
    token = csrf_token(client, "/staff/login")
    response = client.post("/staff/forms/anslutning/share/short", data={"csrf_token": token, "fokusomraden": "makt"})
    assert response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/staff/login"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ShortLink.id))) == 0


def test_dashboard_links_to_each_forms_share_page(staff_client):
    html = staff_client.get("/staff/").get_data(as_text=True)
    for slug in ("anslutning", "nominering", "nyhetsbrev", "prioritering"):
        assert f'href="/staff/forms/{slug}/share"' in html


def test_unknown_form_has_no_share_page(staff_client):
    assert staff_client.get("/staff/forms/finns-inte/share").status_code == 404


@pytest.mark.parametrize(
    ("public_url", "expected"),
    [
        (None, "http://localhost/f/anslutning"),  # no setting: this request's own host
        (PUBLIC, "https://formular.example.org/f/anslutning"),
        ("https://www.example.org/formular/", "https://www.example.org/formular/f/anslutning"),  # behind a proxy path
    ],
)
def test_the_plain_link_is_absolute_and_uses_the_public_address(make_app, public_url, expected):
    client = logged_in(make_app(FORMSVC_PUBLIC_URL=public_url))
    response = client.get("/staff/forms/anslutning/share")
    assert response.status_code == 200
    assert field_value(response, "plain-link") == expected
    # Without JavaScript the link is a read-only field to select; the copy button is switched on by share.js.
    field = page_of(response).get_element_by_id("plain-link")
    assert field.get("readonly") is not None
    assert '<script src="/static/share.js" defer></script>' in response.get_data(as_text=True)
    assert "<script>" not in response.get_data(as_text=True)  # no inline script (strict CSP)


PICKS = [
    {"organisationstyp": ["region"]},
    {"fokusomraden": ["makt", "halsa"], "nyhetsbrev": ["ja"]},
    {"organisation": ["Föreningen Exempel"], "valkomstpaket": ["natverk", "spridning"], "nyhetsbrev": ["nej"]},
]


@pytest.mark.parametrize("picks", PICKS)
def test_each_prefilled_link_opens_the_form_with_exactly_those_values(public_app, picks):
    client = logged_in(public_app)
    query = [(key, value) for key, values in picks.items() for value in values]
    share = client.get("/staff/forms/anslutning/share", query_string=query)
    assert share.status_code == 200
    link = field_value(share, "prefilled-link")
    assert link.startswith(f"{PUBLIC}/f/anslutning?")
    assert sorted(parse_qsl(urlsplit(link).query)) == sorted(query)  # field and option keys, not labels

    form = open_link(public_app.test_client(), link)
    assert form.status_code == 200
    assert chosen_on_form(form) == sorted(query)
    assert "innehöll svar som formuläret inte längre har" not in text_of(form)


def test_the_builder_offers_only_picked_values_and_never_consent(public_app):
    """Tried: consent, a typed name and an e-mail address in the share page's address."""
    client = logged_in(public_app)
    share = client.get("/staff/forms/anslutning/share?samtycke=y&kontaktperson=Kim&epost=kim@example.org&nyhetsbrev=ja")
    assert field_value(share, "prefilled-link") == f"{PUBLIC}/f/anslutning?nyhetsbrev=ja"
    builder = page_of(share).xpath("//form[contains(@class, 'share-builder')]")[0]
    names = {element.get("name") for element in builder.xpath(".//input|.//select")}
    assert names == {"organisation", "organisationstyp", "fokusomraden", "valkomstpaket", "nyhetsbrev"}


def test_a_value_the_form_would_refuse_is_named_and_left_out_of_the_link(public_app):
    """Tried: an option the form does not have, next to one it has."""
    client = logged_in(public_app)
    share = client.get("/staff/forms/anslutning/share?fokusomraden=jamstalld_skog&fokusomraden=makt")
    assert share.status_code == 422
    assert "De här svaren finns inte i formuläret" in text_of(share) and "jamstalld_skog" in text_of(share)
    assert field_value(share, "prefilled-link") == f"{PUBLIC}/f/anslutning?fokusomraden=makt"


def test_an_invalid_value_in_a_link_shows_the_form_without_it_and_a_notice(public_app):
    client = public_app.test_client()
    form = client.get("/f/anslutning?organisationstyp=kommun&organisationstyp=planet&fokusomraden=%3Cscript%3E")
    assert form.status_code == 200
    assert chosen_on_form(form) == [("organisationstyp", "kommun")]
    page = text_of(form)
    assert "innehöll svar som formuläret inte längre har" in page and "<script>" in page  # shown as text
    assert "<script>" not in form.get_data(as_text=True)


def test_an_option_removed_since_the_link_was_made_is_dropped_with_a_notice(make_app, forms_dir, tmp_path):
    before = make_app(FORMSVC_FORMS_DIR=str(forms_dir), FORMSVC_PUBLIC_URL=PUBLIC)
    client = logged_in(before)
    share = client.get("/staff/forms/traff/share?deltar=distans&organisation=Region+V%C3%A4stmanland")
    link = field_value(share, "prefilled-link")
    assert link == f"{PUBLIC}/f/traff?deltar=distans&organisation=Region+V%C3%A4stmanland"
    assert chosen_on_form(open_link(before.test_client(), link)) == [
        ("deltar", "distans"),
        ("organisation", "Region Västmanland"),
    ]
    made = client.post("/staff/forms/traff/share/short", data={**_csrf(client, share), "deltar": "distans"})
    short = field_value(client.get(made.headers["Location"]), "short-link")

    changed = tmp_path / "changed"
    changed.mkdir()
    (changed / "traff.yaml").write_text(MEETING_WITHOUT_DISTANS, encoding="utf-8")
    after = make_app(FORMSVC_FORMS_DIR=str(changed), FORMSVC_PUBLIC_URL=PUBLIC)
    reader = after.test_client()
    form = open_link(reader, link)
    assert form.status_code == 200
    assert chosen_on_form(form) == [("organisation", "Region Västmanland")]  # the rest is kept
    assert "innehöll svar som formuläret inte längre har" in text_of(form) and "distans" in text_of(form)

    redirected = open_link(reader, short)  # the short link made before the change leads there too
    assert redirected.status_code == 302
    form = open_link(reader, redirected.headers["Location"])
    assert form.status_code == 200 and chosen_on_form(form) == []
    assert "innehöll svar som formuläret inte längre har" in text_of(form)


# --- QR code ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "?fokusomraden=omsorg&nyhetsbrev=ja"])
def test_the_qr_code_decodes_back_to_the_link(public_app, query):
    client = logged_in(public_app)
    share = client.get(f"/staff/forms/anslutning/share{query}")
    link = field_value(share, "prefilled-link" if query else "plain-link")

    png = client.get(f"/staff/forms/anslutning/share/qr.png{query}")
    assert png.status_code == 200 and png.mimetype == "image/png"
    assert png.headers["Content-Disposition"] == "attachment; filename=anslutning-qr.png"
    [barcode] = zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode
    assert barcode.text == link

    svg = client.get(f"/staff/forms/anslutning/share/qr.svg{query}")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    assert svg.headers["Content-Disposition"] == "attachment; filename=anslutning-qr.svg"
    root = lxml.etree.fromstring(svg.data)
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.xpath("//*[local-name()='path']")
    assert f'src="/staff/forms/anslutning/share/qr.svg{query.replace("&", "&amp;")}"' in share.get_data(as_text=True)


# --- e-mail snippet ---------------------------------------------------------------------------------------


def snippet_links(html: str) -> list[str]:
    return [a.get("href") for a in lxml.html.fragment_fromstring(html, create_parent="div").iter("a")]


def test_the_email_snippet_has_one_link_per_option_that_chooses_it(meeting_app):
    client = logged_in(meeting_app)
    share = client.get("/staff/forms/traff/share")
    html = field_value(share, "email-html")
    assert "Kommer du till nätverksträffen?" in html and "Kommer du till träffen den 12 mars?" in html
    assert not re.search(r"<script|<img|<link|<iframe|<style|src=|url\(|@import|javascript:", html, re.I)
    links = snippet_links(html)
    assert links == [f"{PUBLIC}/f/traff?deltar={key}" for key in ("plats", "distans", "nej")]
    # Only this service's own address: nothing external for a mail client to fetch.
    assert all(link.startswith(f"{PUBLIC}/f/traff") for link in re.findall(r'https?://[^"\s<]+', html))

    reader = meeting_app.test_client()
    for key, link in zip(("plats", "distans", "nej"), links, strict=True):
        assert chosen_on_form(open_link(reader, link)) == [("deltar", key)]

    text = field_value(share, "email-text")
    assert "Kommer du till nätverksträffen?" in text and "<" not in text
    for label, link in zip(("Ja, på plats", "Ja, på distans", "Nej, jag kan inte"), links, strict=True):
        assert f"{label}:\n{link}\n" in text


def test_the_email_snippet_keeps_the_other_prefilled_answers(meeting_app):
    client = logged_in(meeting_app)
    share = client.get("/staff/forms/traff/share?organisation=Region+Västmanland&deltar=nej")
    links = snippet_links(field_value(share, "email-html"))
    assert len(links) == 3
    for key, link in zip(("plats", "distans", "nej"), links, strict=True):
        assert chosen_on_form(open_link(meeting_app.test_client(), link)) == [
            ("deltar", key),
            ("organisation", "Region Västmanland"),
        ]


def test_without_a_single_choice_first_the_email_snippet_has_one_link_to_the_form(public_app):
    client = logged_in(public_app)
    share = client.get("/staff/forms/anslutning/share")
    html = field_value(share, "email-html")
    assert snippet_links(html) == [f"{PUBLIC}/f/anslutning"]
    assert "Öppna formuläret" in html
    assert field_value(share, "email-text").strip().endswith(f"Svara här:\n{PUBLIC}/f/anslutning")


def test_the_email_preview_shows_the_snippet_and_allows_no_script(meeting_app):
    client = logged_in(meeting_app)
    preview = client.get("/staff/forms/traff/share/email?deltar=plats")
    assert preview.status_code == 200
    assert snippet_links(preview.get_data(as_text=True)) == [
        f"{PUBLIC}/f/traff?deltar={key}" for key in ("plats", "distans", "nej")
    ]
    policy = preview.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "frame-ancestors 'self'" in policy


# --- iframe snippet ---------------------------------------------------------------------------------------


def test_the_iframe_snippet_is_offered_only_for_embeddable_forms(public_app):
    client = logged_in(public_app)
    share = client.get("/staff/forms/anslutning/share?nyhetsbrev=ja")
    assert "Bädda in på en webbsida" not in text_of(share)
    assert not page_of(share).xpath("//*[@id='iframe-snippet']")

    # As the loader reads `embed: {allow: [https://www.example.org]}` from a definition.
    definition = public_app.extensions["formsvc_catalog"].get("anslutning")
    object.__setattr__(definition, "embed_allow", ("https://www.example.org",))
    share = client.get("/staff/forms/anslutning/share?nyhetsbrev=ja")
    assert "Formuläret får bäddas in på: https://www.example.org" in text_of(share)
    [iframe] = lxml.html.fragment_fromstring(field_value(share, "iframe-snippet"), create_parent="div")
    assert iframe.tag == "iframe"
    assert iframe.get("src") == f"{PUBLIC}/f/anslutning?nyhetsbrev=ja"
    assert iframe.get("title") == definition.title


# --- short links ------------------------------------------------------------------------------------------


def _csrf(client, page) -> dict:
    return {"csrf_token": page_of(page).xpath("//input[@name='csrf_token']")[0].get("value")}


def test_a_short_link_redirects_to_the_full_prefilled_link(public_app):
    client = logged_in(public_app)
    share = client.get("/staff/forms/anslutning/share?organisationstyp=myndighet&fokusomraden=ekonomi")
    full = field_value(share, "prefilled-link")
    made = client.post(
        "/staff/forms/anslutning/share/short",
        data={**_csrf(client, share), "organisationstyp": "myndighet", "fokusomraden": "ekonomi"},
    )
    assert made.status_code == 303
    assert made.headers["Location"].endswith("/share?organisationstyp=myndighet&fokusomraden=ekonomi#kortlank")
    page = client.get(made.headers["Location"])
    short = field_value(page, "short-link")
    code = short.removeprefix(f"{PUBLIC}/s/")
    assert len(code) == 7 and set(code) <= set(CODE_ALPHABET) and not set(code) & set("01ilo")

    visitor = public_app.test_client()
    for typed in (code, code.upper()):  # typed from a poster, perhaps in capitals
        redirected = visitor.get(f"/s/{typed}")
        assert redirected.status_code == 302
        assert redirected.headers["Location"] == full
    assert chosen_on_form(open_link(visitor, full)) == [("fokusomraden", "ekonomi"), ("organisationstyp", "myndighet")]

    again = client.post(
        "/staff/forms/anslutning/share/short",
        data={**_csrf(client, page), "fokusomraden": "ekonomi", "organisationstyp": "myndighet"},
    )
    assert again.status_code == 303
    assert field_value(client.get(again.headers["Location"]), "short-link") == short  # the same link, not a new one
    assert short in text_of(client.get("/staff/forms/anslutning/share"))  # listed among the form's short links
    with public_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ShortLink.id))) == 1
        [event] = db.session.scalars(sa.select(AuditEvent).filter_by(action="short_link_created"))
        assert event.target == "anslutning" and event.detail["code"] == code


def test_a_short_link_to_the_plain_form(public_app):
    client = logged_in(public_app)
    share = client.get("/staff/forms/nyhetsbrev/share")
    made = client.post("/staff/forms/nyhetsbrev/share/short", data=_csrf(client, share))
    short = field_value(client.get(made.headers["Location"]), "short-link")
    assert open_link(client, short).headers["Location"] == f"{PUBLIC}/f/nyhetsbrev"


def test_a_short_link_for_a_value_the_form_would_refuse_is_not_made(public_app):
    """Tried: an option the form does not have, sent to the short link button."""
    client = logged_in(public_app)
    share = client.get("/staff/forms/anslutning/share")
    refused = client.post(
        "/staff/forms/anslutning/share/short", data={**_csrf(client, share), "fokusomraden": "jamstalld_skog"}
    )
    assert refused.status_code == 422
    assert "Kortlänken skapades inte" in text_of(refused) and "jamstalld_skog" in text_of(refused)
    with public_app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(ShortLink.id))) == 0


@pytest.mark.parametrize("code", ["abcdefg", "0000000", "x" * 300, "%3Cscript%3E"])
def test_an_unknown_short_link_gives_a_clear_page_and_404(client, code):
    response = client.get(f"/s/{code}")
    assert response.status_code == 404
    assert "Kortlänken finns inte" in text_of(response)


def test_guessing_short_links_is_throttled_but_a_known_one_is_not(make_app):
    app = make_app(RATELIMIT_ENABLED=True, FORMSVC_TOKEN_LIMIT="10 per minute")
    with app.app_context():
        db.session.add(ShortLink(code="abcdefg", form_slug="nyhetsbrev", query="", created_by="delare@example.org"))
        db.session.commit()
    guesser = app.test_client()
    known = [guesser.get("/s/abcdefg").status_code for _ in range(20)]
    assert set(known) == {302}  # a link opened by a whole room is never throttled
    guesses = [guesser.get(f"/s/zzzzzz{chr(97 + n)}").status_code for n in range(20)]
    assert guesses[:10] == [404] * 10 and set(guesses[10:]) == {429}
