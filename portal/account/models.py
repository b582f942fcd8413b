"""The customer record: who they are, their contract, rooms and recordings (SPEC P2, P3, P5, P8)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
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

    customer: Mapped[Customer] = relationship(back_populates="rooms")
    recordings: Mapped[list[Recording]] = relationship(back_populates="room", order_by="Recording.started_at")


class Recording(db.Model):
    """A recording of a recorded video room; the file lives under PORTAL_RECORDINGS_DIR."""

    __tablename__ = "recordings"
    __table_args__ = (UniqueConstraint("room_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_s: Mapped[int] = mapped_column(Integer)
    file: Mapped[str] = mapped_column(String(500))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))

    room: Mapped[Room] = relationship(back_populates="recordings")


class LegalDisclosure(db.Model):
    """A disclosure of a customer's data made under a legal duty (SPEC P7, P10)."""

    __tablename__ = "legal_disclosures"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("identities.id"))
    disclosed_on: Mapped[date]
    recipient: Mapped[str] = mapped_column(String(300))
    legal_basis: Mapped[str] = mapped_column(String(500))
    data_disclosed: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CorrectionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CorrectionRequest(db.Model):
    """A customer's request to correct a field only staff may change (GDPR art. 16)."""

    __tablename__ = "correction_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    # first_name | last_name | company_name | tax_id
    field: Mapped[str] = mapped_column(String(32))
    requested_value: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=CorrectionStatus.PENDING, index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()


class SeenLogoutToken(db.Model):
    """The `jti` of every accepted back-channel logout token, so a replayed token ends nothing.

    Kept here because the account migration creates it; only portal.auth.backchannel uses it.
    """

    __tablename__ = "seen_logout_tokens"
    __table_args__ = (UniqueConstraint("issuer", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    jti: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # after the token's own expiry a replay fails its `exp` check, so the row may go
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
