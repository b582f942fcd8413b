"""Consent events for product notifications and privacy-policy versions (SPEC P4, P12)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    PHONE = "phone"


class ConsentSource(StrEnum):
    ORDER_FORM = "order_form"
    PORTAL = "portal"
    STAFF = "staff"


PRODUCT_NOTIFICATIONS = "product_notifications"


class PolicyVersion(db.Model):
    """A published version of the privacy policy."""

    __tablename__ = "policy_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(32), unique=True)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    text_pl: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    summary_pl: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")


class ConsentEvent(db.Model):
    """One append-only change of consent: the proof of consent (GDPR art. 7(1))."""

    __tablename__ = "consent_events"
    __table_args__ = (
        # the current state per channel is the newest event: one index scan
        Index("ix_consent_events_current", "customer_id", "purpose", "channel", "at"),
        # an order-form consent imported twice is one event
        UniqueConstraint("customer_id", "purpose", "channel", "at", "source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(36), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    purpose: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(16))
    collection_method: Mapped[str] = mapped_column(String(64))
    policy_version_id: Mapped[int | None] = mapped_column(ForeignKey("policy_versions.id"))
    actor_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    # the language the person was addressed in when consent was collected (the receipt's `language`);
    # unknown for imported events
    language: Mapped[str | None] = mapped_column(String(5))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy_version: Mapped[PolicyVersion | None] = relationship()


class PolicyAcknowledgement(db.Model):
    """A customer's acknowledgement of one policy version."""

    __tablename__ = "policy_acknowledgements"
    __table_args__ = (UniqueConstraint("customer_id", "policy_version_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    policy_version_id: Mapped[int] = mapped_column(ForeignKey("policy_versions.id"))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    policy_version: Mapped[PolicyVersion] = relationship()
