"""The staff form editor pages (/staff/forms-admin): create, edit, preview, publish, history, rollback,
download, every refusal next to its setting. Server-rendered; these tests post what a browser without
JavaScript posts."""

from __future__ import annotations

import io
import re

import lxml.html
import sqlalchemy as sa
import yaml
from helpers import flush_mail, hidden_values, submit, text_of
from werkzeug.datastructures import MultiDict

from formsvc.audit import AuditEvent
from formsvc.definitions import FIELD_TYPES
from formsvc.editor import drafts
from formsvc.extensions import db
from formsvc.models import Response

ADMIN = "/staff/forms-admin"


def _token(client) -> str:
    return hidden_values(client.get(f"{ADMIN}/").get_data(as_text=True))["csrf_token"]


def _post(client, path: str, **data):
    return client.post(f"{ADMIN}{path}", data={"csrf_token": _token(client), **data})


def _error_next_to(response, input_id: str) -> str:
    """The error shown with the input `input_id` (its aria-describedby), as a person reads it."""
    page = lxml.html.fromstring(response.get_data(as_text=True))
    element = page.get_element_by_id(input_id)
    described = element.get("aria-describedby")
    assert element.get("aria-invalid") == "true" and described
    return " ".join(page.get_element_by_id(described).text_content().split())


def test_staff_make_a_form_preview_it_publish_it_and_a_visitor_answers(app, staff_client):
    created = _post(staff_client, "/new", slug="enkat-2027", how="blank", title="Enkät om workshoppen")
    assert created.status_code == 303 and created.headers["Location"].endswith(f"{ADMIN}/enkat-2027")
    assert staff_client.get("/f/enkat-2027").status_code == 404  # a draft is not served

    assert _post(staff_client, "/enkat-2027/fields", type="choice").status_code == 303
    assert _post(staff_client, "/enkat-2027/fields", type="scale").status_code == 303
    # Bad input: a choice question with its options emptied; refused next to the options box.
    refused = _post(staff_client, "/enkat-2027/fields/fraga_2", label="Vilken dag passar?", choices="")
    assert refused.status_code == 422
    assert _error_next_to(refused, "fraga_2-choices") == "Fel: Skriv minst ett alternativ, ett per rad."
    saved = _post(staff_client, "/enkat-2027/fields/fraga_2", label="Vilken dag passar?", required="y",
                  choices="mandag: Måndag\ntisdag: Tisdag")
    assert saved.status_code == 303
    # Bad input: closing before opening; refused next to "Stänger".
    refused = _post(staff_client, "/enkat-2027/settings", title="Enkät om workshoppen", opens="2026-05-02",
                    closes="2026-05-01", listed="y", open_link="y")
    assert refused.status_code == 422
    assert _error_next_to(refused, "form-closes") == "Fel: Formuläret måste stänga efter att det öppnar."
    # Bad input: a question's text emptied; said in staff words, not as the YAML name "label".
    refused = _post(staff_client, "/enkat-2027/fields/fraga_2", label="", choices="mandag: Måndag")
    assert refused.status_code == 422 and _error_next_to(refused, "fraga_2-label") == "Fel: Skriv frågans text."
    assert _post(staff_client, "/enkat-2027/fields/fraga_3/move", direction="up").status_code == 303
    editor = text_of(staff_client.get(f"{ADMIN}/enkat-2027"))
    assert editor.index("Vilken dag passar?") > editor.index("(Skala (betyg)")  # the scale moved above it

    preview = staff_client.get(f"{ADMIN}/enkat-2027/preview")
    assert preview.status_code == 200 and "Förhandsvisning av utkastet" in text_of(preview)
    assert f'action="{ADMIN}/enkat-2027/preview"' in preview.get_data(as_text=True)
    token = hidden_values(preview.get_data(as_text=True))
    # Bad input: the required day left out; the preview shows the error and stores nothing.
    checked = staff_client.post(f"{ADMIN}/enkat-2027/preview", data={**token, "fraga_1": "Kim", "fraga_3": "4"})
    assert checked.status_code == 422 and "Formuläret skickades inte" in text_of(checked)
    checked = staff_client.post(f"{ADMIN}/enkat-2027/preview",
                                data={**token, "fraga_1": "Kim", "fraga_3": "4", "fraga_2": "tisdag"})
    assert checked.status_code == 200 and "Svaret godtogs" in text_of(checked)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Response)) == 0

    assert _post(staff_client, "/enkat-2027/publish").status_code == 303
    answer = {"fraga_1": "Kim", "fraga_2": "mandag", "fraga_3": "4"}
    assert submit(staff_client, "enkat-2027", answer).status_code == 303
    listed = text_of(staff_client.get(f"{ADMIN}/"))
    assert re.search(r"Enkät om workshoppen \(enkat-2027\) Öppen 1 ", listed)


