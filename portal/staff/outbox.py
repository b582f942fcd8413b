"""Undelivered e-mail: the messages the outbox parked (portal.mail), shown to privacy officers
with the recipient's address masked, as every staff view shows personal data (SPEC P11)."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from portal.extensions import db
from portal.mail import OutboxMessage
from portal.web.i18n import _l
from portal.web.masking import mask_email

PAGE_SIZE = 50
# what each kind of message is, in words (an unknown kind shows its code)
KINDS = {
    "contact_email_confirm": _l("Confirmation of a new contact e-mail"),
    "contact_email_changed": _l("Notice of a changed contact e-mail"),
    "correction_decided": _l("Decision on a correction request"),
    "consents_changed": _l("Confirmation of a consent change"),
    "people_invitation": _l("Invitation of an authorized person"),
    "people_decision": _l("Decision on an access request"),
    "termination_received": _l("Receipt of a termination request"),
    "termination_withdrawn": _l("Withdrawal of a termination"),
    "termination_confirmed": _l("Confirmation of a termination"),
    "termination_completed": _l("Deletion receipt after termination"),
}
# an SMTP reply often repeats the recipient's address
_ADDRESS = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


@dataclass
class ParkedMessage:
    id: int
    kind: str
    customer_number: str | None
    to: str  # masked
    created_at: object
    attempts: int
    error: str  # addresses in it masked


@dataclass
class ParkedPage:
    messages: list[ParkedMessage]
    next_before: int | None


def mask_addresses(text: str | None) -> str:
    """Every e-mail address in `text` masked (`a***@example.pl`)."""
    return _ADDRESS.sub(lambda found: mask_email(found.group(0)), text or "")


def parked(before: int | None = None, size: int = PAGE_SIZE) -> ParkedPage:
    """Parked messages, newest first, a page at a time (keyset on id); two queries a page."""
    from portal.customers.models import Customer

    query = select(OutboxMessage).where(OutboxMessage.status == "parked")
    if before is not None:
        query = query.where(OutboxMessage.id < before)
    rows = list(db.session.scalars(query.order_by(OutboxMessage.id.desc()).limit(size + 1)))
    ids = {m.customer_id for m in rows[:size] if m.customer_id is not None}
    numbers = {customer_id: number for customer_id, number in db.session.execute(
        select(Customer.id, Customer.number).where(Customer.id.in_(ids)))} if ids else {}
    messages = [ParkedMessage(m.id, m.kind, numbers.get(m.customer_id), mask_email(m.to_address), m.created_at,
                              m.attempts, mask_addresses(m.last_error)) for m in rows[:size]]
    return ParkedPage(messages, rows[size - 1].id if len(rows) > size else None)
