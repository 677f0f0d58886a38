"""Staff accounts for Administratörs: list, add (with a one-time password shown once), change a role, and give
or take a form to or from a Läsare. Every change is in the audit log (never a password)."""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields import SelectChoice
from wtforms.validators import Email, InputRequired, Length

from ..access.models import ADMIN, LASARE, ROLE_LABELS, ROLES, FormGrant
from ..audit import audit
from ..catalog import catalog
from ..extensions import db
from ..staff_guard import staff_blueprint
from .models import StaffUser

bp = staff_blueprint("access", __name__, "/accounts")

PASSWORD_SHOWN = "staff_password_once"  # session key: (account id, password), popped by the page that shows it


def _role_choices():
    return [SelectChoice(role, lazy_gettext(ROLE_LABELS[role])) for role in ROLES]


class AccountForm(FlaskForm):
    email = EmailField(
        lazy_gettext("E-post"),
        [InputRequired(message=lazy_gettext("Fyll i en e-postadress.")),
         Email(message=lazy_gettext("Skriv e-postadressen som namn@exempel.se.")), Length(max=254)],
    )
    role = SelectField(lazy_gettext("Roll"), choices=_role_choices, default="handlaggare")


class RoleForm(FlaskForm):
    role = SelectField(lazy_gettext("Roll"), choices=_role_choices)


class GiveForm(FlaskForm):
    slug = SelectField(lazy_gettext("Formulär"), choices=lambda: [SelectChoice(d.slug, d.title) for d in catalog()])


def _account_or_404(staff_id: int) -> StaffUser:
    return db.session.get(StaffUser, staff_id) or abort(404)


def _admins() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(StaffUser).filter_by(role=ADMIN))


def _page(form: AccountForm, status: int = 200):
    accounts = db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)).all()
    grants: dict[int, list[str]] = {}
    for grant in db.session.scalars(sa.select(FormGrant).order_by(FormGrant.form_slug)):
        grants.setdefault(grant.staff_user_id, []).append(grant.form_slug)
    shown = session.pop(PASSWORD_SHOWN, None)
    return render_template(
        "staff/accounts.html", form=form, accounts=accounts, grants=grants, labels=ROLE_LABELS,
        role_form=RoleForm(), give_form=GiveForm(), shown=shown, lasare=LASARE,
    ), status  # fmt: skip


@bp.get("/")
def accounts():
    """Every staff account with its role and, for a Läsare, the forms given to them."""
    return _page(AccountForm())


@bp.post("/")
def add_account():
    """Add an account; its one-time password is made here and shown once, to be passed on by hand."""
    form = AccountForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    email = form.email.data.strip().lower()
    if db.session.scalar(sa.select(StaffUser).filter_by(email=email)):
        form.email.errors = [gettext("Det finns redan ett konto med den e-postadressen.")]
        return _page(form, 422)
    password = secrets.token_urlsafe(12)
    user = StaffUser(email=email, role=form.role.data)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("staff_added", target=email, role=user.role)
    db.session.commit()
    session[PASSWORD_SHOWN] = (user.id, email, password)
    return redirect(url_for(".accounts"), 303)


@bp.post("/<int:staff_id>/role")
def change_role(staff_id: int):
    """Change an account's role; it applies at the account's next request. The last Administratör stays one."""
    user = _account_or_404(staff_id)
    form = RoleForm()
    if not form.validate_on_submit():
        abort(400)
    old, new = user.role, form.role.data
    if old == ADMIN and new != ADMIN and _admins() <= 1:
        flash(gettext("Det måste finnas minst en administratör. Gör någon annan till administratör först."))
        return redirect(url_for(".accounts"), 303)
    if old != new:
        user.role = new
        audit("staff_role_changed", target=user.email, old=old, new=new)
        db.session.commit()
        flash(gettext("Rollen för %(email)s är ändrad.", email=user.email))
    return redirect(url_for(".accounts"), 303)


@bp.post("/<int:staff_id>/forms")
def give_form(staff_id: int):
    """Give a form to an account: a Läsare may then read its results and exports."""
    user = _account_or_404(staff_id)
    form = GiveForm()
    if not form.validate_on_submit():
        abort(400)
    if db.session.get(FormGrant, (user.id, form.slug.data)) is None:
        db.session.add(FormGrant(staff_user_id=user.id, form_slug=form.slug.data, given_by=current_user.email))
        audit("staff_form_given", target=user.email, form=form.slug.data)
        db.session.commit()
    return redirect(url_for(".accounts"), 303)


@bp.post("/<int:staff_id>/forms/<slug>/take")
def take_form(staff_id: int, slug: str):
    """Take a form back from an account."""
    user = _account_or_404(staff_id)
    grant = db.session.get(FormGrant, (user.id, slug)) or abort(404)
    db.session.delete(grant)
    audit("staff_form_taken", target=user.email, form=slug)
    db.session.commit()
    return redirect(url_for(".accounts"), 303)