def test_staff_remove_a_question_publish_and_roll_back(app, staff_client):
    _post(staff_client, "/new", slug="prov", how="blank", title="Prov")
    _post(staff_client, "/prov/fields", type="text")
    _post(staff_client, "/prov/publish")
    assert submit(staff_client, "prov", {"fraga_1": "Ett", "fraga_2": "Två"}).status_code == 303
    _post(staff_client, "/prov/fields/fraga_2/remove")
    assert _post(staff_client, "/prov/publish").status_code == 303
    assert 'name="fraga_2"' not in staff_client.get("/f/prov").get_data(as_text=True)

    history = staff_client.get(f"{ADMIN}/prov/history")
    assert "Frågan ”Fråga 2” (fraga_2) togs bort." in text_of(history)
    first = re.findall(r'/history/([0-9a-f]{12})/publish', history.get_data(as_text=True))
    assert len(first) == 1  # only the earlier version can be published again
    assert _post(staff_client, f"/prov/history/{first[0]}/publish").status_code == 303
    assert 'name="fraga_2"' in staff_client.get("/f/prov").get_data(as_text=True)
    assert "Tidigare version publicerad igen" in text_of(staff_client.get(f"{ADMIN}/prov/history"))

    yaml_file = staff_client.get(f"{ADMIN}/prov/published.yaml")
    assert yaml_file.status_code == 200 and "fraga_2" in yaml_file.get_data(as_text=True)


def test_an_option_key_change_is_refused_on_the_page_once_answered(app, staff_client):
    _post(staff_client, "/new", slug="val", how="blank", title="Val")
    _post(staff_client, "/val/fields", type="choice")
    _post(staff_client, "/val/fields/fraga_2", label="Färg", choices="bla: Blå\nrod: Röd")
    _post(staff_client, "/val/publish")
    assert submit(staff_client, "val", {"fraga_1": "x", "fraga_2": "bla"}).status_code == 303
    # Bad input: the answered option's key changed from bla to blaa, label kept.
    refused = _post(staff_client, "/val/fields/fraga_2", label="Färg", choices="blaa: Blå\nrod: Röd")
    assert refused.status_code == 422
    assert "har redan svar med nyckeln ”bla”" in _error_next_to(refused, "fraga_2-choices")


def test_create_from_a_copy_and_from_an_uploaded_file(app, staff_client):
    copied = _post(staff_client, "/new", slug="anslutning-2", how="copy", source="anslutning")
    assert copied.status_code == 303
    assert "Anslut er organisation" in text_of(staff_client.get(f"{ADMIN}/anslutning-2"))
    upload = {"csrf_token": _token(staff_client), "slug": "uppladdad", "how": "upload",
              "file": (io.BytesIO("title: Från fil\nfields:\n  - {key: a, type: text, label: A}\n".encode()), "x.yaml")}
    assert staff_client.post(f"{ADMIN}/new", data=upload, content_type="multipart/form-data").status_code == 303
    # Bad input: a file whose field has an unknown type; refused with the line, nothing created.
    upload = {"csrf_token": _token(staff_client), "slug": "trasig", "how": "upload",
              "file": (io.BytesIO(b"title: T\nfields:\n  - {key: a, type: stars, label: A}\n"), "t.yaml")}
    refused = staff_client.post(f"{ADMIN}/new", data=upload, content_type="multipart/form-data")
    assert refused.status_code == 422 and "stars" in _error_next_to(refused, "file")
    # Bad input: an address already taken.
    refused = _post(staff_client, "/new", slug="anslutning", how="blank", title="X")
    assert refused.status_code == 422 and "finns redan" in _error_next_to(refused, "slug")
    assert staff_client.get(f"{ADMIN}/trasig").status_code == 404



