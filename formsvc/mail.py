"""The outbox: mail is written in the caller's transaction and sent afterwards, with retries.

A mail server that is down delays mail and loses none. Senders on several hosts can run at once:
each claims a small batch first (row locks with SKIP LOCKED on PostgreSQL; SQLite has one writer), renews
its claim before each send and sends only what is still its own, so no mail goes out twice. One mail that
cannot be sent is marked failed with its reason and stops nothing else. Mails to one address are capped per
hour: one over the cap is held for staff (/staff/outbox), not sent.
"""

from __future__ import annotations

import contextlib
import logging
import re
import smtplib
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from email.utils import make_msgid
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_mail import Connection, Message
from markupsafe import Markup, escape
from sqlalchemy.orm import Mapped, mapped_column

from .config import PACKAGE_DIR
from .definitions.schema import MAIL_IMAGES
from .dispatch import dispatch_answers
from .extensions import db, mail
from .links import NoPublicURL, public_url
from .models import UTCDateTime, utcnow
from .senders import run_command, run_in_background

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED, HELD = "pending", "sending", "sent", "failed", "held"
# A claim not renewed for this long belongs to a sender that died; the message is tried again. A sender
# renews its claims before each send, so this must only exceed what one message may take (a few
# FORMSVC_SMTP_TIMEOUTs).
CLAIM_TIMEOUT = timedelta(minutes=10)
CLAIM_BATCH = 10  # messages one sender holds at a time: the others are free for another sender


