"""Swedish first, English second: the page chrome and the error messages follow the chosen language."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import lxml.html
import pytest
from helpers import flush_mail, submit, text_of

from formsvc.definitions import DefinitionError, parse_definition
from formsvc.definitions.schema import FormDefinition


def test_swedish_is_the_default(client):
    page = client.get("/f/nyhetsbrev")
    assert '<html lang="sv">' in page.get_data(as_text=True)
    assert "Hoppa till innehållet" in text_of(page)


def test_english_on_request_and_kept_for_the_session(client):
    page = client.get("/f/nyhetsbrev?lang=en")
    assert '<html lang="en">' in page.get_data(as_text=True)
    assert "Skip to content" in text_of(page) and "På svenska" in text_of(page)
    response = submit(client, "nyhetsbrev", {"epost": "inte en adress"})
    assert response.status_code == 422
    page = text_of(response)
    assert "Enter an e-mail address like name@example.com." in page
    assert "Tick the box to send the form." in page


def test_swedish_whatever_the_browser_prefers(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert "Formulär och enkäter" in text_of(page)


def test_dates_are_written_the_swedish_way(client):
    page = text_of(client.get("/f/nominering"))
    assert "Sista dag att svara är den 29 januari 2027." in page


def _page(response):
    return lxml.html.fromstring(response.get_data(as_text=True))


def _swedish_marked(element) -> bool:
    """Whether the element, or one around it, says lang="sv" below the page's own language."""
    return any(a.get("lang") == "sv" for a in [element, *element.iterancestors()] if a.tag != "html")


def test_the_form_questions_are_in_english_when_english_is_chosen(client):
    page = _page(client.get("/f/anslutning?lang=en"))
    [heading] = page.xpath("//h1")
    assert heading.text_content() == "Join the county strategy for gender mainstreaming"
    assert not _swedish_marked(heading)
    legends = {" ".join(e.text_content().split()): e for e in page.xpath("//legend")}
    legend = legends["Which of the strategy's areas will you mainly focus on? (required)"]
    assert not _swedish_marked(legend)
    labels = {e.text_content().strip(): e for e in page.xpath("//label")}
    assert not _swedish_marked(labels["Economic equality"]) and not _swedish_marked(labels["Yes"])
    assert "Mäns våld mot kvinnor ska upphöra" not in page.text_content()
    assert page.xpath("//button[@type='submit']")[0].text_content().strip() == "Join"
    # Swedish still, unmarked, for the Swedish page.
    swedish = _page(client.get("/f/anslutning?lang=sv"))
    assert swedish.xpath("//h1")[0].text_content().startswith("Anslut er organisation")


@pytest.fixture
def half_translated(make_app, tmp_path):
    """A form with English for some texts only. Tried: a question, a help text and an option without English."""
    forms = tmp_path / "forms"
    forms.mkdir()
    (forms / "halv.yaml").write_text(
        "title: Halvt översatt\ntitle_en: Half translated\nretention_days: 30\n"
        "fields:\n"
        "  - {key: farg, type: choice, label: Vilken färg?, label_en: Which colour?, help: Välj en.,\n"
        "     choices: {rod: Röd, bla: Blå}, choices_en: {rod: Red}}\n"
        "  - {key: djur, type: text, label: Vilket djur?}\n",
        encoding="utf-8",
    )
    return make_app(FORMSVC_FORMS_DIR=str(forms))


def test_a_text_without_english_shows_in_swedish_marked_as_swedish(half_translated):
    client = half_translated.test_client()
    page = _page(client.get("/f/halv?lang=en"))
    assert page.xpath("//h1")[0].text_content() == "Half translated" and not _swedish_marked(page.xpath("//h1")[0])
    [legend] = page.xpath("//legend")
    assert legend.text_content().startswith("Which colour?") and not _swedish_marked(legend)
    [hint] = page.xpath("//p[@class='hint']")
    assert hint.text_content() == "Välj en." and _swedish_marked(hint)
    labels = {e.text_content().strip(): e for e in page.xpath("//label")}
    assert not _swedish_marked(labels["Red"])
    assert _swedish_marked(labels["Blå"])
    [question] = [e for text, e in labels.items() if text.startswith("Vilket djur?")]
    assert question.xpath(".//span[@lang='sv']")[0].text_content() == "Vilket djur?"