def test_an_archived_form_is_not_served_even_from_its_file_and_comes_back(app, staff_client):
    assert _post(staff_client, "/utvardering/archive", archived="y").status_code == 303
    assert staff_client.get("/f/utvardering").status_code == 404
    assert re.search(r"\(utvardering\) Arkiverad", text_of(staff_client.get(f"{ADMIN}/")))
    assert _post(staff_client, "/utvardering/archive").status_code == 303
    assert staff_client.get("/f/utvardering").status_code == 200


def test_a_second_newsletter_sign_up_form_is_refused(app, staff_client):
    """Bad input: a copy of nyhetsbrev, whose `newsletter: sign_up: true` would make two sign-up forms."""
    refused = _post(staff_client, "/new", slug="nyhetsbrev-2", how="copy", source="nyhetsbrev")
    assert refused.status_code == 422 and "sign_up" in _error_next_to(refused, "source")


def test_the_preview_as_wide_as_a_phone_frames_the_draft_and_only_this_site_may_frame_it(app, staff_client):
    """The preview's phone view is the draft's page in a 390 px frame, with its own way back; the preview
    may be framed by this site only, and every other staff page by none."""
    page = staff_client.get(f"{ADMIN}/nyhetsbrev/preview/mobil")
    assert page.status_code == 200
    frame = lxml.html.fromstring(page.get_data(as_text=True)).xpath("//iframe[@class='phone-frame']")[0]
    assert frame.get("width") == "390" and frame.get("title")
    framed = staff_client.get(frame.get("src"))
    assert framed.status_code == 200 and "Förhandsvisning av utkastet" in text_of(framed)
    assert "frame-ancestors 'self'" in framed.headers["Content-Security-Policy"]
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    html = framed.get_data(as_text=True)
    assert 'target="_top"' in html and "Visa som på en mobil" not in html  # inside the frame: no frame in a frame
    assert 'action="/staff/forms-admin/nyhetsbrev/preview?ram=mobil"' in html  # a check stays in the frame
    editor = staff_client.get(f"{ADMIN}/nyhetsbrev")
    assert editor.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in editor.headers["Content-Security-Policy"]

def _draft_yaml(client, slug: str) -> str:
    return client.get(f"{ADMIN}/{slug}/draft.yaml").get_data(as_text=True)


def test_staff_add_edit_and_remove_mails_and_the_answer_gets_the_own_subject(app, staff_client, smtp):
    """Utskick: a receipt with staff's own subject and text reaches the person who answers once published;
    a notice is added, edited and removed. Bad input tried, each refused next to its setting with nothing
    saved: a subject on two lines, a message too long, a mail to a text question, a template that is no plain
    name and one that does not exist, and removing the question the receipt goes to."""
    _post(staff_client, "/new", slug="mote", how="blank", title="Möte")
    _post(staff_client, "/mote/fields", type="email")  # fraga_2
    added = _post(staff_client, "/mote/mails", template="kvitto", to="fraga_2", subject="Välkommen till mötet",
                  message="Vi ses den 12 maj i Västerås.\r\n\r\nHör av dig om du får förhinder.")
    assert added.status_code == 303 and added.headers["Location"].endswith("/mote#utskick-1")
    assert _post(staff_client, "/mote/mails", template="notis", to="secretariat").status_code == 303
    assert _post(staff_client, "/mote/mails/2", template="notis", to="secretariat",
                 subject="Ny anmälan till mötet").status_code == 303
    page = staff_client.get(f"{ADMIN}/mote")
    html = page.get_data(as_text=True)
    assert 'value="Ny anmälan till mötet"' in html and "Utskick 2: Notis till sekretariatet" in text_of(page)

    refused = _post(staff_client, "/mote/mails", template="notis", to="secretariat", subject="Rad ett\r\nRad två")
    assert refused.status_code == 422
    assert _error_next_to(refused, "utskick-ny-subject") == "Fel: Ämnesraden måste stå på en rad."
    assert 'value="Rad ett' in refused.get_data(as_text=True)  # kept in the add form to correct
    assert "Utskick 3" not in text_of(refused)
    refused = _post(staff_client, "/mote/mails/1", template="kvitto", to="fraga_2", message="x" * 3001)
    assert refused.status_code == 422
    assert _error_next_to(refused, "utskick-1-message") == "Fel: Texten har 3001 tecken, men får ha högst 3000."
    refused = _post(staff_client, "/mote/mails/1", template="kvitto", to="fraga_1")
    assert refused.status_code == 422 and "fråga av typen E-postadress" in _error_next_to(refused, "utskick-1-to")
    refused = _post(staff_client, "/mote/mails", template="../kvitto", to="secretariat")
    assert refused.status_code == 422 and "enkelt namn" in _error_next_to(refused, "utskick-ny-template")
    refused = _post(staff_client, "/mote/mails", template="finns_inte", to="secretariat")
    assert refused.status_code == 422 and "finns inte" in _error_next_to(refused, "utskick-ny-template")
    assert "Nytt utskick: " in text_of(refused)  # the error summary names where
    refused = _post(staff_client, "/mote/fields/fraga_2/remove")
    assert refused.status_code == 422 and "fråga av typen E-postadress" in _error_next_to(refused, "utskick-1-to")
    draft = _draft_yaml(staff_client, "mote")
    assert "Rad ett" not in draft and "x" * 3001 not in draft and "../kvitto" not in draft and "fraga_2" in draft

    assert _post(staff_client, "/mote/mails/2/remove").status_code == 303
    assert "Utskick 2" not in text_of(staff_client.get(f"{ADMIN}/mote"))
    assert _post(staff_client, "/mote/publish").status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(AuditEvent.actor).filter_by(action="form_publish", target="mote"))
    assert submit(staff_client, "mote", {"fraga_1": "Kim", "fraga_2": "kim@example.org"}).status_code == 303
    flush_mail(app)
    [receipt] = smtp.to("kim@example.org")
    assert receipt["Subject"] == "Välkommen till mötet"
    body = receipt.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert body.startswith("Vi ses den 12 maj i Västerås.\n\nHör av dig om du får förhinder.\n\nHej!")
    assert smtp.to("sekretariat@example.org") == []  # the notice was removed


