"""What we hold about you, read for the customer: the data page's overview, exports and the
activity log (GDPR art. 15; SPEC P3, P7). Reads only, except the audit event every export writes."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from portal import audit
from portal.account.models import LegalDisclosure
from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.customers.models import Contract, ContractService, Customer
from portal.extensions import db
from portal.transparency import activity, inventory
from portal.transparency.registry import CUSTOMER_CATEGORIES


@dataclass
class DataOverview:
    customer: Customer
    records: dict[str, dict | None]  # one-record categories
    pages: dict[str, inventory.Page]  # list categories shown on the data page
    disclosure_recipients: list[str]


def data_overview(customer_id: int, cursors: dict[str, object]) -> DataOverview:
    """Everything the data page shows in ONE statement beyond the signed-in context: every list
    category's page, the contract's services and the disclosure recipients (inventory.pages)."""
    customer = db.session.get(Customer, customer_id)
    listed = [c.key for c in CUSTOMER_CATEGORIES if c.many and c.shown_at is None]
    pages, extra = inventory.pages(listed, customer_id, cursors, extra={
        "services": _services_query, "recipients": _disclosure_recipients_query})
    services = sorted(row["service"] for row in extra["services"])
    records = {category.key: inventory.single_record(category, customer, services=services)
               for category in CUSTOMER_CATEGORIES if not category.many}
    recipients = [row["recipient"] for row in sorted(extra["recipients"], key=lambda row: row["first"])]
    return DataOverview(customer, records, pages, recipients)


def _services_query(customer_id):
    return (select(ContractService.service).join(Contract, Contract.id == ContractService.contract_id)
            .where(Contract.customer_id == customer_id))


def _disclosure_recipients_query(customer_id):
    return (select(LegalDisclosure.recipient, func.min(LegalDisclosure.disclosed_on).label("first"))
            .where(LegalDisclosure.customer_id == customer_id).group_by(LegalDisclosure.recipient))


def disclosure_recipients(customer_id: int) -> list[str]:
    """Who received the customer's data under a legal duty; otherwise the recipients are "none outside MCX"."""
    return [row.recipient for row in db.session.execute(
        _disclosure_recipients_query(customer_id).order_by(func.min(LegalDisclosure.disclosed_on)))]


def record_export(customer: Customer, identity: Identity, fmt: str) -> None:
    """Every export is an audit event in the customer's activity log."""
    audit.record("data_exported", actor_id=identity.id, customer_id=customer.id, format=fmt)


@dataclass
class ActivityPage:
    events: list[AuditEvent]
    next_before: int | None  # the event id to continue below, when there are older events
    actors: activity.Actors


def activity_page(customer_id: int, group: str | None, before: int | None,
                  size: int = inventory.PAGE_SIZE) -> ActivityPage:
    """One page of the customer's activity log, newest first (keyset on the event id)."""
    events = activity.customer_events(customer_id, size + 1, before, group)
    more = len(events) > size
    events = events[:size]
    return ActivityPage(events, events[-1].id if more else None,
                        activity.Actors(customer_id, {e.actor_identity_id for e in events}))
