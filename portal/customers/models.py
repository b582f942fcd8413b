"""The customer record every domain builds on: who they are, their contract, rooms and recordings
(SPEC P2, P3, P5, P8)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class CustomerKind(StrEnum):
    PERSON = "person"
    COMPANY = "company"


class Service(StrEnum):
    PC_VIDEO = "pc_video"
    VIDEO_ROOM = "video_room"
    TELECONFERENCE_ROOM = "teleconference_room"
    RECORDED_VIDEO_ROOM = "recorded_video_room"


class RoomKind(StrEnum):
    VIDEO_ROOM = "video_room"
    TELECONFERENCE_ROOM = "teleconference_room"
    RECORDED_VIDEO_ROOM = "recorded_video_room"


class ContractStatus(StrEnum):
    ACTIVE = "active"
    TERMINATING = "terminating"
    TERMINATED = "terminated"


class Customer(db.Model):
    """A customer of MCX as the order form recorded them."""

    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    company_name: Mapped[str | None] = mapped_column(String(200))
    tax_id: Mapped[str | None] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254), index=True)
    phone: Mapped[str | None] = mapped_column(String(32))
    street: Mapped[str] = mapped_column(String(200))
    postal_code: Mapped[str] = mapped_column(String(16))
    city: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(2))
    preferred_language: Mapped[str] = mapped_column(String(5), default="pl")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contract: Mapped[Contract | None] = relationship(back_populates="customer", uselist=False)
    rooms: Mapped[list[Room]] = relationship(back_populates="customer", order_by="Room.id")

    @property
    def display_name(self) -> str:
        if self.kind == CustomerKind.COMPANY and self.company_name:
            return self.company_name
        return f"{self.first_name} {self.last_name}"


class Contract(db.Model):
    """The customer's service contract."""

    __tablename__ = "contracts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), unique=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    signed_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default=ContractStatus.ACTIVE)
    terminated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer: Mapped[Customer] = relationship(back_populates="contract")
    services: Mapped[list[ContractService]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="ContractService.service"
    )

    @property
    def service_codes(self) -> list[str]:
        return [s.service for s in self.services]


class ContractService(db.Model):
    """One service ordered under a contract."""

    __tablename__ = "contract_services"
    __table_args__ = (UniqueConstraint("contract_id", "service"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("contracts.id"), index=True)
    service: Mapped[str] = mapped_column(String(32))

    contract: Mapped[Contract] = relationship(back_populates="services")


class Room(db.Model):
    """A video, teleconference or recorded video room of a customer."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("customer_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # the order system's own key, so a re-import updates instead of duplicating
    key: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(32))
    # how long the owner keeps this room's recordings: None = for as long as the contract runs,
    # else months after each recording started; `flask portal run-due` deletes what is older
    retention_months: Mapped[int | None] = mapped_column(Integer)

    customer: Mapped[Customer] = relationship(back_populates="rooms")
    recordings: Mapped[list[Recording]] = relationship(back_populates="room", order_by="Recording.started_at")


class Recording(db.Model):
    """A recording of a recorded video room; the file lives under PORTAL_RECORDINGS_DIR."""

    __tablename__ = "recordings"
    __table_args__ = (
        UniqueConstraint("room_id", "key"),
        # the rooms pages list a room's recordings newest first, a keyset page at a time
        Index("ix_recordings_room_started", "room_id", "started_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # indexed by ix_recordings_room_keyset (room_id, id), see portal/indexes.py: a second index on
    # room_id alone would tempt the planner to fetch a room's every recording and sort them
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"))
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    # set when a deletion (on request, by retention or by termination) has taken the recording:
    # from then on nobody sees it, and a re-run of that deletion finishes it after a crash
    deletion_receipt_id: Mapped[int | None] = mapped_column(ForeignKey("deletion_receipts.id"), index=True)

    room: Mapped[Room] = relationship(back_populates="recordings")
