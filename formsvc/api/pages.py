"""Staff pages for API keys (Administratörs only, see formsvc/access/policy.py): list, create, revoke.

A new key is shown once, right after it is made; only its hash is kept. Every change is in the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, session, url_for
from flask_babel import gettext, lazy_gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectMultipleField, StringField, widgets
from wtforms.fields import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from ..audit import audit
from ..catalog import catalog
from ..extensions import db
from ..models import utcnow
from ..staff_guard import staff_blueprint
from .models import SCOPES, ApiKey, new_key

bp = staff_blueprint("api_keys", __name__, "/api-keys")

KEY_SHOWN = "api_key_once"  # session key: (key id, plain key), popped by the page that shows it
SCOPE_LABELS = {
    "answers": "Svar", "organisations": "Organisationsregistret", "subscribers": "Prenumeranter på nyhetsbrevet",
}


class Checkboxes(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _default_expiry():
    return (utcnow() + timedelta(days=365)).date()


class KeyForm(FlaskForm):
    name = StringField(lazy_gettext("Namn (vilket system som använder nyckeln)"),
                       [InputRequired(message=lazy_gettext("Fyll i ett namn.")), Length(max=200)])
    forms = Checkboxes(lazy_gettext("Formulär nyckeln får läsa"),
                       choices=lambda: [SelectChoice(d.slug, d.title) for d in catalog()])
    scopes = Checkboxes(lazy_gettext("Vad nyckeln får läsa"),
                        choices=[SelectChoice(s, lazy_gettext(SCOPE_LABELS[s])) for s in SCOPES])
    expires = DateField(lazy_gettext("Gäller till och med"), default=_default_expiry,
                        validators=[InputRequired(message=lazy_gettext("Fyll i ett datum som 2027-12-31."))])

    def validate_scopes(self, field):
        if not field.data:
            raise ValidationError(gettext("Välj minst en sak som nyckeln får läsa."))

    def validate_expires(self, field):
        if field.data and field.data <= utcnow().date():
            raise ValidationError(gettext("Välj ett datum efter i dag."))


def _page(form: KeyForm, status: int = 200):
    keys = db.session.scalars(sa.select(ApiKey).order_by(ApiKey.id.desc())).all()
    shown = session.pop(KEY_SHOWN, None)
    return render_template("staff/api_keys.html", form=form, keys=keys, shown=shown, labels=SCOPE_LABELS,
                           now=utcnow()), status  # fmt: skip


@bp.get("/")
def keys():
    """Every API key: its forms, what it may read, expiry, and whether it is revoked."""
    return _page(KeyForm())


@bp.post("/")
def create():
    """Make a key; it is shown once, on the page this redirects to."""
    form = KeyForm()
    if not form.validate_on_submit():
        return _page(form, 422)
    # The end of the chosen day where the secretariat is, as the page shows it.
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    expires_at = datetime.combine(form.expires.data, time(23, 59, 59), tzinfo=zone).astimezone(UTC)
    key, plain = new_key(form.name.data.strip(), list(form.forms.data), list(form.scopes.data), expires_at,
                         current_user.email)  # fmt: skip
    db.session.flush()
    audit("api_key_created", target=f"api-key {key.id}", name=key.name, forms=key.forms, scopes=key.scopes,
          expires_at=expires_at.isoformat())  # fmt: skip
    db.session.commit()
    session[KEY_SHOWN] = (key.id, plain)
    return redirect(url_for(".keys"), 303)


@bp.post("/<int:key_id>/revoke")
def revoke(key_id: int):
    """Revoke a key: its next request gets 401."""
    key = db.session.get(ApiKey, key_id) or abort(404)
    if key.revoked_at is None:
        key.revoked_at, key.revoked_by = utcnow(), current_user.email
        audit("api_key_revoked", target=f"api-key {key.id}", name=key.name)
        db.session.commit()
        flash(gettext("Nyckeln ”%(name)s” är återkallad.", name=key.name))
    return redirect(url_for(".keys"), 303)
