"""Staff roles as an Administratör manages them: accounts, roles, forms given to a Läsare, the audit log,
the menu each role sees, and `formsvc staff add --role`. Which role may open which page is in
test_authorisation.py's matrix."""

from __future__ import annotations

import re

import sqlalchemy as sa
from helpers import csrf_token, login, submit
from test_authorisation import ANSLUTNING_A, role_account

from formsvc.access.models import FormGrant
from formsvc.audit import AuditEvent
from formsvc.extensions import db
from formsvc.staff.models import StaffUser


def account(app, email: str) -> StaffUser:
    with app.app_context():
        user = db.session.scalar(sa.select(StaffUser).filter_by(email=email))
        db.session.expunge(user)
        return user


def audit_actions(app) -> list[tuple[str, str, dict]]:
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.target, e.detail) for e in events]


def test_an_administrator_adds_a_lasare_gives_a_form_and_the_lasare_reads_only_that(app, staff_client):
    assert submit(app.test_client(), "anslutning", ANSLUTNING_A).status_code == 303
    token = csrf_token(staff_client, "/staff/accounts/")
    added = staff_client.post(
        "/staff/accounts/", data={"csrf_token": token, "email": "Ny@Example.org", "role": "lasare"})
    assert added.status_code == 303
    page = staff_client.get("/staff/accounts/").get_data(as_text=True)
    password = re.search(r"<code>([^<]+)</code>", page).group(1)
    assert "visas bara nu" in page
    assert "<code>" not in staff_client.get("/staff/accounts/").get_data(as_text=True)  # shown once
    user = account(app, "ny@example.org")
    assert user.role == "lasare" and password not in user.password_hash

    staff_client.post(f"/staff/accounts/{user.id}/forms", data={"csrf_token": token, "slug": "anslutning"})
    reader = app.test_client()
    assert login(reader, "ny@example.org", password).status_code == 303
    assert reader.get("/staff/forms/anslutning/results").status_code == 200
    refused = reader.get("/staff/forms/nominering/results")
    assert refused.status_code == 403
    assert "behörighet" in refused.get_data(as_text=True)

    reference = re.search(r'href="/staff/forms/anslutning/responses/([^"/]+)"',
                          reader.get("/staff/forms/anslutning/responses").get_data(as_text=True)).group(1)
    answer_page = reader.get(f"/staff/forms/anslutning/responses/{reference}").get_data(as_text=True)
    assert "/delete" not in answer_page  # no button to what the role may not do
    assert "/delete" in staff_client.get(f"/staff/forms/anslutning/responses/{reference}").get_data(as_text=True)
    staff_client.post(f"/staff/accounts/{user.id}/forms/anslutning/take", data={"csrf_token": token})
    assert reader.get("/staff/forms/anslutning/results").status_code == 403  # at once, same session
    actions = [(a, t) for a, t, _ in audit_actions(app)]
    assert ("staff_added", "ny@example.org") in actions
    assert ("staff_form_given", "ny@example.org") in actions
    assert ("staff_form_taken", "ny@example.org") in actions


def test_a_role_change_applies_at_once_and_is_in_the_audit_log(app, staff_client):
    email, password = role_account(app, "roll@example.org", "handlaggare")
    other = app.test_client()
    assert login(other, email, password).status_code == 303
    assert other.get("/staff/organisations").status_code == 200
    user = account(app, email)
    token = csrf_token(staff_client, "/staff/accounts/")
    assert staff_client.post(f"/staff/accounts/{user.id}/role",
                             data={"csrf_token": token, "role": "lasare"}).status_code == 303
    assert other.get("/staff/organisations").status_code == 403
    assert ("staff_role_changed", email, {"old": "handlaggare", "new": "lasare"}) in audit_actions(app)
    assert "Roll ändrad" in staff_client.get("/staff/audit").get_data(as_text=True)


def test_the_last_administrator_cannot_lose_the_role(app, staff, staff_client):
    """Bad input tried: the only Administratör makes themself a Läsare; refused, nobody is locked out."""
    me = account(app, staff[0])
    token = csrf_token(staff_client, "/staff/accounts/")
    answer = staff_client.post(f"/staff/accounts/{me.id}/role", data={"csrf_token": token, "role": "lasare"})
    assert answer.status_code == 303
    assert account(app, staff[0]).role == "admin"
    assert "minst en administratör" in staff_client.get("/staff/accounts/").get_data(as_text=True)


