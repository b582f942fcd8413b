"""Records of data-subject requests: the case, the answers staff write, and the daily digests sent
(GDPR art. 12(3)-(4), 15-21)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.customers.models import Customer
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

MAX_TEXT = 4000  # characters of a request, an answer or a reason


class RequestKind(StrEnum):
    """What the data subject asks for, by the GDPR article that grants it."""

    ACCESS = "access"  # art. 15
    RECTIFICATION = "rectification"  # art. 16
    ERASURE = "erasure"  # art. 17
    RESTRICTION = "restriction"  # art. 18
    OBJECTION = "objection"  # art. 21
    OTHER = "other"


class RequestStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    REFUSED = "refused"  # art. 12(4): with the reasons


class DataSubjectRequest(db.Model):
    """One case: received on `received_at`, due on `due_on` (extended once at most, art. 12(3))."""

    __tablename__ = "data_subject_requests"
    __table_args__ = (
        # the staff queue: open cases by due date (keyset on due_on, id)
        Index("ix_data_subject_requests_status_due_on_id", "status", "due_on", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    filed_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(16), default=RequestStatus.OPEN)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_on: Mapped[date]
    extended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    extended_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    extension_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    closing_reason: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()
    answers: Mapped[list[DsarAnswer]] = relationship(back_populates="request", order_by="DsarAnswer.id")

    @property
    def case_number(self) -> str:
        """`DSR-2026-000042`: the year of receipt (Warsaw) and the id; stable, never reused."""
        return case_number(self.id, self.received_at)

    @property
    def is_open(self) -> bool:
        return self.status == RequestStatus.OPEN


def case_number(request_id: int, received_at: datetime) -> str:
    return f"DSR-{received_at.year}-{request_id:06d}"


class DsarAnswer(db.Model):
    """A text staff wrote to the customer about their case; the customer reads it and gets it by e-mail."""

    __tablename__ = "data_subject_request_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_subject_requests.id"), index=True)
    written_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    text: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    request: Mapped[DataSubjectRequest] = relationship(back_populates="answers")


class DsarDigest(db.Model):
    """The day a digest of cases coming due went out: `run-due` sends at most one a day."""

    __tablename__ = "dsar_digests"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(unique=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cases: Mapped[int]
