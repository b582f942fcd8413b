"""Four eyes: no staff member decides a request, correction or case that concerns themselves
(SPEC "Four eyes"; GDPR art. 5(1)(f) and 32(1)(b): integrity of processing).

A staff member is "concerned" by a customer account they own, whose contact e-mail is one of
theirs, or for which they hold a delegation that still counts; and by a person who is them, by
identity or by e-mail (the address their provider asserts, or one their staff role was granted
to). The services that carry out staff decisions ask these functions and refuse with their own
domain error; the queues ask the same functions to say that another staff member decides.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from portal.account.models import Customer
from portal.auth.models import Identity, StaffRole
from portal.extensions import db
from portal.people.models import LIVE_DELEGATE_STATUSES, Delegate


@dataclass(frozen=True)
class StaffSelf:
    """Who a staff member is, for conflict checks: computed once, then checked without queries."""

    identity_id: int
    addresses: frozenset[str]  # lower-cased e-mail addresses that are theirs
    customer_ids: frozenset[int]  # accounts they own or act for

    def concerns_customer(self, customer_id: int | None) -> bool:
        """True when the account is theirs or they act for it."""
        return customer_id is not None and customer_id in self.customer_ids

    def is_person(self, identity_id: int | None = None, email: str | None = None) -> bool:
        """True when a person named by identity or e-mail is this staff member."""
        if identity_id is not None and identity_id == self.identity_id:
            return True
        return bool(email) and email.strip().lower() in self.addresses


def staff_self(identity: Identity) -> StaffSelf:
    """What concerns `identity`: its addresses and the accounts it owns or acts for (3 queries)."""
    addresses = {identity.email.strip().lower()} if identity.email else set()
    addresses |= {email.strip().lower() for email in db.session.scalars(
        select(StaffRole.email).where(StaffRole.identity_id == identity.id))}
    lowered = sorted(addresses) or [""]
    owned = set(db.session.scalars(select(Customer.id).where(
        or_(Customer.id == (identity.customer_id or 0), func.lower(Customer.email).in_(lowered)))))
    delegated = set(db.session.scalars(select(Delegate.customer_id).where(
        Delegate.status.in_(LIVE_DELEGATE_STATUSES),
        or_(Delegate.identity_id == identity.id, func.lower(Delegate.email).in_(lowered)))))
    return StaffSelf(identity.id, frozenset(addresses), frozenset(owned | delegated))
