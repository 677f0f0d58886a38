"""Staff pages of a form's invitations: who is invited and who is missing, mails with preview, history."""

from __future__ import annotations

import hashlib
import hmac

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext, ngettext
from flask_login import current_user

from ..answers import receipt_lines
from ..audit import audit
from ..catalog import catalog
from ..definitions import FormDefinition
from ..extensions import db
from ..links import public_url
from ..models import Organisation, Response
from ..organisations import TYPES
from ..review import accept, pending_answers, reject, source_label
from ..staff_guard import staff_blueprint
from .mails import ALL, INVITE, KINDS, REMIND, UNANSWERED, create_invitations, preview, recipients, revoke, send
from .models import Invitation
from .status import MISSING, STATUSES, standings
from .tokens import new_token

bp = staff_blueprint("staff_invitations", __name__)

# The status filter: one status, or "missing" for every invited organisation without an answer.
FILTERS = {"missing": "Saknar svar", **STATUSES}


def _types() -> list[str]:
    """The type filter of this request (?type=kommun&type=region), unknown types ignored."""
    return [t for t in request.values.getlist("type") if t in TYPES]


def _back(slug: str):
    status = request.form.get("status") or None
    return redirect(url_for("staff_invitations.invitations", slug=slug, type=_types(), status=status), 303)


@bp.get("/invitations/<slug>")
def invitations(slug: str):
    """Every organisation's standing on the form; filter by type and status (status=missing: who is missing)."""
    definition = catalog().get_or_404(slug)
    status = request.args.get("status") or ""
    everyone = standings(slug, _types())
    counts = {key: sum(1 for s in everyone if s.status == key) for key in STATUSES}
    counts["missing"] = sum(counts[key] for key in MISSING)
    shown = [s for s in everyone if not status or s.status == status or (status == "missing" and s.missing)]
    current = {s.organisation.id: s.answered_at for s in everyone}
    return render_template(
        "invitations/staff_list.html",
        definition=definition,
        pending=[(r, current.get(r.organisation_id)) for r in pending_answers(slug)],
        standings=shown,
        counts=counts,
        status=status,
        chosen_types=_types(),
        types=TYPES,
        filters=FILTERS,
        statuses=STATUSES,
    )


@bp.post("/invitations/<slug>/create")
def create(slug: str):
    """Invite the ticked organisations (or every organisation shown, with all=1)."""
    catalog().get_or_404(slug)
    if request.form.get("all"):
        chosen = [s.organisation for s in standings(slug, _types())]
    else:
        ids = [int(i) for i in request.form.getlist("organisation") if i.isdigit()]
        chosen = list(db.session.scalars(sa.select(Organisation).where(Organisation.id.in_(ids)))) if ids else []
    if not chosen:
        flash(gettext("Markera de organisationer som ska bjudas in."))
        return _back(slug)
    made = create_invitations(slug, chosen, by=current_user.email)
    db.session.commit()
    flash(ngettext("%(num)d organisation är inbjuden. Skicka inbjudan nedan.",
                   "%(num)d organisationer är inbjudna. Skicka inbjudan nedan.", len(made)))
    return _back(slug)


@bp.post("/invitations/<slug>/<int:invitation_id>/revoke")
def revoke_invitation(slug: str, invitation_id: int):
    """Stop an invitation's links from working (e.g. a mail went to the wrong person)."""
    invitation = _invitation(slug, invitation_id)
    revoke(invitation)
    audit("invitation_revoke", target=slug, organisation=invitation.organisation.name)
    db.session.commit()
    flash(gettext("Inbjudan till %(name)s är återkallad. Länkarna fungerar inte längre.",
                  name=invitation.organisation.name))
    return _back(slug)


@bp.post("/invitations/<slug>/<int:invitation_id>/link")
def personal_link(slug: str, invitation_id: int):
    """A new personal link to hand over another way (phone, own mail). Shown once: only its hash is kept."""
    invitation = _invitation(slug, invitation_id)
    if invitation.revoked_at is not None:
        abort(404)
    token = new_token(invitation, "manual")
    db.session.commit()
    return render_template(
        "invitations/staff_link.html",
        definition=catalog().get_or_404(slug),
        invitation=invitation,
        link=public_url("invitations.enter", token=token),
    )


def _pending_or_404(slug: str, reference: str) -> Response:
    response = db.session.scalar(sa.select(Response).filter_by(form_slug=slug, reference=reference))
    if response is None or response.organisation_id is None:
        abort(404)
    return response


@bp.post("/invitations/<slug>/answers/<reference>/accept")
def accept_answer(slug: str, reference: str):
    """An open-link answer becomes the organisation's current one; the people it names get their mails."""
    catalog().get_or_404(slug)
    response = _pending_or_404(slug, reference)
    name = response.organisation_name
    if accept(response, current_user.email):
        audit("answer_accepted", target=reference, form=slug, organisation=name)
        db.session.commit()
        flash(gettext("Svaret %(reference)s är godkänt och gäller nu för %(name)s.", reference=reference, name=name))
    else:
        flash(gettext("Svaret %(reference)s väntade inte på granskning. Inget ändrades.", reference=reference))
    return _back(slug)


