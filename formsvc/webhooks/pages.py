"""Staff pages for webhook endpoints: list (with how the deliveries went), add, edit, disable, delete.

Every /staff/webhooks page needs login, like the rest of /staff. A new secret is shown once, right after
it is made; every change is in the audit log (never the secret).
"""

from __future__ import annotations

import base64
import secrets

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, ValidationError, widgets
from wtforms.fields import SelectChoice

from ..audit import audit
from ..extensions import db
from ..models import utcnow
from ..staff_guard import staff_blueprint
from . import targets
from .events import forget_endpoints
from .models import DELIVERED, EVENTS, FAILED, PENDING, SENDING, WebhookDelivery, WebhookEndpoint

bp = staff_blueprint("webhooks", __name__, "/webhooks")

# What staff see for each event type (translated in the templates).
EVENT_LABELS = {
    "answer.stored": "Ett svar har sparats",
    "answer.replaced": "Ett svar har ersatts av ett nyare från samma organisation",
    "answer.deleted": "Ett svar har raderats",
    "subscriber.confirmed": "En prenumerant på nyhetsbrevet har bekräftat sin adress",
    "subscriber.left": "En prenumerant har lämnat nyhetsbrevet",
    "live_round.closed": "En omröstning har stängts",
}
SHOWN_DELIVERIES = 50
SECRET_SHOWN = "webhook_secret_once"  # session key: (endpoint id, secret), popped by the page that shows it


def new_secret() -> str:
    """A Standard Webhooks secret: "whsec_" and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


class EndpointForm(FlaskForm):
    url = StringField("Adress (URL)")
    description = StringField("Beskrivning")
    events = SelectMultipleField(
        "Händelser",
        choices=[SelectChoice(event, EVENT_LABELS[event]) for event in EVENTS],
        widget=widgets.ListWidget(prefix_label=False),
        option_widget=widgets.CheckboxInput(),
    )
    new_secret = BooleanField("Skapa en ny hemlighet (den gamla slutar gälla direkt)")

    def validate_url(self, field):
        field.data = (field.data or "").strip()
        if not field.data:
            raise ValidationError(gettext("Skriv adressen som händelserna ska skickas till."))
        if len(field.data) > 2000:
            raise ValidationError(gettext("Adressen får vara högst 2000 tecken."))
        try:
            targets.check_resolved(field.data)
        except targets.Refused as refusal:
            raise ValidationError(str(refusal)) from None

    def validate_description(self, field):
        if len(field.data or "") > 200:
            raise ValidationError(gettext("Beskrivningen får vara högst 200 tecken."))

    def validate_events(self, field):
        if not field.data:
            raise ValidationError(gettext("Välj minst en händelse."))


def _endpoint_or_404(endpoint_id: int) -> WebhookEndpoint:
    endpoint = db.session.get(WebhookEndpoint, endpoint_id)
    if endpoint is None:
        abort(404)
    return endpoint


def _summary(endpoint: WebhookEndpoint) -> dict:
    """Deliveries per status and the last attempt's outcome."""
    counts = dict(
        db.session.execute(
            sa.select(WebhookDelivery.status, sa.func.count())
            .where(WebhookDelivery.endpoint_id == endpoint.id)
            .group_by(WebhookDelivery.status)
        ).all()
    )
    last = db.session.scalar(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.attempts > 0)
        .order_by(WebhookDelivery.id.desc())
        .limit(1)
    )
    return {
        "waiting": counts.get(PENDING, 0) + counts.get(SENDING, 0),
        "delivered": counts.get(DELIVERED, 0),
        "failed": counts.get(FAILED, 0),
        "last": last,
    }


@bp.get("/")
def endpoints():
    """The registered endpoints, each with how its deliveries went."""
    rows = db.session.scalars(sa.select(WebhookEndpoint).order_by(WebhookEndpoint.id))
    return render_template("webhooks/endpoints.html", endpoints=[(e, _summary(e)) for e in rows], labels=EVENT_LABELS)


@bp.route("/new", methods=["GET", "POST"])
def add():
    """Register an endpoint; its secret is made here and shown once."""
    form = EndpointForm()
    if form.validate_on_submit():
        secret = new_secret()
        endpoint = WebhookEndpoint(
            url=form.url.data, description=form.description.data or "", events=list(form.events.data),
            secret=secret, created_by=current_user.email,
        )  # fmt: skip
        db.session.add(endpoint)
        db.session.flush()
        audit("webhook_added", target=f"webhook {endpoint.id}", url=endpoint.url, events=endpoint.events)
        db.session.commit()
        forget_endpoints()
        session[SECRET_SHOWN] = (endpoint.id, secret)
        return redirect(url_for(".edit", endpoint_id=endpoint.id), 303)
    status = 422 if form.errors else 200
    return render_template(
        "webhooks/endpoint.html", form=form, endpoint=None, labels=EVENT_LABELS, allowed_hosts=targets.allowed_hosts()
    ), status