def test_staff_add_edit_and_remove_a_rule_and_the_form_follows_it(app, staff_client):
    """Regler: a `same` rule (an address written twice) refuses a differing answer with its message next to
    the second question once published; edited to `different`, then removed. Bad input tried, each refused
    next to its setting with nothing saved: the same question twice, a question the form lacks, an empty
    message, a kind of rule there is none of, and removing a question the rule names."""
    _post(staff_client, "/new", slug="anmalan", how="blank", title="Anmälan")
    _post(staff_client, "/anmalan/fields", type="email")  # fraga_2
    _post(staff_client, "/anmalan/fields", type="email")  # fraga_3
    rule = {"kind": "same", "first": "fraga_2", "second": "fraga_3", "message": "Skriv samma adress två gånger."}
    refused = _post(staff_client, "/anmalan/rules", **{**rule, "second": "fraga_2"})
    assert refused.status_code == 422 and "Välj två olika frågor" in _error_next_to(refused, "regel-ny-first")
    assert "Ny regel: " in text_of(refused)
    refused = _post(staff_client, "/anmalan/rules", **{**rule, "second": "finns_inte"})
    assert refused.status_code == 422
    assert "Välj två frågor som finns i formuläret." in _error_next_to(refused, "regel-ny-second")
    assert '<option value="finns_inte" selected>' in refused.get_data(as_text=True)
    refused = _post(staff_client, "/anmalan/rules", **{**rule, "message": "  "})
    assert refused.status_code == 422
    assert "Skriv meddelandet som visas vid den andra frågan" in _error_next_to(refused, "regel-ny-message")
    refused = _post(staff_client, "/anmalan/rules", **{**rule, "kind": "larger"})
    assert refused.status_code == 422 and "Ny regel: Välj vilken sorts regel det är." in text_of(refused)
    assert "rules" not in _draft_yaml(staff_client, "anmalan")
    added = _post(staff_client, "/anmalan/rules", **rule)
    assert added.status_code == 303 and added.headers["Location"].endswith("/anmalan#regel-1")
    refused = _post(staff_client, "/anmalan/fields/fraga_3/remove")
    assert refused.status_code == 422
    assert "Välj två frågor som finns i formuläret." in _error_next_to(refused, "regel-1-first")
    assert _post(staff_client, "/anmalan/publish").status_code == 303

    answer = {"fraga_1": "Kim", "fraga_2": "kim@example.org", "fraga_3": "kim@example.com"}
    refused = submit(staff_client, "anmalan", answer)
    assert refused.status_code == 422 and "Skriv samma adress två gånger." in _error_next_to(refused, "fraga_3")
    assert submit(staff_client, "anmalan", {**answer, "fraga_3": "KIM@example.org"}).status_code == 303

    edited = _post(staff_client, "/anmalan/rules/1", **{**rule, "kind": "different", "message": "Två olika."})
    assert edited.status_code == 303
    assert "different:" in _draft_yaml(staff_client, "anmalan")
    assert _post(staff_client, "/anmalan/rules/1/remove").status_code == 303
    assert "Formuläret har inga regler." in text_of(staff_client.get(f"{ADMIN}/anmalan"))
    assert _post(staff_client, "/anmalan/publish").status_code == 303
    assert "Reglerna ändrades." in text_of(staff_client.get(f"{ADMIN}/anmalan/history"))
    assert submit(staff_client, "anmalan", answer).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).filter_by(
            action="form_publish", target="anmalan")) == 2


