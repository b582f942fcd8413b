"""The privacy officers' queue of data-subject requests: open cases by due date, overdue first,
paged by keyset on (due_on, id), which the index `ix_data_subject_requests_status_due_on_id`
serves in constant time however long the queue."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask import abort
from sqlalchemy import and_, or_, select
from sqlalchemy.orm import selectinload

from portal.dsar.models import DataSubjectRequest, RequestStatus
from portal.extensions import db
from portal.web.boundaries import int64

PAGE_SIZE = 20


@dataclass
class QueuePage:
    cases: list[DataSubjectRequest]
    next_after: str | None  # "YYYY-MM-DD_ID" of the last case, when more follow


def decode_after(value: str | None) -> tuple[date, int] | None:
    """`2026-12-30_42` → (date, id); None for no cursor; abort(400) for anything else."""
    if not value:
        return None
    day, _, ident = value.partition("_")
    try:
        return date.fromisoformat(day), int64(ident)
    except ValueError:
        abort(400)


def open_cases(after: str | None = None, size: int = PAGE_SIZE, show: str = "open") -> QueuePage:
    """A page of open cases, the earliest due first (2 queries: cases, their customers).

    `show="closed"` lists closed cases instead, the most recently due first.
    """
    closed = show == "closed"
    status = DataSubjectRequest.status.in_((RequestStatus.DONE, RequestStatus.REFUSED)) if closed \
        else DataSubjectRequest.status == RequestStatus.OPEN
    query = select(DataSubjectRequest).where(status).options(selectinload(DataSubjectRequest.customer))
    cursor = decode_after(after)
    if cursor:
        due, ident = cursor
        if closed:
            query = query.where(or_(DataSubjectRequest.due_on < due,
                                    and_(DataSubjectRequest.due_on == due, DataSubjectRequest.id < ident)))
        else:
            query = query.where(or_(DataSubjectRequest.due_on > due,
                                    and_(DataSubjectRequest.due_on == due, DataSubjectRequest.id > ident)))
    order = (DataSubjectRequest.due_on.desc(), DataSubjectRequest.id.desc()) if closed \
        else (DataSubjectRequest.due_on, DataSubjectRequest.id)
    rows = list(db.session.scalars(query.order_by(*order).limit(size + 1)))
    page = rows[:size]
    more = len(rows) > size
    return QueuePage(page, f"{page[-1].due_on.isoformat()}_{page[-1].id}" if more and page else None)


def due_within(today: date, days: int, limit: int = 200) -> list[DataSubjectRequest]:
    """Open cases due on or before `today + days` (overdue included), earliest first."""
    return list(db.session.scalars(
        select(DataSubjectRequest).where(DataSubjectRequest.status == RequestStatus.OPEN,
                                         DataSubjectRequest.due_on <= today + timedelta(days=days))
        .options(selectinload(DataSubjectRequest.customer))
        .order_by(DataSubjectRequest.due_on, DataSubjectRequest.id).limit(limit)))
