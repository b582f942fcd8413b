"""Authorized persons (delegates), their scope, and access requests (SPEC P5, P8)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Column, ForeignKey, String, Table, Text
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


class AccessRequest(db.Model):
    """A request for a person's access to a customer's rooms, decided once by a moderator."""

    __tablename__ = "access_requests"

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

    delegate: Mapped[Delegate] = relationship()
