"""The durable outbox: every e-mail the portal sends.

A message is a row written in the same transaction as the action it reports, so it exists
exactly when the action happened. Delivery is separate: right after the request that queued
it, and by `flask portal send-mail` (cron) for anything still waiting; a failed attempt is
retried with growing pauses and a message is never dropped: one the mail server refuses for
good (a 5xx reply, an address it cannot take), or that failed PORTAL_MAIL_MAX_ATTEMPTS times, is
parked with its error for staff to see, and one bad message never stops the others. With no
PORTAL_SMTP_URL the messages are written as .eml files under instance/outbox, so a development
portal shows them.
"""
from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import make_msgid, parseaddr
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, g
from flask_babel import force_locale
from jinja2_fragments.flask import render_block
from sqlalchemy import ForeignKey, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, mapped_column

from portal.addresses import UndeliverableAddress, on_the_wire, single_line
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

MAX_PAUSE = timedelta(hours=6)


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # pending until sent (or parked: given up, shown to staff); `next_attempt_at` spaces out retries
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def compose(template: str, *, to: str, language: str, kind: str, customer_id: int | None = None,
            **context) -> OutboxMessage:
    """Queue `templates/mail/<template>.txt` (blocks `subject` and `body`) in `language`.

    Flushes, never commits: the caller's transaction decides whether the message exists.
    """
    with force_locale(language):
        # data in a subject (a company name from the import) must not break the header
        subject = single_line(render_block(f"mail/{template}.txt", "subject", **context), limit=300)
        body = render_block(f"mail/{template}.txt", "body", **context).strip() + "\n"
    domain = current_app.config["MAIL_FROM"].rsplit("@", 1)[-1].rstrip(">")
    message = OutboxMessage(kind=kind, customer_id=customer_id, to_address=to, subject=subject,
                            body=body, message_id=make_msgid(domain=domain))
    db.session.add(message)
    db.session.flush()
    g.setdefault("queued_mail", []).append(message.id)
    return message


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0  # to be tried again
    parked: int = 0  # given up on: shown to staff


# errors no retry can mend: the message cannot be built or the server refuses it for good
_PERMANENT = (UndeliverableAddress, ValueError, UnicodeError, smtplib.SMTPNotSupportedError)


def _permanent(error: Exception) -> bool:
    """A 5xx reply is permanent (RFC 5321 §4.2.1); so is a message that cannot be built."""
    if isinstance(error, _PERMANENT):
        return True
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    return isinstance(error, smtplib.SMTPResponseException) and error.smtp_code >= 500


def pause_after(attempts: int) -> timedelta:
    """How long to wait before the next attempt: 1, 2, 4 … minutes, at most six hours."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_PAUSE)


# how long a sender holds a message it took; if it dies meanwhile, the message is tried again after this
CLAIM = timedelta(minutes=5)


def deliver_due(now: datetime | None = None, limit: int = 200, only: list[int] | None = None) -> DeliveryReport:
    """Try every message whose time has come, each one claimed first and committed after.

    Two senders (the after-request delivery and cron's `send-mail`, on any instance) never send
    one message twice: a sender takes a message by moving its next attempt past the claim window
    in one UPDATE that only succeeds while the message is still due, and only the sender whose
    UPDATE changed the row sends it. A sender that dies after claiming leaves the message due
    again once the claim runs out, so nothing is lost.
    """
    now = now or utcnow()
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.id).limit(limit))
    if only is not None:
        query = query.where(OutboxMessage.id.in_(only))
    due = list(db.session.scalars(query))
    db.session.commit()
    report = DeliveryReport()
    for message_id in due:
        if not _claim(message_id, now):
            continue  # another sender took it
        message = db.session.get(OutboxMessage, message_id)
        try:
            _transport()(message)
        except Exception as error:  # one bad message never stops the others
            _failed(message, error, now, report)
        else:
            message.attempts += 1
            message.status = "sent"
            message.sent_at = utcnow()
            message.last_error = None
            report.sent += 1
        db.session.commit()
    return report


def _failed(message: OutboxMessage, error: Exception, now: datetime, report: DeliveryReport) -> None:
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    if _permanent(error) or message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = "parked"
        report.parked += 1
        current_app.logger.warning("e-mail %s parked after %s attempt(s): %s", message.id, message.attempts,
                                   type(error).__name__)
    else:
        message.next_attempt_at = now + pause_after(message.attempts)
        report.failed += 1


def _claim(message_id: int, now: datetime) -> bool:
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == "pending",
               OutboxMessage.next_attempt_at <= now)
        .values(next_attempt_at=now + CLAIM)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.commit()
    return claimed


def as_email(message: OutboxMessage) -> EmailMessage:
    """The message as sent: addresses in their IDNA form, every header value on one line.

    Raises UndeliverableAddress when the recipient is not an address.
    """
    sender_name, sender = parseaddr(current_app.config["MAIL_FROM"])
    local, _, domain = on_the_wire(sender).rpartition("@")
    email = EmailMessage()
    email["From"] = Address(single_line(sender_name), local, domain)
    email["To"] = on_the_wire(message.to_address)
    email["Subject"] = single_line(message.subject)
    email["Message-ID"] = single_line(message.message_id)
    email["Date"] = message.created_at
    email.set_content(message.body)
    return email


def _transport():
    url = current_app.config["SMTP_URL"]
    return _smtp_sender(url) if url else _write_eml


def _write_eml(message: OutboxMessage) -> None:
    folder = Path(current_app.instance_path) / "outbox"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{message.id:08d}-{message.kind}.eml").write_bytes(bytes(as_email(message)))


def _smtp_sender(url: str):
    """smtp://[user:pass@]host[:port][?starttls=1] or smtps://…"""
    parts = urlsplit(url)
    starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")
    timeout = 15

    def send(message: OutboxMessage) -> None:
        if parts.scheme == "smtps":
            client = smtplib.SMTP_SSL(parts.hostname, parts.port or 465, timeout=timeout,
                                      context=ssl.create_default_context())
        else:
            client = smtplib.SMTP(parts.hostname, parts.port or 25, timeout=timeout)
        with client:
            if starttls:
                client.starttls(context=ssl.create_default_context())
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(as_email(message))

    return send


def init_app(app) -> None:
    @app.after_request
    def deliver_after_response(response):
        queued = g.pop("queued_mail", None)
        if queued:
            real_app = current_app._get_current_object()

            def deliver():
                with real_app.app_context():
                    try:
                        deliver_due(only=queued)
                    except Exception:  # the cron run picks up whatever this missed
                        real_app.logger.exception("mail delivery after request failed")

            # after the response has gone out, so a slow mail server never slows a page
            response.call_on_close(deliver)
        return response
