"""The staff home: each role's queues with how many wait and since when (SPEC P11).

Counts stop at portal.queues.COUNT_CAP ("1000+"): a queue that long needs attention, not an exact
number, and a bounded count stays cheap however long it grows. Statuses are spelled as the partial
indexes' predicates (portal.queues.status_is), so PostgreSQL can use them.
All of a role's queues are read in one statement.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select

from portal.account.models import CorrectionRequest, CorrectionStatus
from portal.dsar.models import DataSubjectRequest, RequestStatus
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.people.models import AccessRequest, AccessRequestStatus
from portal.queues import COUNT_CAP, status_is
from portal.termination.models import TerminationRequest, TerminationStatus
from portal.web.i18n import _l

CAP = COUNT_CAP


@dataclass(frozen=True)
class Queue:
    key: str
    label: object
    endpoint: str
    role: str
    model: type
    waiting: object  # the condition of a waiting item
    since: object  # the column saying since when it waits


QUEUES = (
    Queue("moderation", _l("Access requests to decide"), "moderation.queue", "moderator", AccessRequest,
          status_is(AccessRequest.status, AccessRequestStatus.PENDING), AccessRequest.created_at),
    Queue("dsar", _l("Data-subject requests"), "dsar_staff.queue", "privacy_officer", DataSubjectRequest,
          status_is(DataSubjectRequest.status, RequestStatus.OPEN), DataSubjectRequest.received_at),
    Queue("terminations", _l("Terminations to confirm"), "termination_staff.queue", "privacy_officer",
          TerminationRequest, status_is(TerminationRequest.status, TerminationStatus.REQUESTED)
          & TerminationRequest.confirmed_at.is_(None), TerminationRequest.requested_at),
    Queue("corrections", _l("Correction requests"), "account_staff.corrections", "privacy_officer",
          CorrectionRequest, status_is(CorrectionRequest.status, CorrectionStatus.PENDING), CorrectionRequest.created_at),
    Queue("undelivered_mail", _l("Undelivered e-mail"), "staff.undelivered_mail", "privacy_officer", OutboxMessage,
          status_is(OutboxMessage.status, "parked"), OutboxMessage.created_at),
)


@dataclass
class QueueCount:
    queue: Queue
    count: int  # at most CAP + 1
    oldest: datetime | None

    @property
    def capped(self) -> bool:
        return self.count > CAP


def _bounded_count(queue: Queue, condition=None):
    rows = select(queue.model.id).where(queue.waiting, *(() if condition is None else (condition,))).limit(CAP + 1)
    return select(func.count()).select_from(rows.subquery()).scalar_subquery()


def counts(roles: set[str], today: date) -> tuple[list[QueueCount], int | None]:
    """The queues of `roles` with their bounded counts and oldest waiting item, and the number of
    overdue data-subject requests (None when the roles do not see them): one statement."""
    mine = [q for q in QUEUES if q.role in roles]
    if not mine:
        return [], None
    columns = []
    for queue in mine:
        columns.append(_bounded_count(queue).label(f"{queue.key}_count"))
        columns.append(select(func.min(queue.since)).where(queue.waiting).scalar_subquery().label(f"{queue.key}_oldest"))
    dsar = next((q for q in mine if q.key == "dsar"), None)
    if dsar:
        columns.append(_bounded_count(dsar, DataSubjectRequest.due_on < today).label("overdue"))
    row = db.session.execute(select(*columns)).one()._mapping
    result = [QueueCount(queue, row[f"{queue.key}_count"], row[f"{queue.key}_oldest"]) for queue in mine]
    return result, (row["overdue"] if dsar else None)
