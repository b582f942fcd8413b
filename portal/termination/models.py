"""Contract termination and the receipt for the deletion of every recording (SPEC P9)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class TerminationStatus(StrEnum):
    REQUESTED = "requested"
    WITHDRAWN = "withdrawn"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


OPEN_STATUSES = (TerminationStatus.REQUESTED, TerminationStatus.IN_PROGRESS)
_OPEN = text("status IN ('requested', 'in_progress')")


class TerminationRequest(db.Model):
    """A customer's request to end their contract, carried out on its effective date."""

    __tablename__ = "termination_requests"
    __table_args__ = (
        # at most one open request per customer, even when two submissions race
        Index("uq_termination_requests_open_customer", "customer_id", unique=True,
              sqlite_where=_OPEN, postgresql_where=_OPEN),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default=TerminationStatus.REQUESTED, index=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    effective_on: Mapped[date] = mapped_column(index=True)
    receipt_acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_due_on: Mapped[date]
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # which `run-due` run carries it out, and until when that claim holds without renewal;
    # a run that was killed leaves its claim to expire, then the next run takes over
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    receipt: Mapped[DeletionReceipt | None] = relationship(back_populates="termination", uselist=False)


class DeletionReason(StrEnum):
    TERMINATION = "termination"  # the contract ended (P9)
    ON_REQUEST = "on_request"  # the owner deleted recordings now (GDPR art. 17)
    RETENTION = "retention"  # the room's retention period passed (GDPR art. 5(1)(e))


class DeletionReceipt(db.Model):
    """What one deletion of recordings deleted; the customer can read and download it.

    A termination has one; so has every deletion on the owner's request and every retention run
    that deleted something of the customer's. `issued_at` is set once every file is gone.
    """

    __tablename__ = "deletion_receipts"

    id: Mapped[int] = mapped_column(primary_key=True)
    termination_id: Mapped[int | None] = mapped_column(ForeignKey("termination_requests.id"), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    reason: Mapped[str] = mapped_column(String(16), default=DeletionReason.TERMINATION)
    # who asked: the owner for a deletion on request; None for retention and termination runs
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow)
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recordings_count: Mapped[int] = mapped_column(Integer, default=0)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    # sha256 of the receipt document itself, so a copy can be checked later
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    document: Mapped[str | None] = mapped_column(Text)

    termination: Mapped[TerminationRequest | None] = relationship(back_populates="receipt")
    items: Mapped[list[DeletedRecording]] = relationship(
        back_populates="receipt", order_by="DeletedRecording.recording_id"
    )


class DeletedRecording(db.Model):
    """One recording deleted under a receipt, written as its file is removed."""

    __tablename__ = "deleted_recordings"
    __table_args__ = (UniqueConstraint("receipt_id", "recording_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[int] = mapped_column(ForeignKey("deletion_receipts.id"), index=True)
    # no foreign key: the recording row itself is deleted
    recording_id: Mapped[int] = mapped_column(Integer)
    room_name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(String(300))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # what the removal took from the store: stored versions (a local file is one) and delete
    # markers of a versioned bucket; None for rows written before the store reported it
    versions_removed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    delete_markers_removed: Mapped[int | None] = mapped_column(Integer, nullable=True)

    receipt: Mapped[DeletionReceipt] = relationship(back_populates="items")