def _conditional_draft(client, slug: str) -> None:
    """A draft: fraga_1 text, fraga_2 choice (ja/nej), fraga_3 choice (a/b), fraga_4 long text."""
    _post(client, "/new", slug=slug, how="blank", title="Villkor")
    for kind in ("choice", "choice", "textarea"):
        _post(client, f"/{slug}/fields", type=kind)
    _post(client, f"/{slug}/fields/fraga_2", label="Deltog du?", choices="ja: Ja\nnej: Nej")
    _post(client, f"/{slug}/fields/fraga_3", label="Vilken dag?", choices="a: Måndag\nb: Tisdag")


def test_a_condition_set_in_the_editor_is_shown_as_a_note_to_visitors_without_javascript(app, staff_client):
    _conditional_draft(staff_client, "villkor")
    page = lxml.html.fromstring(staff_client.get(f"{ADMIN}/villkor").get_data(as_text=True))
    offered = page.xpath('//form[contains(@action, "/fields/fraga_4")]//input[@name="show_if_field"]/@value')
    assert offered == ["", "fraga_2", "fraga_3"]  # always, or an earlier question with options (not the text one)
    saved = _post(staff_client, "/villkor/fields/fraga_4", label="Varför inte?", show_if_field="fraga_2",
                  show_if_values=["fraga_2:nej", "fraga_3:a"])  # a tick under the question not picked is not counted
    assert saved.status_code == 303
    page = lxml.html.fromstring(staff_client.get(f"{ADMIN}/villkor").get_data(as_text=True))
    assert page.get_element_by_id("fraga_4-show_if-fraga_2").get("checked") is not None
    assert page.get_element_by_id("fraga_4-show_if-fraga_2-nej").get("checked") is not None
    assert page.get_element_by_id("fraga_4-show_if-fraga_3-a").get("checked") is None

    assert _post(staff_client, "/villkor/publish").status_code == 303
    assert "Besvaras bara om svaret på ”Deltog du?” är ”Nej”." in text_of(staff_client.get("/f/villkor"))

    assert _post(staff_client, "/villkor/fields/fraga_4", label="Varför inte?", show_if_field="").status_code == 303
    assert "Besvaras bara" not in text_of(staff_client.get(f"{ADMIN}/villkor/preview"))  # "always" again