@bp.post("/invitations/<slug>/answers/<reference>/reject")
def reject_answer(slug: str, reference: str):
    """An open-link answer is rejected: it stays in the history, never current, and no mail goes out."""
    catalog().get_or_404(slug)
    response = _pending_or_404(slug, reference)
    name = response.organisation_name
    if reject(response, current_user.email):
        audit("answer_rejected", target=reference, form=slug, organisation=name)
        db.session.commit()
        flash(gettext("Svaret %(reference)s är avvisat. Det gäller inte för %(name)s.", reference=reference, name=name))
    else:
        flash(gettext("Svaret %(reference)s väntade inte på granskning. Inget ändrades.", reference=reference))
    return _back(slug)


def _invitation(slug: str, invitation_id: int) -> Invitation:
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.form_slug != slug:
        abort(404)
    return invitation


def _mail_targets(slug: str, kind: str) -> list[Invitation]:
    """Who this mail request goes to: one invitation (invitation=<id>) or everyone chosen by kind and scope."""
    scope = request.values.get("recipients", UNANSWERED)
    targets = recipients(slug, kind, scope if scope in (ALL, UNANSWERED) else UNANSWERED, _types())
    one = request.values.get("invitation", "")
    if one.isdigit():
        targets = [i for i in targets if i.id == int(one)]
    return targets


def recipient_digest(kind: str, targets: list[Invitation]) -> str:
    """A fingerprint of who gets a mail: the confirmation carries it, so what is sent is what staff saw."""
    listed = sorted(f"{i.id}:{i.organisation.contact_email or ''}" for i in targets)
    return hashlib.sha256("\n".join([kind, *listed]).encode()).hexdigest()


def _confirmation_page(definition: FormDefinition, kind: str, targets: list[Invitation], changed: bool = False):
    """The mail as the first recipient will get it, who gets it and how many, and the one button that sends."""
    sample = next((i for i in targets if i.organisation.contact_email), None)
    subject, text = preview(definition, kind, sample) if sample else ("", "")
    return render_template(
        "invitations/staff_mail.html",
        definition=definition,
        kind=kind,
        targets=targets,
        addressed=[i for i in targets if i.organisation.contact_email],
        digest=recipient_digest(kind, targets),
        changed=changed,
        sample=sample,
        subject=subject,
        text=text,
        scope=request.values.get("recipients", UNANSWERED),
        chosen_types=_types(),
        invitation=request.values.get("invitation", ""),
        status=request.values.get("status", ""),
        types=TYPES,
    )


@bp.get("/invitations/<slug>/mail")
def mail_preview(slug: str):
    """Ask before sending: the mail, its recipients and their number. Nothing is sent from here."""
    kind = request.args.get("kind", INVITE)
    if kind not in KINDS:
        abort(404)
    return _confirmation_page(catalog().get_or_404(slug), kind, _mail_targets(slug, kind))


@bp.post("/invitations/<slug>/mail")
def send_mail(slug: str):
    """Send invitation or reminder mails (through the outbox), only as confirmed on the confirmation page.

    A POST without the confirmation (a "Påminn" button in the list) shows that page and sends nothing. The
    confirmation carries the recipient list's digest; when the list changed since (someone answered, an
    address was changed), the new list is shown to confirm again, so exactly the listed recipients get mail.
    """
    definition = catalog().get_or_404(slug)
    kind = request.values.get("kind", "")
    if kind not in KINDS:
        abort(400)
    targets = _mail_targets(slug, kind)
    confirmed = request.form.get("confirm", "")
    if not confirmed:
        return _confirmation_page(definition, kind, targets)
    if not hmac.compare_digest(confirmed, recipient_digest(kind, targets)):
        return _confirmation_page(definition, kind, targets, changed=True), 409
    outcome = send(definition, kind, targets)
    db.session.commit()
    sent = len(outcome.sent)
    if kind == REMIND:
        flash(ngettext("%(num)d påminnelse är skickad.", "%(num)d påminnelser är skickade.", sent))
    else:
        flash(ngettext("%(num)d inbjudan är skickad.", "%(num)d inbjudningar är skickade.", sent))
    if outcome.skipped:
        names = ", ".join(i.organisation.name for i in outcome.skipped)
        flash(gettext("Saknar e-postadress i registret, fick inget mejl: %(names)s", names=names))
    return _back(slug)


@bp.get("/invitations/<slug>/organisations/<int:organisation_id>")
def organisation_history(slug: str, organisation_id: int):
    """One organisation and a form: its invitation, and every answer it gave, the current one first."""
    definition = catalog().get_or_404(slug)
    organisation = db.session.get(Organisation, organisation_id) or abort(404)
    invitation = db.session.scalar(sa.select(Invitation).filter_by(form_slug=slug, organisation_id=organisation_id))
    rows = db.session.scalars(
        sa.select(Response)
        .filter(Response.form_slug == slug, Response.organisation_id == organisation_id)
        .order_by(Response.is_current.desc(), Response.submitted_at.desc(), Response.id.desc())
    )
    answers = [(r, source_label(r), receipt_lines(definition, r.answers)) for r in rows]
    return render_template(
        "invitations/staff_history.html",
        definition=definition,
        organisation=organisation,
        invitation=invitation,
        answers=answers,
        types=TYPES,
    )