def test_a_duplicate_or_bad_address_is_refused_next_to_the_field(app, staff, staff_client):
    """Bad input tried: an existing account's address, and text that is not an address."""
    token = csrf_token(staff_client, "/staff/accounts/")
    for email in (staff[0], "inte en adress"):
        answer = staff_client.post("/staff/accounts/", data={"csrf_token": token, "email": email, "role": "admin"})
        assert answer.status_code == 422
        assert 'class="error"' in answer.get_data(as_text=True)


def test_the_menu_shows_each_role_only_what_it_may_open(app, staff_client):
    admin_menu = staff_client.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/accounts/"' in admin_menu and 'href="/staff/retention"' in admin_menu
    reader = app.test_client()
    assert login(reader, *role_account(app, "las@example.org", "lasare", ("anslutning",))).status_code == 303
    menu = reader.get("/staff/").get_data(as_text=True)
    for hidden in ("/staff/accounts/", "/staff/retention", "/staff/organisations", "/staff/webhooks/", "/staff/audit"):
        assert f'href="{hidden}"' not in menu, hidden
    assert 'href="/staff/password"' in menu
    overview = reader.get("/staff/").get_data(as_text=True)  # only the given form, without share links
    assert 'href="/staff/forms/anslutning/results"' in overview
    assert 'href="/staff/forms/nominering/results"' not in overview and "/share" not in overview
    handler = app.test_client()
    assert login(handler, *role_account(app, "hand@example.org", "handlaggare")).status_code == 303
    menu = handler.get("/staff/").get_data(as_text=True)
    assert 'href="/staff/organisations"' in menu and 'href="/staff/accounts/"' not in menu
    assert 'href="/staff/forms/anslutning/share"' in menu and 'href="/staff/forms/nominering/results"' in menu


def test_staff_add_makes_a_handlaggare_unless_told_and_keeps_a_role_when_only_the_password_changes(app, runner):
    made = runner.invoke(args=["staff", "add", "cli@example.org", "--generate"])
    assert made.exit_code == 0, made.output
    assert account(app, "cli@example.org").role == "handlaggare"
    runner.invoke(args=["staff", "add", "cli@example.org", "--generate", "--role", "admin"])
    assert account(app, "cli@example.org").role == "admin"
    runner.invoke(args=["staff", "add", "cli@example.org", "--generate"])
    assert account(app, "cli@example.org").role == "admin"
    wrong = runner.invoke(args=["staff", "add", "cli@example.org", "--generate", "--role", "chef"])
    assert wrong.exit_code != 0  # bad input tried: a role that does not exist
    assert ("staff_role_changed", "cli@example.org", {"old": "handlaggare", "new": "admin"}) in audit_actions(app)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(FormGrant)) == 0


def test_accounts_that_existed_before_roles_become_administrators(app):
    """Migration access_1 on a database with an account: it becomes an Administratör, so nobody is locked
    out; an account made afterwards is a Handläggare."""
    import flask_migrate

    from formsvc.database import MIGRATIONS_DIR

    with app.app_context():
        flask_migrate.downgrade(directory=MIGRATIONS_DIR, revision="webhooks_1")
        db.session.execute(sa.text(
            "INSERT INTO staff_users (email, password_hash, session_token, created_at) "
            "VALUES ('gammal@example.org', 'x', 'y', CURRENT_TIMESTAMP)"))
        db.session.commit()
        flask_migrate.upgrade(directory=MIGRATIONS_DIR, revision="heads")
        db.session.add(StaffUser(email="ny@example.org", password_hash="x", session_token="y"))
        db.session.commit()
        roles = dict(db.session.execute(sa.text("SELECT email, role FROM staff_users")).all())
    assert roles == {"gammal@example.org": "admin", "ny@example.org": "handlaggare"}


def test_a_staff_page_missing_from_the_policy_is_for_administrators_only(make_app, staff):
    """Fails closed: a /staff page someone adds without a line in the policy opens for Administratörs only.
    Bad input tried: a Handläggare and a Läsare given every form open it."""
    app = make_app()  # on the database of the `staff` account
    app.add_url_rule("/staff/ny-sida", "ny_sida", lambda: "ny sida")
    admin = app.test_client()
    assert login(admin, *staff).status_code == 303
    assert admin.get("/staff/ny-sida").status_code == 200
    for email, role in (("h@example.org", "handlaggare"), ("l@example.org", "lasare")):
        other = app.test_client()
        assert login(other, *role_account(app, email, role, ("anslutning", "nominering"))).status_code == 303
        assert other.get("/staff/ny-sida").status_code == 403
    assert app.test_client().get("/staff/ny-sida").status_code == 302  # anonymous: to the login page