class OutboxMessage(db.Model):
    __tablename__ = "outbox"
    __table_args__ = (sa.Index("ix_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    message_id: Mapped[str] = mapped_column(sa.String(200))  # the same on every attempt
    template: Mapped[str] = mapped_column(sa.String(64))
    recipient: Mapped[str] = mapped_column(sa.String(254), index=True)
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    headers: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    images: Mapped[list] = mapped_column(sa.JSON, default=list)
    status: Mapped[str] = mapped_column(sa.String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(32))  # the sender run holding the claim
    # The addresses the service wrote into the mail (confirm, unsubscribe, form links): the HTML part makes
    # these, and nothing a person typed, into links.
    links: Mapped[list | None] = mapped_column(sa.JSON)
    cap_exempt: Mapped[bool] = mapped_column(default=False, server_default=sa.false())  # released by staff
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)


# The hourly cap and `erase` look addresses up in any case.
sa.Index("ix_outbox_recipient_lower", sa.func.lower(OutboxMessage.recipient))

# Mail rows written beside an answer, in its transaction: built once (see answers.store_answer).
INSERT_OUTBOX = sa.insert(OutboxMessage.__table__)


def render_mail(template: str, **context) -> tuple[str, str]:
    """Subject and plain text of templates/mail/<template>.txt (blocks subject and body), with the shared
    footer (mail/_footer.txt: the secretariat's contact details and the personal data page) below it.

    Only from what is passed: a mail is for its recipient, so nothing of the request that sends it (the
    visitor's session, the signed-in staff member) goes in. Mails are Swedish whatever language the page
    that caused them was in, so dates in them are too."""
    with force_locale("sv"):
        return _render_mail(template, context)


def _render_mail(template: str, context: dict) -> tuple[str, str]:
    jinja_template = current_app.jinja_env.get_template(f"mail/{template}.txt")
    jinja_context = jinja_template.new_context(context)
    subject = " ".join("".join(jinja_template.blocks["subject"](jinja_context)).split())
    body = "".join(jinja_template.blocks["body"](jinja_context)).strip()
    footer = current_app.jinja_env.get_template("mail/_footer.txt").render().strip()
    return subject, f"{body}\n\n{footer}\n"


def html_body(subject: str, text: str, images=(), links=()) -> str:
    """The HTML part: the plain text in the mail layout, the service's own `links` clickable. Made when the
    mail is sent, so the outbox keeps (and `erase` searches) one copy of the text."""
    layout = current_app.jinja_env.get_template("mail/layout.html")
    return layout.render(subject=subject, paragraphs=_paragraphs(text, links), images=images)


URL = re.compile(r"https?://[^\s<>\"]+")
TRAILING = ".,;:!?)]}'"  # punctuation after a link in a sentence, not part of it
ANSWER_INDENT = "  "  # how mail/_answers.txt sets an answer below its question


def service_links(context: dict) -> list[str]:
    """The links the code that composes a mail passes to its template (link, confirm_url, unsubscribe_url
    ...): whole values that are addresses; and those in the intro staff wrote in the form definition (an
    invitation quotes it). What a person typed reaches a template inside answers, lines or objects, never
    as such a value, so it is never among them. A link written literally in a template is not either:
    pass it as a value."""
    passed = [value for value in context.values() if isinstance(value, str) and URL.fullmatch(value)]
    intro = getattr(context.get("definition"), "intro", None) or ""
    footer = [link for link in (mail_link("public.privacy"),) if link]  # the shared footer's (mail/_footer.txt)
    return passed + [url.rstrip(TRAILING) for url in URL.findall(intro)] + footer


def _paragraphs(text: str, links=()) -> list[Markup]:
    """The text body as HTML paragraphs, everything escaped; the service's own links made clickable. An
    address a person typed into a form stays text: the service must not become a way to send strangers
    clickable links under the secretariat's name."""
    links = set(links)

    def linked(line: str) -> Markup:
        out, last = Markup(""), 0
        for match in URL.finditer(line):
            url = match.group(0).rstrip(TRAILING)
            if url not in links:
                continue
            out += escape(line[last : match.start()]) + Markup('<a href="{0}">{0}</a>').format(url)
            last = match.start() + len(url)
        return out + escape(line[last:])

    def lines(block: str) -> Markup:
        rows = block.split("\n")
        # Questions, each with its answer indented below (mail/_answers.txt): the questions in bold.
        answers = any(row.startswith(ANSWER_INDENT) for row in rows)
        return Markup("<br>").join(
            Markup("<strong>{}</strong>").format(linked(row)) if answers and not row.startswith(ANSWER_INDENT)
            else linked(row.removeprefix(ANSWER_INDENT))
            for row in rows
        )  # fmt: skip

    blocks = [block.strip("\n") for block in text.split("\n\n")]
    return [lines(block) for block in blocks if block]


def compose(
    recipient: str, template: str, headers: dict | None = None, images=(), subject: str = "", message: str = "",
    **context,
) -> dict:
    """Render a mail into the values of an outbox row (not stored yet). `subject` and `message` are staff's
    texts from the form definition: the subject instead of the template's, the message above its body (its
    addresses stay text in the HTML version: it is not among the service's links)."""
    template_subject, text = render_mail(template, recipient=recipient, images=list(images), **context)
    if message:
        text = f"{message}\n\n{text}"
    return {
        "message_id": make_msgid(domain=_sender_domain()),
        "template": template,
        "recipient": recipient,
        "subject": subject or template_subject,
        "body_text": text,
        "headers": headers or {},
        "images": list(images),
        "links": service_links(context),
    }


def enqueue(recipient: str, template: str, headers: dict | None = None, images=(), **context) -> OutboxMessage:
    """Render a mail and add it to the session: it is committed, or not, with the caller's work."""
    message = OutboxMessage(**compose(recipient, template, headers, images, **context))
    db.session.add(message)
    return message


def _sender_domain() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"] or "formsvc@localhost"
    return sender.rsplit("@", 1)[-1].strip(">") or "localhost"


def send_outbox(limit: int = 500) -> tuple[int, int]:
    """Send what is due, over one connection to the mail server. Returns (sent, failed attempts).

    Claims small batches under a name of its own and, before each send, renews its claims and checks
    that the message is still its own: another sender may have taken over a claim that went stale.
    When the server cannot be reached the rest of the batch is left for the next run untried: one
    attempt tells that it is down, and each further one could wait the whole SMTP timeout."""
    sender = uuid.uuid4().hex
    sent = failed = claimed = 0
    delivery = Delivery()
    try:
        while claimed < limit and delivery.reached:
            # First the registrar copies of answers that came in since (dispatch.py): a long round (PDFs take
            # time) must not leave them unqueued.
            dispatch_answers()
            batch = _claim(sender, min(CLAIM_BATCH, limit - claimed))
            db.session.commit()  # the claim is seen by other senders before this one sends
            if not batch:
                break
            claimed += len(batch)
            for message_id in batch:
                if not delivery.reached:
                    break  # the rest of the batch is released below, untried
                outcome = _send_one(delivery, sender, message_id)
                sent += outcome == SENT
                failed += outcome in (PENDING, FAILED)
    finally:
        delivery.close()
        db.session.rollback()  # whatever an error left half done
        with contextlib.suppress(sa.exc.SQLAlchemyError):  # else the claims go stale and are taken again
            _release(sender)
            db.session.commit()
    return sent, failed


def _send_one(delivery: Delivery, sender: str, message_id: int) -> str | None:
    """Send one claimed message, or hold it, or note why it failed, and commit; its new status (None: it
    is no longer this sender's). No transaction is open while the mail server works: on SQLite it would
    hold the write lock, and every answer would wait for the mail server."""
    message = _still_ours(sender, message_id)
    if message is None:
        db.session.commit()
        return None
    held = _over_cap(message)
    if held:
        message.status, message.last_error, message.claimed_at, message.claimed_by = HELD, held, None, None
        log.warning("mail %s to %s held: %s", message.id, message.recipient, held)
        db.session.commit()
        return HELD
    try:
        mail = _message(message)
    except Exception as error:  # a message that cannot be built never will be: it fails, the others go on
        _note_failure(message, error, permanent=True)
        message.claimed_at = message.claimed_by = None
        db.session.commit()
        return message.status
    outbox_id = message.id
    maker = current_app.extensions.get("formsvc_mail_attachments", {}).get(message.template)
    db.session.commit()  # the renewed claim is seen by other senders; nothing is held during the send
    if maker is not None:
        try:
            build = maker(outbox_id)
            # The maker reads in a short transaction, ended before the files are built: on SQLite an open
            # transaction holds the write lock every answer waits for.
            db.session.commit()
            _attach(mail, build)
        except Exception as error:  # e.g. a PDF that could not be made: tried again later, never lost
            db.session.rollback()
            _note_failure(message, error)
            message.claimed_at = message.claimed_by = None
            db.session.commit()
            return message.status
    try:
        delivery.send(mail, outbox_id)
    except Exception as error:  # any error at all: this message fails, the others go on
        _note_failure(message, error, permanent=delivery.reached and _permanent(error))
    else:
        message.status, message.sent_at, message.last_error = SENT, utcnow(), None
    message.claimed_at = message.claimed_by = None
    db.session.commit()
    return message.status


# A file attached when the mail is sent: (file name, content type, data).
Attachment = tuple[str, str, bytes]
# maker(outbox_id) reads what it needs from the database and returns a function that builds the files.
AttachmentMaker = Callable[[int], Callable[[], list[Attachment]]]


def attach_when_sent(app: Flask, template: str, maker: AttachmentMaker) -> None:
    """Mails of `template` get files made by `maker` when they are sent, not when they are queued.

    A file that takes time to make (a PDF) is then made by the sender after the answer is stored, and a
    failure to make it is noted on the mail (last_error) and tried again with back-off like a send that
    failed; when the attempts run out the mail is failed and shown to staff (/staff/outbox)."""
    app.extensions.setdefault("formsvc_mail_attachments", {})[template] = maker


def _attach(mail: Message, build: Callable[[], list[Attachment]]) -> None:
    """Attach the files the mail's feature makes."""
    for name, content_type, data in build():
        mail.attach(name, content_type, data)


def _over_cap(message: OutboxMessage) -> str | None:
    """Why the message must wait for staff, if the address has had the hour's share of mail already.

    Text a person types can make the service mail any address (a receipt goes where the form says):
    the cap keeps that from becoming a way to flood someone. The secretariat's own address is not capped;
    a message staff released is not either."""
    cap = current_app.config["FORMSVC_MAIL_PER_ADDRESS_HOUR"]
    recipient = message.recipient.lower()
    ours = (current_app.config.get("FORMSVC_SECRETARIAT_EMAIL") or "").lower()
    if not cap or message.cap_exempt or recipient == ours:
        return None
    count = db.session.scalar(
        sa.select(sa.func.count(OutboxMessage.id)).where(
            sa.func.lower(OutboxMessage.recipient) == recipient,
            OutboxMessage.status == SENT,
            OutboxMessage.sent_at > utcnow() - timedelta(hours=1),
        )
    )
    if count < cap:
        return None
    return f"{count} mails sent to this address in the last hour (FORMSVC_MAIL_PER_ADDRESS_HOUR = {cap})"


def _permanent(error: Exception) -> bool:
    """True when trying again cannot help: the server refused for good (5xx), or the message could not be
    built or sent at all (an address the server does not take, a bug). Connection trouble is temporary."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return not isinstance(error, (smtplib.SMTPException, OSError))


def _note_failure(message: OutboxMessage, error: Exception, permanent: bool = False) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:1000]
    give_up = permanent or message.attempts >= current_app.config["FORMSVC_MAIL_MAX_ATTEMPTS"]
    message.status = FAILED if give_up else PENDING
    # 1, 2, 4, ... minutes, at most an hour apart.
    message.next_attempt_at = utcnow() + timedelta(minutes=min(2 ** (message.attempts - 1), 60))
    log.warning("mail %s to %s not sent: %s", message.id, message.recipient, message.last_error)


def _release(sender: str) -> None:
    """Give back what this sender still holds, untried: due again at once, no attempt counted."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.claimed_by == sender, OutboxMessage.status == SENDING)
        .values(status=PENDING, claimed_at=None, claimed_by=None)
    )


