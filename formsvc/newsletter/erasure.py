"""Erasing a person: remove or anonymise one e-mail address wherever the service may let it go.

Only the whole address: erasing anna@b.se leaves johanna@b.se and anna@b.se.example as they are."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import sqlalchemy as sa

from ..audit import AuditEvent, audit
from ..catalog import catalog
from ..definitions import field_type
from ..extensions import db
from ..mail import OutboxMessage
from ..models import FormVersion, Organisation, Response, utcnow
from ..webhooks import emit
from .models import CONFIRMED, Subscription
from .subscriptions import normal_address

ERASED = "[raderad]"  # what an erased address becomes where the row itself stays


@dataclass
class ErasureReport:
    address: str
    subscriptions: int = 0
    outbox_to: int = 0
    outbox_mentioning: int = 0
    answers: dict[str, int] = field(default_factory=dict)  # form slug -> answers anonymised
    answers_text: dict[str, int] = field(default_factory=dict)  # form slug -> answers whose free text named it
    organisation_contacts: int = 0
    audit_events_kept: int = 0  # the audit log is a record of what staff did and is not changed

    @property
    def touched(self) -> int:
        return (
            self.subscriptions + self.outbox_to + self.outbox_mentioning + sum(self.answers.values())
            + sum(self.answers_text.values()) + self.organisation_contacts
        )

    def lines(self) -> list[str]:
        """What was changed where: a count per place, with the table it is in."""

        def per_form(counts: dict[str, int]) -> str:
            return ", ".join(f"{slug}: {count}" for slug, count in sorted(counts.items())) or "none"

        return [
            f"newsletter subscriptions deleted: {self.subscriptions} (newsletter_subscriptions, with their links "
            f"in newsletter_tokens)",
            f"outbox mails to the address deleted: {self.outbox_to} (outbox)",
            f"outbox mails mentioning the address anonymised: {self.outbox_mentioning} (outbox: subject and text)",
            f"answers whose e-mail fields (and the person's name, phone ...) were anonymised: "
            f"{sum(self.answers.values())} ({per_form(self.answers)}) (responses)",
            f"answers whose free text named the address, now {ERASED}: {sum(self.answers_text.values())} "
            f"({per_form(self.answers_text)}) (responses)",
            f"organisation register contacts cleared: {self.organisation_contacts} (organisations)",
            f"audit events naming the address (kept unchanged): {self.audit_events_kept} (audit_events)",
        ]


def _lower_contains(column, text: str):
    return sa.func.lower(column).contains(text, autoescape=True)


def whole_address(address: str) -> re.Pattern:
    """The address where it stands alone: not the end of a longer one (johanna@b.se for anna@b.se), nor the
    start of one with a longer domain (anna@b.se.example). A full stop after it ends a sentence."""
    before = r"(?<![\w.!#$%&'*+/=?^`{|}~-])"
    after = r"(?![\w-]|\.[\w-])"
    return re.compile(before + re.escape(address) + after, re.IGNORECASE)


def erase_address(address: str) -> ErasureReport:
    """Remove or anonymise the address everywhere; audit it; the caller commits."""
    address = normal_address(address)
    report = ErasureReport(address)
    confirmed = sa.select(Subscription.id).where(
        sa.func.lower(Subscription.email) == address, Subscription.status == CONFIRMED
    )
    for subscription_id in db.session.scalars(confirmed):
        emit("subscriber.left", {"subscription": subscription_id, "left_at": utcnow().isoformat()})
    report.subscriptions = db.session.execute(
        sa.delete(Subscription).where(sa.func.lower(Subscription.email) == address)
    ).rowcount
    report.outbox_to = db.session.execute(
        sa.delete(OutboxMessage).where(sa.func.lower(OutboxMessage.recipient) == address)
    ).rowcount
    report.outbox_mentioning = _anonymise_outbox(address)
    report.answers, report.answers_text = _anonymise_answers(address)
    report.organisation_contacts = db.session.execute(
        sa.update(Organisation).where(sa.func.lower(Organisation.contact_email) == address).values(contact_email=None)
    ).rowcount
    report.audit_events_kept = db.session.scalar(
        sa.select(sa.func.count(AuditEvent.id)).where(
            sa.or_(sa.func.lower(AuditEvent.actor) == address, sa.func.lower(AuditEvent.target) == address)
        )
    )
    # The log says that an erasure happened and what it touched, not whose address it was.
    audit(
        "erase",
        subscriptions=report.subscriptions,
        outbox_to=report.outbox_to,
        outbox_mentioning=report.outbox_mentioning,
        answers=report.answers,
        answers_text=report.answers_text,
        organisation_contacts=report.organisation_contacts,
    )
    return report


def _anonymise_outbox(address: str) -> int:
    """Mails to others that quote the address (e.g. the secretariat's notice of an answer)."""
    pattern = whole_address(address)
    rows = db.session.scalars(
        sa.select(OutboxMessage).where(
            sa.or_(
                _lower_contains(OutboxMessage.subject, address),
                _lower_contains(OutboxMessage.body_text, address),
            )
        )
    )
    count = 0
    for message in rows:  # the database found the text in them; the pattern decides
        subject, body = pattern.sub(ERASED, message.subject), pattern.sub(ERASED, message.body_text)
        if (subject, body) != (message.subject, message.body_text):
            message.subject, message.body_text = subject, body
            count += 1
    return count


def _anonymise_answers(address: str) -> tuple[dict[str, int], dict[str, int]]:
    """Answers holding the address in an e-mail field: the address and the fields about its person
    (`person` in the definition: name, phone ...) are replaced. The definition version the answer was given
    under says which fields those are; the current definition adds `person` fields older versions lacked.
    Anywhere else in an answer (free text: "write to anna@b.se") the address itself is replaced.
    Returns the counts per form of both kinds."""
    pattern = whole_address(address)
    # The JSON text narrows the search in the database; the definitions decide which fields are personal.
    needle = json.dumps(address)[1:-1]
    candidates = db.session.execute(
        sa.select(Response, FormVersion.definition)
        .join(FormVersion, Response.form_version_id == FormVersion.id)
        .where(_lower_contains(sa.cast(Response.answers, sa.Text), needle))
        .execution_options(yield_per=500)
    )
    counts: dict[str, int] = {}
    text_counts: dict[str, int] = {}
    for response, stored in candidates:
        erased = [key for field, person in _email_fields(stored, response.form_slug).items()
                  if _is_address(response.answers.get(field), address) for key in (field, *person)]
        answers = {**response.answers, **{k: ERASED for k in erased if response.answers.get(k)}}
        scrubbed = {k: pattern.sub(ERASED, v) for k, v in answers.items() if isinstance(v, str)}
        if erased:
            counts[response.form_slug] = counts.get(response.form_slug, 0) + 1
        if any(scrubbed[k] != answers[k] for k in scrubbed):
            text_counts[response.form_slug] = text_counts.get(response.form_slug, 0) + 1
        if erased or scrubbed != {k: answers[k] for k in scrubbed}:
            response.answers = {**answers, **scrubbed}
    return counts, text_counts


def _email_fields(stored: dict, slug: str) -> dict[str, set[str]]:
    """Each e-mail field of a stored definition version, with the keys of the fields about its person."""
    current = catalog().get(slug)
    now = {spec.key: spec.person for spec in current.fields if field_type(spec.type).is_address} if current else {}
    return {
        f["key"]: {*(f.get("person") or ()), *now.get(f["key"], ())}
        for f in stored.get("fields", [])
        if field_type(f.get("type")).is_address
    }


def _is_address(value, address: str) -> bool:
    return isinstance(value, str) and normal_address(value) == address