def test_a_bad_condition_is_refused_next_to_it_in_staff_words_and_nothing_is_saved(app, staff_client):
    """Bad input: a condition on a later question, on a value that is not an option, on a question without
    options, with no option ticked; moving or removing the question a condition names, removing the option it
    names. Bad output looked for: YAML names (show_if, values), question keys and line numbers in the message."""
    _conditional_draft(staff_client, "villkor")
    _post(staff_client, "/villkor/fields/fraga_1", label="Ditt namn")
    questions = {"fraga_2": {"label": "Deltog du?", "choices": "ja: Ja\nnej: Nej"}, "fraga_4": {"label": "Varför?"}}
    tried = [
        ("fraga_2", {"show_if_field": "fraga_3", "show_if_values": "fraga_3:a"},
         "Villkoret bygger på frågan ”Vilken dag?”, som kommer efter den här frågan. Flytta den frågan före, "
         "eller välj en annan."),
        ("fraga_4", {"show_if_field": "fraga_1", "show_if_values": "fraga_1:x"},
         "Villkoret bygger på frågan ”Ditt namn”, som inte har några alternativ. Välj en fråga med alternativ."),
        ("fraga_4", {"show_if_field": "fraga_2", "show_if_values": "fraga_2:kanske"},
         "Villkoret bygger på alternativet ”kanske”, som inte finns i frågan ”Deltog du?”."),
        ("fraga_4", {"show_if_field": "fraga_2"},
         "Kryssa i minst ett alternativ som ska visa frågan, eller välj ”Alltid”."),
    ]
    for key, posted, message in tried:
        refused = _post(staff_client, f"/villkor/fields/{key}", **questions[key], **posted)
        assert refused.status_code == 422, posted
        shown = _error_next_to(refused, f"{key}-show_if")
        assert message in shown and not re.search(r"show_if|values|fraga_|\brad\b", shown), shown
        assert f'href="#{key}-show_if"' in refused.get_data(as_text=True)  # the error summary links to it
        summary = text_of(refused)
        assert f"Frågan ”{questions[key]['label']}”: {message}" in summary  # named by its text there too
    assert "show_if" not in staff_client.get(f"{ADMIN}/villkor/draft.yaml").get_data(as_text=True)

    _post(staff_client, "/villkor/fields/fraga_4", label="Varför inte?", show_if_field="fraga_3",
          show_if_values="fraga_3:b")
    refused = _post(staff_client, "/villkor/fields/fraga_3/move", direction="down")
    assert refused.status_code == 422
    assert "frågan ”Vilken dag?”, som kommer efter den här frågan" in _error_next_to(refused, "fraga_4-show_if")
    refused = _post(staff_client, "/villkor/fields/fraga_3/remove")
    assert refused.status_code == 422  # the removed question still named by its text
    assert "frågan ”Vilken dag?”, som inte finns i formuläret" in _error_next_to(refused, "fraga_4-show_if")
    refused = _post(staff_client, "/villkor/fields/fraga_3", label="Vilken dag?", choices="a: Måndag")
    assert refused.status_code == 422  # the removed option named by its text, not its key b
    assert ("alternativet ”Tisdag”, som inte finns i frågan ”Vilken dag?”"
            in _error_next_to(refused, "fraga_4-show_if"))
    draft = staff_client.get(f"{ADMIN}/villkor/draft.yaml").get_data(as_text=True)
    assert "b: Tisdag" in draft and draft.index("key: fraga_3") < draft.index("field: fraga_3")  # all kept


def test_the_field_types_have_swedish_and_english_names_in_the_editor(app, staff_client):
    """Bad output looked for: a raw type name (choice, multichoice) shown to staff, in Swedish or English."""
    _post(staff_client, "/new", slug="typer", how="blank", title="Typer")
    _post(staff_client, "/typer/fields", type="multichoice")
    page = lxml.html.fromstring(staff_client.get(f"{ADMIN}/typer").get_data(as_text=True))
    offered = {option.get("value"): option.text_content() for option in page.xpath('//select[@id="new-type"]/option')}
    assert offered["choice"] == "Ett val (radioknappar)" and offered["multichoice"] == "Flera val (kryssrutor)"
    assert offered["textarea"] == "Lång text" and offered["email"] == "E-postadress"
    assert len(set(offered.values())) == len(offered) and not set(offered) & set(offered.values())
    heading = " ".join(page.get_element_by_id("fraga-fraga_2-rubrik").text_content().split())
    assert heading == "2. Fråga 2 (Flera val (kryssrutor), nyckel fraga_2)"

    english = lxml.html.fromstring(staff_client.get(f"{ADMIN}/typer?lang=en").get_data(as_text=True))
    offered = [option.text_content() for option in english.xpath('//select[@id="new-type"]/option')]
    assert "One choice (radio buttons)" in offered and "Scale (rating)" in offered


# What a visitor may well write where the type's small example would not do.
LONG_ANSWER = ("Vi vill gärna delta, men tiden passar dåligt för oss som arbetar i skolan. "
               "Kan ni erbjuda en kväll i stället?\r\n") * 3
REASONABLE = {"textarea": [LONG_ANSWER], "scale": ["5"]}


