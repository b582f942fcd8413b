"""The moderators' queue: pending access requests, oldest first, filtered, paged by keyset."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import abort
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import joinedload, selectinload

from portal.customers.models import Customer
from portal.extensions import db
from portal.people.models import AccessRequest, AccessRequestStatus, Delegate
from portal.queues import bounded_count, status_is
from portal.web.boundaries import int64

PAGE_SIZE = 20


@dataclass
class QueueFilters:
    origin: str = ""  # "" | customer | person
    number: str = ""  # a customer number, exactly
    recordings: str = ""  # "" | yes | no

    @classmethod
    def from_args(cls, args) -> QueueFilters:
        origin = args.get("origin", "")
        recordings = args.get("recordings", "")
        return cls(origin=origin if origin in ("customer", "person") else "",
                   number=args.get("number", "").strip()[:32],
                   recordings=recordings if recordings in ("yes", "no") else "")

    def as_args(self) -> dict[str, str]:
        return {name: value for name, value in vars(self).items() if value}


@dataclass
class QueuePage:
    requests: list[AccessRequest]
    total: int  # at most portal.queues.COUNT_CAP + 1: the page says "1000+" beyond the cap
    next_cursor: str | None


CURSOR_FORMAT = "%Y%m%d%H%M%S%f"


def encode_cursor(access_request: AccessRequest) -> str:
    """Where the next page starts: the last row's (created_at, id), exact to the microsecond."""
    return f"{access_request.created_at.astimezone(UTC).strftime(CURSOR_FORMAT)}_{access_request.id}"


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """`<created_at as CURSOR_FORMAT>_<id>` → (created_at, id); abort(400) for anything else,
    an id beyond 64 bits included (the database could not bind it)."""
    stamp, _, ident = cursor.partition("_")
    try:
        return datetime.strptime(stamp, CURSOR_FORMAT).replace(tzinfo=UTC), int64(ident)
    except ValueError:
        abort(400)


def pending_queue(filters: QueueFilters, after: str | None = None, page_size: int | None = None) -> QueuePage:
    """One page of pending requests, oldest first; a constant number of queries per page, each
    reading at most a page (and the count at most COUNT_CAP + 1 rows) of the pending index."""
    page_size = page_size or PAGE_SIZE
    # spelled as ix_access_requests_pending's predicate, so the queue reads only that index
    conditions = [status_is(AccessRequest.status, AccessRequestStatus.PENDING)]
    if filters.origin:
        conditions.append(AccessRequest.origin == filters.origin)
    if filters.number:
        conditions.append(AccessRequest.customer_id.in_(
            select(Customer.id).where(Customer.number.in_({filters.number, filters.number.upper()}))))
    if filters.recordings:
        # a scalar subquery, which PostgreSQL runs per pending request read (a primary-key look-up);
        # IN or EXISTS would be flattened into a join that may read every delegate
        asks_recordings = select(Delegate.recordings).where(Delegate.id == AccessRequest.delegate_id).scalar_subquery()
        conditions.append(asks_recordings.is_(filters.recordings == "yes"))
    total = bounded_count(select(AccessRequest.id).where(*conditions))
    query = select(AccessRequest).where(*conditions)
    if after:
        created_at, ident = decode_cursor(after)
        query = query.where(or_(AccessRequest.created_at > created_at,
                                and_(AccessRequest.created_at == created_at, AccessRequest.id > ident)))
    rows = db.session.scalars(
        query.order_by(AccessRequest.created_at, AccessRequest.id).limit(page_size + 1)
        .options(selectinload(AccessRequest.customer), joinedload(AccessRequest.requester),
                 selectinload(AccessRequest.delegate).selectinload(Delegate.rooms))
    ).all()
    page = list(rows[:page_size])
    more = len(rows) > page_size
    return QueuePage(page, total, encode_cursor(page[-1]) if more and page else None)


def request_or_404(request_id: int) -> AccessRequest:
    """Any access request, for a moderator (the route has checked the role)."""
    return db.session.get(AccessRequest, request_id) or abort(404)
