"""The page on personal data, the contact block on every page and in every mail, and the accessibility
statement's review date."""

from __future__ import annotations

import lxml.html
import pytest
import sqlalchemy as sa
from helpers import csrf_token, flush_mail, submit, text_of
from test_public_forms import ANSLUTNING, NOMINERING, NYHETSBREV

from formsvc.catalog import catalog
from formsvc.extensions import db
from formsvc.models import Organisation, Response

PHONE = "010-123 45 67"
SECRETARIAT = "sekretariat@example.org"


@pytest.fixture
def app(make_app):
    app = make_app(FORMSVC_SECRETARIAT_PHONE=PHONE, FORMSVC_CONTROLLER="Länsstyrelsen Testlän")
    with app.app_context():
        db.session.add(Organisation(name="Västerås stad", name_key="västerås stad", type="kommun"))
        db.session.add(Organisation(name="Region Västmanland", name_key="region västmanland", type="region"))
        db.session.commit()
    return app


def test_the_personal_data_page_reads_each_form_from_its_definition(app, client):
    page = client.get("/personuppgifter")
    assert page.status_code == 200
    text = text_of(page)
    assert "Så behandlar vi dina personuppgifter" in text
    assert "Länsstyrelsen Testlän är personuppgiftsansvarig" in text  # the configured controller
    with app.app_context():
        definitions = list(catalog())
    for definition in definitions:
        section = lxml.html.fromstring(page.get_data(as_text=True)).get_element_by_id(definition.slug)
        shown = " ".join(section.text_content().split())
        assert definition.title in shown
        assert definition.purpose and " ".join(definition.purpose.split()) in shown, definition.slug
        assert f"Svaren sparas i {definition.retention_days} dagar" in shown, definition.slug
    assert "Dina rättigheter" in text and "Integritetsskyddsmyndigheten" in text
    assert "Så ber du om att uppgifter raderas" in text and SECRETARIAT in text


def test_the_personal_data_page_is_linked_from_every_form_and_receipt(app, client):
    with app.app_context():
        slugs = [d.slug for d in catalog()]
    for slug in slugs:
        html = client.get(f"/f/{slug}").get_data(as_text=True)
        assert f'href="/personuppgifter#{slug}"' in html, slug
    sent = submit(client, "anslutning", ANSLUTNING)
    assert 'href="/personuppgifter#anslutning"' in client.get(sent.headers["Location"]).get_data(as_text=True)


def _contact_block(html: str) -> str:
    [footer] = lxml.html.fromstring(html).xpath("//footer")
    return " ".join(footer.text_content().split())


@pytest.mark.parametrize(
    "path", ["/", "/f/anslutning", "/f/nyhetsbrev", "/tillganglighet", "/personuppgifter", "/finns-inte",
             "/f/anslutning?lang=en", "/i/" + "x" * 43]
)  # fmt: skip
def test_every_page_ends_with_the_contact_block(client, path):
    footer = _contact_block(client.get(path).get_data(as_text=True))
    assert SECRETARIAT in footer and PHONE in footer, footer
    assert "Länsstyrelsen Testlän" in footer


def test_every_mail_ends_with_the_contact_block_and_the_personal_data_link(app, staff_client, smtp):
    """The joining form's three mails, the newsletter confirmation, the nominees (once staff have accepted the
    open-link nomination) and the secretariat's notices."""
    client = staff_client
    assert submit(client, "anslutning", ANSLUTNING).status_code == 303
    assert submit(client, "nominering", NOMINERING).status_code == 303
    with app.app_context():
        reference = db.session.scalar(sa.select(Response.reference).filter_by(form_slug="nominering"))
    accept = f"/staff/invitations/nominering/answers/{reference}/accept"
    assert client.post(accept, data={"csrf_token": csrf_token(client)}).status_code == 303
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    flush_mail(app)
    mails = smtp.messages
    assert len(mails) >= 8
    for mail in mails:
        text = mail.get_body(("plain",)).get_content().replace("\r\n", "\n")
        tail = text[text.rindex("Länsstyrelsen Testlän") :]
        assert f"E-post: {SECRETARIAT}" in tail and f"Telefon: {PHONE}" in tail, mail["Subject"]
        assert "Så behandlar vi personuppgifter: http://localhost/personuppgifter" in tail, mail["Subject"]
        html = mail.get_body(("html",)).get_content()
        assert '<a href="http://localhost/personuppgifter">' in html


def test_a_long_link_in_a_mail_wraps_instead_of_widening_the_mail(app, client, smtp):
    """Tried: the newsletter confirmation, whose links are long tokens with no place to break."""
    assert submit(client, "nyhetsbrev", NYHETSBREV).status_code == 303
    flush_mail(app)
    [mail] = smtp.to(NYHETSBREV["epost"])
    page = lxml.html.fromstring(mail.get_body(("html",)).get_content())
    long_links = [a for a in page.xpath("//a") if len(a.get("href")) > 60]
    assert long_links
    for link in long_links:
        style = link.getparent().get("style")
        assert "overflow-wrap:anywhere" in style, style


def test_the_accessibility_statement_says_when_it_was_last_reviewed(client):
    text = text_of(client.get("/tillganglighet"))
    assert "Redogörelsen granskades senast den 1 december 2026." in text
    assert "Länsstyrelsen Västmanland står bakom den här tjänsten" in text