def _claim(sender: str, limit: int) -> list[int]:
    """Mark due messages as being sent by `sender`; the sender's loop commits at once, in a short transaction
    of its own, so other senders see the claim."""
    now = utcnow()
    stale = sa.or_(OutboxMessage.claimed_at < now - CLAIM_TIMEOUT, OutboxMessage.claimed_at.is_(None))
    due = (
        sa.select(OutboxMessage.id)
        .where(
            sa.or_(
                sa.and_(OutboxMessage.status == PENDING, OutboxMessage.next_attempt_at <= now),
                sa.and_(OutboxMessage.status == SENDING, stale),
            )
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(status=SENDING, claimed_at=now, claimed_by=sender)
        )
    return ids


def _still_ours(sender: str, message_id: int) -> OutboxMessage | None:
    """Renew this sender's claims (the whole batch: a slow server must not let them go stale) and return
    the message if it is still claimed by this sender. The caller commits."""
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.claimed_by == sender, OutboxMessage.status == SENDING)
        .values(claimed_at=utcnow())
    )
    return db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.id == message_id, OutboxMessage.claimed_by == sender, OutboxMessage.status == SENDING
        )
    )


class Delivery:
    """Where outbox mail goes: the mail server over one connection, opened when first needed and again
    after a failure; or .eml files when no mail server is configured."""

    def __init__(self):
        self.connection: TimedConnection | None = None
        self.reached = True  # False after a failure to connect: the server is down or unreachable

    def send(self, message: Message, outbox_id: int) -> None:
        if not current_app.config.get("MAIL_SERVER"):
            _write_to_folder(message, outbox_id)
            return
        if self.connection is None:
            connection = TimedConnection(current_app.extensions["mail"])
            try:
                connection.host = connection.configure_host()
            except (smtplib.SMTPException, OSError):
                self.reached = False
                raise
            self.connection = connection
        try:
            self.connection.send(message)
        except Exception:
            self.close()  # the connection may be broken, or halfway through a message: the next gets a new one
            raise

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None and connection.host is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                connection.host.quit()