@bp.route("/<int:endpoint_id>", methods=["GET", "POST"])
def edit(endpoint_id: int):
    """Change an endpoint (address, events, a new secret); its latest deliveries with their status."""
    endpoint = _endpoint_or_404(endpoint_id)
    form = EndpointForm(obj=endpoint)
    if form.validate_on_submit():
        endpoint.url, endpoint.description = form.url.data, form.description.data or ""
        endpoint.events = list(form.events.data)
        renewed = bool(form.new_secret.data)
        if renewed:
            endpoint.secret = new_secret()
            session[SECRET_SHOWN] = (endpoint.id, endpoint.secret)
        audit("webhook_changed", target=f"webhook {endpoint.id}", url=endpoint.url, events=endpoint.events,
              new_secret=renewed)  # fmt: skip
        db.session.commit()
        forget_endpoints()
        if not renewed:
            flash(gettext("Ändringarna är sparade."))
        return redirect(url_for(".edit", endpoint_id=endpoint.id), 303)
    shown = session.pop(SECRET_SHOWN, None)
    secret = shown[1] if shown and shown[0] == endpoint.id else None
    deliveries = db.session.scalars(
        sa.select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
        .limit(SHOWN_DELIVERIES)
    )
    status = 422 if form.errors else 200
    return render_template(
        "webhooks/endpoint.html", form=form, endpoint=endpoint, secret=secret, labels=EVENT_LABELS,
        deliveries=list(deliveries), summary=_summary(endpoint), shown=SHOWN_DELIVERIES,
        allowed_hosts=targets.allowed_hosts(),
    ), status  # fmt: skip


def _set_enabled(endpoint_id: int, enabled: bool):
    endpoint = _endpoint_or_404(endpoint_id)
    endpoint.enabled = enabled
    audit("webhook_enabled" if enabled else "webhook_disabled", target=f"webhook {endpoint.id}", url=endpoint.url)
    db.session.commit()
    forget_endpoints()
    if enabled:
        flash(gettext("Webbhooken är på igen. Nya händelser skickas."))
    else:
        flash(gettext("Webbhooken är avstängd. Inga händelser skickas till den förrän du sätter på den igen."))
    return redirect(url_for(".edit", endpoint_id=endpoint.id), 303)


@bp.post("/<int:endpoint_id>/disable")
def disable(endpoint_id: int):
    """Stop sending: no new events are queued, and what waits is not sent."""
    return _set_enabled(endpoint_id, False)


@bp.post("/<int:endpoint_id>/enable")
def enable(endpoint_id: int):
    """Start sending again, from the next event."""
    return _set_enabled(endpoint_id, True)


@bp.post("/<int:endpoint_id>/retry")
def retry(endpoint_id: int):
    """Queue the endpoint's failed deliveries again, as if their events had just happened: once its receiver
    works again after more than a day, nothing it missed need be lost."""
    endpoint = _endpoint_or_404(endpoint_id)
    now = utcnow()
    count = db.session.execute(
        sa.update(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.status == FAILED)
        .values(status=PENDING, attempts=0, created_at=now, next_attempt_at=now)
    ).rowcount
    audit("webhook_retried", target=f"webhook {endpoint.id}", url=endpoint.url, deliveries=count)
    db.session.commit()
    flash(gettext("%(count)d misslyckade leveranser skickas igen vid nästa utskick.", count=count))
    return redirect(url_for(".edit", endpoint_id=endpoint.id), 303)


@bp.get("/<int:endpoint_id>/delete")
def confirm_delete(endpoint_id: int):
    """Ask before deleting: the endpoint and its deliveries go."""
    return render_template("webhooks/delete.html", endpoint=_endpoint_or_404(endpoint_id))


@bp.post("/<int:endpoint_id>/delete")
def delete(endpoint_id: int):
    """Delete the endpoint and its queued and past deliveries."""
    endpoint = _endpoint_or_404(endpoint_id)
    audit("webhook_deleted", target=f"webhook {endpoint.id}", url=endpoint.url)
    db.session.delete(endpoint)
    db.session.commit()
    forget_endpoints()
    flash(gettext("Webbhooken är borttagen."))
    return redirect(url_for(".endpoints"), 303)
