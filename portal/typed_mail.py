"""Limits on e-mail to addresses a customer typed, so the portal is never a mail cannon.

A customer types an address when they change their contact e-mail (a confirmation link goes
there at once) and when they add an authorized person (an invitation goes there once a moderator
approves). Both are counted over the last PORTAL_TYPED_MAIL_WINDOW_HOURS: per customer
(PORTAL_TYPED_MAIL_PER_CUSTOMER) and per address, whoever typed it (PORTAL_TYPED_MAIL_PER_ADDRESS).
The counts come from the rows those actions leave (the outbox's confirmation messages, the
delegations added in the portal), so every instance sees the same numbers.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select

from portal import addresses
from portal.db_types import utcnow
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.people.models import Delegate
from portal.web.i18n import ngettext

CONFIRMATION_KIND = "contact_email_confirm"


class TypedMailLimitReached(Exception):
    """Too many e-mails to typed addresses in the window; `message` is for the customer."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _count(query) -> int:
    return db.session.scalar(query) or 0


def check(customer_id: int, address: str, now: datetime | None = None) -> None:
    """Raise TypedMailLimitReached if one more e-mail to `address`, typed by this customer, would
    pass a limit; otherwise return. Call it before queueing (or making possible) such an e-mail."""
    config = current_app.config
    hours = config["TYPED_MAIL_WINDOW_HOURS"]
    since = (now or utcnow()) - timedelta(hours=hours)
    spellings = sorted(addresses.variants(address))
    confirmations = select(func.count(OutboxMessage.id)).where(
        OutboxMessage.kind == CONFIRMATION_KIND, OutboxMessage.created_at >= since)
    added = select(func.count(Delegate.id)).where(Delegate.source == "portal", Delegate.created_at >= since)
    by_customer = (_count(confirmations.where(OutboxMessage.customer_id == customer_id))
                   + _count(added.where(Delegate.customer_id == customer_id)))
    if by_customer >= config["TYPED_MAIL_PER_CUSTOMER"]:
        raise TypedMailLimitReached(ngettext(
            "You have reached the limit on e-mails to addresses you type: %(limit)d in %(num)d hour. "
            "Please try again later.",
            "You have reached the limit on e-mails to addresses you type: %(limit)d in %(num)d hours. "
            "Please try again later.", hours, limit=config["TYPED_MAIL_PER_CUSTOMER"]))
    to_address = (_count(confirmations.where(func.lower(OutboxMessage.to_address).in_(spellings)))
                  + _count(added.where(func.lower(Delegate.email).in_(spellings))))
    if to_address >= config["TYPED_MAIL_PER_ADDRESS"]:
        raise TypedMailLimitReached(ngettext(
            "This address has already received as many messages from us as we allow in %(num)d hour. "
            "Please try again later.",
            "This address has already received as many messages from us as we allow in %(num)d hours. "
            "Please try again later.", hours))