class UnfoldedHeader(str):
    """A header value written as it stands, on one line. Python's email package folds a long value without
    spaces, such as the List-Unsubscribe <URL>, into RFC 2047 encoded words, which mail programs do not
    decode there: the one-click unsubscribe (RFC 8058) would be lost. The package writes a value that has a
    name and a fold() (as its own header objects do) through that fold()."""

    name: str

    def __new__(cls, name: str, value: str):
        header = super().__new__(cls, value)
        header.name = name
        return header

    def fold(self, *, policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _header(name: str, value: str) -> str:
    # Printable ASCII (no line break to inject a header with) and within RFC 5322's 998 characters a line, as
    # our links are: anything else is left to the package.
    plain = value.isascii() and value.isprintable() and len(name) + len(value) < 990
    return UnfoldedHeader(name, value) if plain else value


def _message(outbox_message: OutboxMessage) -> Message:
    message = Message(
        subject=outbox_message.subject,
        recipients=[outbox_message.recipient],
        body=outbox_message.body_text,
        html=html_body(
            outbox_message.subject, outbox_message.body_text, outbox_message.images, outbox_message.links or ()
        ),
        # Every mail here is machine-sent (RFC 3834): mail programs then send no out-of-office reply to it.
        extra_headers={"Auto-Submitted": "auto-generated"}
        | {name: _header(name, value) for name, value in outbox_message.headers.items()},
    )
    message.msgId = outbox_message.message_id
    for name in outbox_message.images:
        content_type, content_id = MAIL_IMAGES[name]
        data = (PACKAGE_DIR / "static" / name).read_bytes()
        message.attach(name, content_type, data, "inline", headers={"Content-ID": f"<{content_id}>"})
    return message


class TimedConnection(Connection):
    """Flask-Mail's SMTP connection with a socket timeout (Flask-Mail sets none): a server that takes the
    connection and never answers would otherwise hold the sender, and all mail behind it, forever."""

    def configure_host(self) -> smtplib.SMTP:
        smtp_class = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp_class(self.mail.server, self.mail.port, timeout=current_app.config["FORMSVC_SMTP_TIMEOUT"])
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host


def _write_to_folder(message: Message, outbox_id: int) -> None:
    """No mail server configured: keep the mail as an .eml file a person can open."""
    folder = Path(current_app.config["FORMSVC_MAIL_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{utcnow():%Y%m%d-%H%M%S}-{outbox_id}.eml").write_bytes(message.as_bytes())


@click.group("mail", cls=AppGroup)
def mail_cli() -> None:
    """The outbox."""


@mail_cli.command("send")
@click.option("--watch", type=float, default=0, help="Keep running, sending every this many seconds.")
def send_command(watch: float) -> None:
    """Send the mail that is due (retries failed mail with back-off)."""
    run_command(send_outbox, watch, "Sent {done}, failed {failed}.")


def mail_link(endpoint: str, **values) -> str | None:
    """An absolute link for a mail template, or None when there is no public address to build it on
    (a mail rendered by a command without FORMSVC_PUBLIC_URL): the footer then leaves the line out."""
    try:
        return public_url(endpoint, **values)
    except NoPublicURL:
        return None


def init_app(app: Flask) -> None:
    mail.init_app(app)
    app.jinja_env.globals["mail_link"] = mail_link
    app.cli.add_command(mail_cli)
    seconds = app.config["FORMSVC_MAIL_FLUSH_SECONDS"]
    if seconds and not app.testing:
        run_in_background(app, seconds, send_outbox, "mail")
