"""Who signs in: identities (issuer, subject), their server-side sessions and staff roles."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class StaffRoleName(StrEnum):
    MODERATOR = "moderator"
    PRIVACY_OFFICER = "privacy_officer"


class Identity(UserMixin, db.Model):
    """A person as one OpenID provider knows them: the pair (issuer, subject)."""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject: Mapped[str] = mapped_column(String(255))
    # As last asserted by the provider; shown to the person, never used to re-link.
    email: Mapped[str | None] = mapped_column(String(254))
    email_verified: Mapped[bool] = mapped_column(Boolean, default=False)
    name: Mapped[str | None] = mapped_column(String(200))
    # The customer account this identity owns, linked once by verified e-mail.
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    customer = relationship("Customer")
    staff_roles: Mapped[list[StaffRole]] = relationship(back_populates="identity")

    def has_role(self, role: str) -> bool:
        return any(r.role == role for r in self.staff_roles)

    @property
    def is_staff(self) -> bool:
        return bool(self.staff_roles)


class UserSession(db.Model):
    """A sign-in on one browser: listed to the person and revocable."""

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("identities.id"), index=True)
    provider: Mapped[str] = mapped_column(String(64))
    # the provider's session id (`sid`), for back-channel logout
    provider_sid: Mapped[str | None] = mapped_column(String(255), index=True)
    id_token: Mapped[str | None] = mapped_column(Text)
    # when the person authenticated at the provider (ID token `auth_time`); None when the provider
    # did not say, and then the session never counts as a recent sign-in
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    ip_address: Mapped[str | None] = mapped_column(String(64))

    identity: Mapped[Identity] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class StaffRole(db.Model):
    """A staff role granted to an e-mail address; bound to an identity at its verified sign-in."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("email", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(32))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    granted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    identity: Mapped[Identity | None] = relationship(back_populates="staff_roles")


class SeenLogoutToken(db.Model):
    """The `jti` of every accepted back-channel logout token, so a replayed token ends nothing
    (OpenID Connect Back-Channel Logout 1.0, section 2.6)."""

    __tablename__ = "seen_logout_tokens"
    __table_args__ = (UniqueConstraint("issuer", "jti"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    issuer: Mapped[str] = mapped_column(String(500))
    jti: Mapped[str] = mapped_column(String(255))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # after the token's own expiry a replay fails its `exp` check, so the row may go
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
