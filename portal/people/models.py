"""Authorized persons (delegates), their scope, and access requests (SPEC P5, P8)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, ForeignKey, Index, Integer, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class DelegateStatus(StrEnum):
    PENDING = "pending"  # awaiting moderation
    INVITED = "invited"  # approved, waiting for the person's first sign-in
    ACTIVE = "active"
    REJECTED = "rejected"
    REMOVED = "removed"


class AccessRequestStatus(StrEnum):
    AWAITING_CUSTOMER = "awaiting_customer"  # asked by the person; the customer endorses or declines
    PENDING = "pending"  # awaiting a moderator
    APPROVED = "approved"
    REJECTED = "rejected"
    DECLINED = "declined"  # by the customer


# requests nobody has decided yet: the customer may still decline (or withdraw) them
OPEN_REQUEST_STATUSES = (AccessRequestStatus.AWAITING_CUSTOMER, AccessRequestStatus.PENDING)
# delegations that still count: waiting for a decision, invited, or in use
LIVE_DELEGATE_STATUSES = (DelegateStatus.PENDING, DelegateStatus.INVITED, DelegateStatus.ACTIVE)


delegate_rooms = Table(
    "delegate_rooms",
    db.metadata,
    Column("delegate_id", ForeignKey("delegates.id"), primary_key=True),
    Column("room_id", ForeignKey("rooms.id"), primary_key=True, index=True),
)


class Delegate(db.Model):
    """A person the customer authorized to use some of their rooms (and maybe recordings)."""

    __tablename__ = "delegates"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), index=True)
    recordings: Mapped[bool] = mapped_column(Boolean, default=False)
    expires_on: Mapped[date | None]
    status: Mapped[str] = mapped_column(String(16), default=DelegateStatus.PENDING)
    source: Mapped[str] = mapped_column(String(16))  # order_form | portal | request
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    identity = relationship("Identity")
    rooms = relationship("Room", secondary=delegate_rooms, order_by="Room.id")
    requests: Mapped[list[AccessRequest]] = relationship(back_populates="delegate", order_by="AccessRequest.id")

    @property
    def latest_request(self) -> AccessRequest | None:
        return self.requests[-1] if self.requests else None

    def expired(self, today: date) -> bool:
        return self.expires_on is not None and self.expires_on < today

    def state(self, today: date) -> str:
        """What the customer sees: the status, refined by the latest request and the expiry date.

        One of awaiting_customer, pending, invited, active, expired, rejected, declined, removed.
        """
        request = self.latest_request
        if self.status == DelegateStatus.PENDING and request is not None \
                and request.status == AccessRequestStatus.AWAITING_CUSTOMER:
            return "awaiting_customer"
        if self.status == DelegateStatus.REJECTED and request is not None \
                and request.status == AccessRequestStatus.DECLINED:
            return "declined"
        if self.status in (DelegateStatus.INVITED, DelegateStatus.ACTIVE) and self.expired(today):
            return "expired"
        return self.status


class AccessRequest(db.Model):
    """A request for a person's access to a customer's rooms, decided once by a moderator."""

    __tablename__ = "access_requests"
    # the moderators' queue: pending requests, oldest first, paged by (created_at, id)
    __table_args__ = (Index("ix_access_requests_queue", "status", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegates.id"), index=True)
    origin: Mapped[str] = mapped_column(String(16))  # customer | person
    requester_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    message: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(24), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # the language the requester used the portal in: their e-mails are written in it
    requester_language: Mapped[str | None] = mapped_column(String(5))

    delegate: Mapped[Delegate] = relationship(back_populates="requests")
    customer = relationship("Customer")
    requester = relationship("Identity", foreign_keys=[requester_identity_id])


class RecordingAccessEvent(db.Model):
    """Which recordings a download audit event (`recording_downloaded`, `recordings_archive_downloaded`)
    is about, in a column the access history of one recording can use an index on (the event's own
    data is JSON). Written with the event; the event itself stays the record (SPEC P8, P11). No
    foreign key to the recording: a deleted recording's history simply stays."""

    __tablename__ = "recording_access_events"

    # the key's order serves the history's query: one recording, newest events first
    recording_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # one event may cover many recordings (a ZIP of a room)
    audit_event_id: Mapped[int] = mapped_column(ForeignKey("audit_events.id"), primary_key=True)