def test_english_texts_are_checked_when_the_definition_is_read():
    """Tried: an English label for an option the field does not have, and an English label that is a list."""
    fields = [{"key": "val", "type": "choice", "label": "Val", "choices": {"a": "A"}, "choices_en": {"b": "B"}}]
    with pytest.raises(DefinitionError) as caught:
        parse_definition({"title": "T", "fields": fields}, slug="prov", source="forms/prov.yaml")
    assert caught.value.field_key == "val" and "'b' is not an option" in caught.value.reason
    fields = [{"key": "x", "type": "text", "label": "X", "label_en": ["X"]}]
    with pytest.raises(DefinitionError) as caught:
        parse_definition({"title": "T", "fields": fields}, slug="prov", source="forms/prov.yaml")
    assert caught.value.field_key == "x" and "'label_en' must be text" in caught.value.reason


def test_a_definition_without_english_keeps_its_stored_shape():
    """Definitions stored before English texts existed read back the same: no empty English keys are added
    to what is stored (and hashed into the version); English texts survive being stored."""
    plain = parse_definition({"title": "T", "fields": [{"key": "x", "type": "text", "label": "X"}]}, slug="p")
    assert "_en" not in str(plain.as_json()) and "purpose" not in plain.as_json()
    english = parse_definition(
        {"title": "T", "title_en": "E", "fields": [{"key": "x", "type": "text", "label": "X", "label_en": "XE"}]},
        slug="p",
    )
    again = FormDefinition.from_json(english.as_json(), slug="p")
    assert again.title_en == "E" and again.fields[0].label_en == "XE"


@pytest.mark.parametrize(
    ("language", "value", "options", "expected"),
    [
        ("sv", datetime(2026, 12, 1, 18, 28, tzinfo=UTC), {}, "den 1 december 2026 kl. 19.28"),
        ("sv", datetime(2026, 7, 1, 8, 5, tzinfo=UTC), {}, "den 1 juli 2026 kl. 10.05"),  # summer time
        ("sv", date(2027, 1, 29), {}, "den 29 januari 2027"),
        ("sv", datetime(2026, 12, 1, 18, 28, tzinfo=UTC), {"time": False}, "den 1 december 2026"),
        ("sv", datetime(2026, 12, 1, 18, 28, tzinfo=UTC), {"short": True}, "1 dec. 2026 19.28"),
        ("en", datetime(2026, 12, 1, 18, 28, tzinfo=UTC), {}, "1 December 2026 at 19:28"),
        ("sv", datetime(2026, 12, 1, 18, 28, 5, tzinfo=UTC), {"short": True, "seconds": True}, "1 dec. 2026 19.28.05"),
    ],
)
def test_dates_and_times_the_swedish_way(app, language, value, options, expected):
    with app.test_request_context(f"/?lang={language}"):
        assert app.jinja_env.from_string("{{ value | datum(**options) }}").render(value=value, options=options) == (
            expected
        )


def test_the_receipt_and_its_mail_give_the_time_the_swedish_way(app, client, smtp):
    """Tried from an English page: the receipt page is English, the mail stays Swedish, dates included."""
    client.get("/f/tillganglighet?lang=en")
    sent = submit(client, "tillganglighet", {"problem": "Knappen syns inte.", "epost": "rapport@example.org"})
    receipt = text_of(client.get(sent.headers["Location"]))
    assert re.search(r"Received \d{1,2} [A-Z][a-z]+ \d{4} at \d\d:\d\d\.", receipt)
    flush_mail(app)
    [mail] = smtp.to("rapport@example.org")
    body = mail.get_body(("plain",)).get_content()
    assert re.search(r"Mottaget den \d{1,2} [a-zä]+ \d{4} kl\. \d\d\.\d\d", body), body


def test_the_receipt_repeats_the_answer_in_the_forms_english_words(half_translated):
    """Tried: an option with English, and a question without it (shown in Swedish, marked so)."""
    client = half_translated.test_client()
    client.get("/f/halv?lang=en")
    sent = submit(client, "halv", {"farg": "rod", "djur": "Katt"})
    page = _page(client.get(sent.headers["Location"]))
    terms = {dt.text_content(): dt for dt in page.xpath("//dl[@class='receipt']/dt")}
    assert not _swedish_marked(terms["Which colour?"])
    assert terms["Which colour?"].getnext().text_content() == "Red"
    assert not _swedish_marked(terms["Which colour?"].getnext())
    assert _swedish_marked(terms["Vilket djur?"])
    assert terms["Vilket djur?"].getnext().text_content() == "Katt"
    sent = submit(client, "halv", {"farg": "bla"})
    page = _page(client.get(sent.headers["Location"]))
    [answer] = page.xpath("//dl[@class='receipt']/dd")
    assert answer.text_content() == "Blå" and _swedish_marked(answer)