def _reasonable_answer(spec: dict) -> list[str]:
    """An answer a visitor may give to a new question: every option picked where many may be, all places
    ranked, the first option otherwise; else a long text, the top of a scale, or the type's good example."""
    kind = FIELD_TYPES[spec["type"]]
    options = list(drafts.options_of(spec))
    if options:
        return options[: spec.get("rank", len(options))] if kind.multiple else options[:1]
    return REASONABLE.get(spec["type"], kind.examples.good)


def test_a_new_question_of_every_type_starts_with_settings_a_visitor_can_answer(app, staff_client):
    """Bad start looked for: a new question carrying the test examples' limits (a long text of at most 20
    characters, at most 2 of 3 options), or settings the loader refuses. A 300-character text, every option
    of a multiple choice and the top of the scale must be taken."""
    _post(staff_client, "/new", slug="nya", how="blank", title="Nya frågor")
    for name in drafts.field_types():
        assert _post(staff_client, "/nya/fields", type=name).status_code == 303, name
    assert len(LONG_ANSWER) > 300
    draft = yaml.safe_load(staff_client.get(f"{ADMIN}/nya/draft.yaml").get_data(as_text=True))
    added = draft["fields"][1:]
    assert [spec["type"] for spec in added] == drafts.field_types()
    assert all(spec["label"] == f"Fråga {n}" for n, spec in enumerate(added, start=2))
    by_type = {spec["type"]: spec for spec in added}
    assert by_type["choice"]["choices"] == {"alternativ_1": "Alternativ 1", "alternativ_2": "Alternativ 2"}
    assert "max" not in by_type["multichoice"]

    preview = staff_client.get(f"{ADMIN}/nya/preview")
    shown = text_of(preview)
    assert "Instämmer inte alls" in shown and "Instämmer helt" in shown  # the scale's ends are named
    answers = [(spec["key"], value) for spec in added for value in _reasonable_answer(spec)]
    token = hidden_values(preview.get_data(as_text=True))
    checked = staff_client.post(f"{ADMIN}/nya/preview", data=MultiDict([*token.items(), *answers]))
    assert checked.status_code == 200, text_of(checked)
    assert "Svaret godtogs" in text_of(checked) and LONG_ANSWER.split("\r\n")[0] in text_of(checked)


def test_options_written_wrongly_are_refused_in_staff_words(app, staff_client):
    """Bad input: an option without a key (only its text, with å), the same key on two lines, a ranking with
    more places than options. Bad output looked for: the YAML names (choices, rank) or a line number, and a
    repeated key silently dropping a line."""
    _post(staff_client, "/new", slug="alternativ", how="blank", title="Alternativ")
    _post(staff_client, "/alternativ/fields", type="choice")
    _post(staff_client, "/alternativ/fields", type="ranking")
    refused = _post(staff_client, "/alternativ/fields/fraga_2", label="Dag", choices="mandag: Måndag\nTisdag")
    assert refused.status_code == 422
    assert _error_next_to(refused, "fraga_2-choices") == (
        "Fel: Alternativet ”Tisdag” behöver en nyckel av små bokstäver a–z, siffror och _ före kolonet, "
        "till exempel ”mandag: Måndag”.")
    written = "mandag: Måndag\ntisdag: Tisdag\nmandag: Onsdag"
    refused = _post(staff_client, "/alternativ/fields/fraga_2", label="Dag", choices=written)
    assert refused.status_code == 422
    assert _error_next_to(refused, "fraga_2-choices") == (
        "Fel: Nyckeln ”mandag” står på flera rader. Ge varje alternativ en egen nyckel.")
    page = lxml.html.fromstring(refused.get_data(as_text=True))
    assert page.get_element_by_id("fraga_2-choices").text_content() == written  # as written, to mend
    refused = _post(staff_client, "/alternativ/fields/fraga_3", label="Rangordna", rank="4",
                    choices="a: A\nb: B\nc: C")
    assert refused.status_code == 422
    ranked = _error_next_to(refused, "fraga_3-rank")
    assert ranked == "Fel: ”Antal alternativ att rangordna” är större än antalet alternativ."
    assert "Alternativ 1" in staff_client.get(f"{ADMIN}/alternativ/draft.yaml").get_data(as_text=True)  # not saved

    english = _post(staff_client, "/alternativ/fields/fraga_3?lang=en", label="Rank", rank="4", choices="a: A")
    assert "“Number of options to rank” is larger than the number of options." in text_of(english)
