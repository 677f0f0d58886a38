"""Staff pages: the subscriber list with counts, exports of confirmed subscribers, removing one."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, abort, redirect, render_template, request, send_file, stream_with_context, url_for

from ..audit import audit
from ..export import csv_table
from ..extensions import db
from ..models import utcnow
from ..staff_guard import staff_blueprint
from ..webhooks import emit
from .export import xlsx_file
from .models import CONFIRMED, PENDING, UNSUBSCRIBED, Subscription
from .subscriptions import status_counts

bp = staff_blueprint("staff_newsletter", __name__)

PER_PAGE = 50
STATUSES = (PENDING, CONFIRMED, UNSUBSCRIBED)
EXPORT_HEADER = ("E-post", "Namn", "Organisation", "Bekräftad", "Anmäld", "Källa (formulär)", "Samtyckets version")
EXPORT_WIDTHS = {0: 30, 1: 20, 2: 30, 3: 17, 4: 17}  # addresses and names are wider than their headers
EXPORT_COLUMNS = (
    Subscription.email,
    Subscription.name,
    Subscription.organisation,
    Subscription.confirmed_at,
    Subscription.signed_up_at,
    Subscription.source_form,
    Subscription.consent_version,
)


@bp.get("/newsletter")
def newsletter_list():
    """Subscribers with their status, newest first; counts per status."""
    status = request.args.get("status")
    query = sa.select(Subscription).order_by(Subscription.signed_up_at.desc(), Subscription.id.desc())
    if status in STATUSES:
        query = query.filter_by(status=status)
    else:
        status = None
    page = db.paginate(query, per_page=PER_PAGE, error_out=False)
    return render_template("newsletter/staff_list.html", page=page, counts=status_counts(), status=status)


def _confirmed_rows():
    """Confirmed subscribers, read in batches when the response is sent (a generator: nothing runs before)."""
    query = (
        sa.select(*EXPORT_COLUMNS)
        .where(Subscription.status == CONFIRMED)
        .order_by(Subscription.confirmed_at, Subscription.id)
        .execution_options(yield_per=1000)
    )
    yield from db.session.execute(query)


def _audit_export(kind: str) -> None:
    count = db.session.scalar(sa.select(sa.func.count(Subscription.id)).filter_by(status=CONFIRMED))
    audit("export", target="newsletter", format=kind, rows=count)


def _filename(kind: str) -> str:
    return f"nyhetsbrev-prenumeranter-{utcnow():%Y-%m-%d}.{kind}"


@bp.get("/newsletter/export.csv")
def newsletter_export_csv():
    """Confirmed subscribers only, as CSV (streamed)."""
    _audit_export("csv")
    db.session.commit()
    chunks = stream_with_context(csv_table(EXPORT_HEADER, _confirmed_rows()))
    return Response(
        chunks,
        mimetype="text/csv",  # Flask adds "; charset=utf-8" to a text type itself
        headers={"Content-Disposition": f'attachment; filename="{_filename("csv")}"'},
    )


@bp.get("/newsletter/export.xlsx")
def newsletter_export_xlsx():
    """Confirmed subscribers only, as an Excel workbook."""
    _audit_export("xlsx")
    db.session.commit()
    return send_file(
        xlsx_file("Prenumeranter", EXPORT_HEADER, _confirmed_rows(), EXPORT_WIDTHS),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        as_attachment=True,
        download_name=_filename("xlsx"),
    )


def _subscription_or_404(subscription_id: int) -> Subscription:
    subscription = db.session.get(Subscription, subscription_id)
    if subscription is None:
        abort(404)
    return subscription


@bp.get("/newsletter/<int:subscription_id>/remove")
def newsletter_remove_page(subscription_id: int):
    """Ask before removing a subscriber."""
    return render_template("newsletter/staff_remove.html", subscription=_subscription_or_404(subscription_id))


@bp.post("/newsletter/<int:subscription_id>/remove")
def newsletter_remove(subscription_id: int):
    """Remove a subscriber and its links; written to the audit log (without the address)."""
    subscription = _subscription_or_404(subscription_id)
    audit("newsletter_remove", target=f"subscription {subscription.id}", status=subscription.status)
    if subscription.status == CONFIRMED:
        emit("subscriber.left", {"subscription": subscription.id, "left_at": utcnow().isoformat()})
    db.session.delete(subscription)
    db.session.commit()
    return redirect(url_for("staff_newsletter.newsletter_list", removed=1), 303)
