"""Records of the account domain: correction requests (GDPR art. 16) and disclosures made under a
legal duty (SPEC P7, P10)."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.customers.models import Customer
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


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
