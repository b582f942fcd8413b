"""The privacy officer's audit-log reader (SPEC P11): filters, keyset pages, a streamed JSON Lines
export, and every reading itself an audit event.

Newest first by `id` (the order of writing; the chain position `seq` may come later, when events
are sealed). Each filter maps to an index ending in `id` (migration 0013_staff_console):
customer → (customer_id, id), actor → (actor_identity_id, id), kind → (kind, id), so a page deep
in millions of events is an index range scan of 51 rows. Days (Europe/Warsaw) become `at` bounds,
and through the (at, id) index also `id` bounds, so a range long ago is a range scan too.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from portal import addresses, audit
from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.customers.models import Customer
from portal.extensions import db
from portal.web.boundaries import int64

PAGE_SIZE = 50
EXPORT_BATCH = 1000
# writers' clocks and ids may disagree by a little (several instances, sealing after commit): the
# id bounds taken from `at` are widened by this much, the exact `at` condition then applies
CLOCK_MARGIN = timedelta(minutes=5)
_KIND = re.compile(r"[a-z0-9_]{1,64}")


@dataclass(frozen=True)
class AuditFilters:
    """What the officer asked for; every value bounded and normalised, invalid ones dropped."""

    customer: str = ""  # a customer number, exactly (upper-cased)
    actor: str = ""  # an e-mail address (exact, any case) or an identity id
    kind: str = ""
    since: date | None = None  # Warsaw days, inclusive
    until: date | None = None

    @classmethod
    def from_args(cls, args) -> AuditFilters:
        def day(name):
            try:
                return date.fromisoformat(args.get(name, "").strip()[:10])
            except ValueError:
                return None

        kind = args.get("kind", "").strip()
        return cls(customer=args.get("customer", "").strip().upper()[:32], actor=args.get("actor", "").strip()[:254],
                   kind=kind if _KIND.fullmatch(kind) else "", since=day("since"), until=day("until"))

    def as_args(self) -> dict[str, str]:
        values = {"customer": self.customer, "actor": self.actor, "kind": self.kind,
                  "since": self.since.isoformat() if self.since else "",
                  "until": self.until.isoformat() if self.until else ""}
        return {name: value for name, value in values.items() if value}


def _instant(day: date, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)


def _conditions(filters: AuditFilters, zone: str) -> list:
    conditions = []
    if filters.customer:
        conditions.append(AuditEvent.customer_id == select(Customer.id).where(
            Customer.number == filters.customer).scalar_subquery())
    if filters.actor:
        if filters.actor.isdigit():
            try:
                conditions.append(AuditEvent.actor_identity_id == int64(filters.actor))
            except ValueError:
                conditions.append(AuditEvent.id.is_(None))
        else:
            spellings = sorted(addresses.lookup_spellings(filters.actor)) or [filters.actor.lower()]
            conditions.append(AuditEvent.actor_identity_id.in_(
                select(Identity.id).where(func.lower(Identity.email).in_(spellings))))
    if filters.kind:
        conditions.append(AuditEvent.kind == filters.kind)
    if filters.since:
        start = _instant(filters.since, zone)
        conditions.append(AuditEvent.at >= start)
        first = (select(AuditEvent.id).where(AuditEvent.at >= start - CLOCK_MARGIN)
                 .order_by(AuditEvent.at, AuditEvent.id).limit(1).scalar_subquery())
        conditions.append(AuditEvent.id >= first)
    if filters.until:
        end = _instant(filters.until + timedelta(days=1), zone)
        conditions.append(AuditEvent.at < end)
        last = (select(AuditEvent.id).where(AuditEvent.at < end + CLOCK_MARGIN)
                .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(1).scalar_subquery())
        conditions.append(AuditEvent.id <= func.coalesce(last, 0))
    return conditions


def filtered(filters: AuditFilters, zone: str) -> Select:
    """Events with the customer's number and the actor's e-mail, newest first (one statement)."""
    actor = aliased(Identity)
    return (select(AuditEvent, Customer.number.label("customer_number"), actor.email.label("actor_email"))
            .outerjoin(Customer, Customer.id == AuditEvent.customer_id)
            .outerjoin(actor, actor.id == AuditEvent.actor_identity_id)
            .where(*_conditions(filters, zone)).order_by(AuditEvent.id.desc()))


@dataclass
class AuditRow:
    event: AuditEvent
    customer_number: str | None
    actor_email: str | None


@dataclass
class AuditPage:
    rows: list[AuditRow]
    next_before: int | None


def page(filters: AuditFilters, zone: str, before: int | None = None, size: int = PAGE_SIZE) -> AuditPage:
    """One page of events older than the event `before` (keyset on id): one statement."""
    query = filtered(filters, zone)
    if before is not None:
        query = query.where(AuditEvent.id < before)
    found = [AuditRow(*row) for row in db.session.execute(query.limit(size + 1))]
    rows = found[:size]
    return AuditPage(rows, rows[-1].event.id if len(found) > size else None)


def export_lines(filters: AuditFilters, zone: str, batch: int = EXPORT_BATCH) -> Iterator[str]:
    """Every matching event as one JSON object per line (JSON Lines), read `batch` rows at a time,
    keyset by keyset, so memory stays flat and no transaction is held open for the whole export."""
    before = None
    while True:
        chunk = page(filters, zone, before, batch)
        for row in chunk.rows:
            yield json.dumps(as_record(row), ensure_ascii=False, separators=(",", ":")) + "\n"
        db.session.rollback()  # end the read between batches
        if chunk.next_before is None:
            return
        before = chunk.next_before


def as_record(row: AuditRow) -> dict:
    event = row.event
    return {"id": event.id, "seq": event.seq, "at": event.at.isoformat(), "kind": event.kind,
            "actor_identity_id": event.actor_identity_id, "actor_email": row.actor_email,
            "customer_number": row.customer_number, "data": event.details, "prev_hash": event.prev_hash,
            "hash": event.hash, "key_id": event.key_id}


def record_reading(officer: Identity, kind: str, filters: AuditFilters, customer_id: int | None) -> None:
    """Reading the audit log is itself audited (SPEC P11): who read which view. A view of one
    customer's events names them, so the customer sees it in their activity log."""
    audit.record(kind, actor_id=officer.id, customer_id=customer_id, filters=filters.as_args())


def filtered_customer_id(filters: AuditFilters) -> int | None:
    if not filters.customer:
        return None
    return db.session.scalar(select(Customer.id).where(Customer.number == filters.customer))
