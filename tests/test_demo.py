"""`make run`'s demo: data for every feature, added once, and a staff password that stays until asked.

Bad input tried: running the demo a second time (it must neither add a second copy of anything nor change
the password), the old password after --new-password, and a password file left readable by others.
"""

from __future__ import annotations

import stat

import pytest
import sqlalchemy as sa
from helpers import login

from formsvc.cli import main as cli_main
from formsvc.demo import DEMO_STAFF
from formsvc.extensions import db
from formsvc.invitations.models import Invitation, InvitedResponse
from formsvc.live.models import LiveRound, LiveVote
from formsvc.mail import OutboxMessage
from formsvc.models import Organisation, Response
from formsvc.newsletter.models import Subscription
from formsvc.staff.models import StaffUser


@pytest.fixture
def demo_app(make_app, tmp_path):
    return make_app(FORMSVC_DEMO_PASSWORD_FILE=str(tmp_path / "demo-staff-password"))


def run(app, *args: str) -> str:
    result = app.test_cli_runner().invoke(cli_main, args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def counts(app) -> dict[str, int]:
    """Every kind of row the demo makes."""
    with app.app_context():
        found = {
            model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model))
            for model in (Organisation, Response, Invitation, InvitedResponse, Subscription, LiveRound, LiveVote,
                          OutboxMessage, StaffUser)
        }
        db.session.remove()
    return found


def logs_in(app, password: str) -> bool:
    answer = login(app.test_client(), DEMO_STAFF, password)
    return answer.status_code in (302, 303) and "/staff/login" not in answer.headers.get("Location", "")


def test_the_demo_twice_keeps_the_password_and_adds_nothing_twice(demo_app, tmp_path):
    run(demo_app, "demo", "--port", "5099")
    first = counts(demo_app)
    kept = tmp_path / "demo-staff-password"
    password = kept.read_text().strip()
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # readable by its owner only
    assert logs_in(demo_app, password)

    kept.chmod(0o644)  # left readable by someone: the next run does not keep it that way
    again = run(demo_app, "demo")
    assert "nothing new" in again
    assert counts(demo_app) == first
    assert kept.read_text().strip() == password
    assert logs_in(demo_app, password)

    shown = run(demo_app, "demo-staff", "--port", "5099")
    assert password in shown and DEMO_STAFF in shown and "http://127.0.0.1:5099/staff/" in shown
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600

    renewed = run(demo_app, "demo-staff", "--new-password")
    new_password = kept.read_text().strip()
    assert new_password != password and new_password in renewed
    assert logs_in(demo_app, new_password) and not logs_in(demo_app, password)


def test_the_demo_shows_every_feature(demo_app):
    output = run(demo_app, "demo")
    with demo_app.app_context():
        answers = dict(db.session.execute(
            sa.select(Response.form_slug, sa.func.count()).group_by(Response.form_slug)).all())
        assert {slug: answers.get(slug, 0) > 0 for slug in ("anslutning", "nominering", "nyhetsbrev", "prioritering")} \
            == dict.fromkeys(("anslutning", "nominering", "nyhetsbrev", "prioritering"), True)

        # The nomination round: half of the invited answered through their own link, the others reminded.
        invitations = list(db.session.scalars(sa.select(Invitation).filter_by(form_slug="nominering")))
        answered = set(db.session.scalars(
            sa.select(InvitedResponse.invitation_id).join(Response, Response.id == InvitedResponse.response_id)
            .where(Response.is_current, Response.form_slug == "nominering")))
        assert len(invitations) == 10 and len(answered) == 5
        assert all(i.sent_at is not None for i in invitations)
        assert sorted(i.reminder_count for i in invitations if i.id not in answered) == [1] * 5
        assert all(i.reminder_count == 0 for i in invitations if i.id in answered)

        rounds = list(db.session.scalars(sa.select(LiveRound)))
        assert len(rounds) == 1 and not rounds[0].is_open
        assert db.session.scalar(sa.select(sa.func.count(LiveVote.id))) == 8

        statuses = dict(db.session.execute(
            sa.select(Subscription.status, sa.func.count()).group_by(Subscription.status)).all())
        assert statuses.get("confirmed", 0) >= 1 and statuses.get("pending", 0) >= 1
        db.session.remove()
    assert "a closed live round with 8 votes" in output
