"""Mass mail (invitations, reminders) is never sent by a single click: the first POST shows who will get it
and how many, and only the confirming POST, carrying the digest of that list, puts mails in the outbox.

Bad input tried: the list page's one-click "Påminn" POST, a per-organisation reminder POST, a confirmation
whose list changed in between (an organisation answered), and a made-up digest.
"""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from helpers import csrf_token, flush_mail, text_of
from test_invitations import PUBLIC, add_organisations, answer_via_link, nomination, tokens_by_recipient

from formsvc.extensions import db
from formsvc.invitations.models import Invitation
from formsvc.mail import OutboxMessage
from formsvc.models import Organisation

PATH = "/staff/invitations/nominering/mail"


@pytest.fixture
def app(make_app):
    return make_app(FORMSVC_PUBLIC_URL=PUBLIC)


def outbox(app, kind: str | None = None) -> list[str]:
    """The outbox's recipients, sorted."""
    with app.app_context():
        query = sa.select(OutboxMessage.recipient)
        if kind:
            query = query.where(OutboxMessage.template == kind)
        return sorted(db.session.scalars(query))


def digest_on(page) -> str:
    found = re.search(r'name="confirm" value="([0-9a-f]+)"', page.get_data(as_text=True))
    assert found, "no confirmation button"
    return found.group(1)


@pytest.fixture
def invited(app, staff_client):
    """Four organisations invited (not mailed yet); the fourth has no e-mail address in the register."""
    add_organisations(app, 3)
    with app.app_context():
        db.session.add(Organisation(name="Utan adress", name_key="utan adress", type="kommun"))
        db.session.commit()
    token = csrf_token(staff_client)
    assert staff_client.post("/staff/invitations/nominering/create",
                             data={"csrf_token": token, "all": "1"}).status_code == 303
    return token


def test_the_first_post_lists_the_recipients_and_sends_nothing(app, staff_client, invited):
    data = {"csrf_token": invited, "kind": "inbjudan", "recipients": "all"}
    shown = staff_client.post(PATH, data=data)
    assert shown.status_code == 200
    assert outbox(app) == []
    text = text_of(shown)
    assert "Mottagare (3)" in text and "Skicka till 3 mottagare" in text
    for n in (1, 2, 3):
        assert f"Organisation 0{n}: kontakt0{n}@example.org" in text
    assert "Utan adress: saknar e-postadress, får inget mejl" in text

    sent = staff_client.post(PATH, data={**data, "confirm": digest_on(shown)})
    assert sent.status_code == 303
    assert outbox(app) == [f"kontakt0{n}@example.org" for n in (1, 2, 3)]  # exactly the listed ones


def test_the_reminder_buttons_on_the_list_only_ask(app, staff_client, invited, smtp):
    """"Påminn alla som saknar svar" and one organisation's "Påminn" show the confirmation page."""
    everyone = staff_client.post(PATH, data={"csrf_token": invited, "kind": "paminnelse"})
    with app.app_context():
        one = db.session.scalar(
            sa.select(Invitation.id).join(Organisation).filter(Organisation.name == "Organisation 02")
        )
    only_one = staff_client.post(PATH, data={"csrf_token": invited, "kind": "paminnelse", "invitation": str(one)})
    assert everyone.status_code == only_one.status_code == 200
    assert outbox(app) == []
    assert "Skicka till 1 mottagare" in text_of(only_one) and "Organisation 01" not in text_of(only_one)
    sent = staff_client.post(PATH, data={"csrf_token": invited, "kind": "paminnelse", "invitation": str(one),
                                         "confirm": digest_on(only_one)})
    assert sent.status_code == 303
    assert outbox(app) == ["kontakt02@example.org"]


def test_a_list_that_changed_after_it_was_shown_is_shown_again_and_nothing_is_sent(app, smtp, staff_client, invited):
    data = {"csrf_token": invited, "kind": "inbjudan", "recipients": "all"}
    staff_client.post(PATH, data={**data, "confirm": digest_on(staff_client.post(PATH, data=data))})
    flush_mail(app)
    tokens = tokens_by_recipient(smtp.messages)
    reminder = {"csrf_token": invited, "kind": "paminnelse"}
    shown = staff_client.post(PATH, data=reminder)
    assert "Skicka till 3 mottagare" in text_of(shown)
    # Organisation 01 answers while staff read the list: the confirmed list is no longer who would get it.
    assert answer_via_link(app, tokens["kontakt01@example.org"], nomination(1)).status_code == 303
    before = outbox(app, "paminnelse")
    again = staff_client.post(PATH, data={**reminder, "confirm": digest_on(shown)})
    assert again.status_code == 409
    assert outbox(app, "paminnelse") == before == []
    text = text_of(again)
    assert "Mottagarna har ändrats" in text and "Skicka till 2 mottagare" in text and "Organisation 01" not in text

    forged = staff_client.post(PATH, data={**reminder, "confirm": "0" * 64})
    assert forged.status_code == 409 and outbox(app, "paminnelse") == []

    sent = staff_client.post(PATH, data={**reminder, "confirm": digest_on(again)})
    assert sent.status_code == 303
    assert outbox(app, "paminnelse") == ["kontakt02@example.org", "kontakt03@example.org"]
