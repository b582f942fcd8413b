"""Four eyes: no staff member decides a request, correction or case that concerns themselves
(SPEC "Four eyes"; GDPR art. 5(1)(f) and 32(1)(b): integrity of processing).

A staff member is "concerned" by a customer account they own, whose contact e-mail is one of
theirs, or for which they hold an approved delegation; and by a person who is them, by
identity or by e-mail (the address their provider asserts, or one their staff role was granted
to). The services that carry out staff decisions ask these functions and refuse with their own
domain error; the queues ask the same functions to say that another staff member decides.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, or_, select

from portal.addresses import lookup_spellings, matching_key
from portal.auth.models import Identity, StaffRole
from portal.customers.models import Customer
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus

# a delegation a moderator approved: waiting for the person's first sign-in, or in use
APPROVED = (DelegateStatus.INVITED, DelegateStatus.ACTIVE)


@dataclass(frozen=True)
class StaffSelf:
    """Who a staff member is, for conflict checks: computed once, then checked without queries."""

    identity_id: int
    addresses: frozenset[str]  # their e-mail addresses, as portal.addresses.matching_key gives them
    customer_ids: frozenset[int]  # accounts they own or act for

    def concerns_customer(self, customer_id: int | None) -> bool:
        """True when the account is theirs or they act for it."""
        return customer_id is not None and customer_id in self.customer_ids

    def is_person(self, identity_id: int | None = None, email: str | None = None) -> bool:
        """True when a person named by identity or e-mail is this staff member."""
        if identity_id is not None and identity_id == self.identity_id:
            return True
        return bool(email) and matching_key(email) in self.addresses


def staff_self(identity: Identity) -> StaffSelf:
    """What concerns `identity`: its addresses and the accounts it owns or acts for (3 queries).

    Only an approved delegation (invited or active) makes them act for an account: a person merely listed,
    waiting or refused concerns them only in that person's own request (`is_person`), or a
    customer could keep a chosen moderator off all their requests by listing that moderator.
    """
    own = [identity.email] if identity.email else []
    own += list(db.session.scalars(select(StaffRole.email).where(StaffRole.identity_id == identity.id)))
    keys = {matching_key(email) for email in own} - {None}
    spellings = sorted({s for email in own for s in lookup_spellings(email)}) or [""]
    owned = {customer_id for customer_id, email in db.session.execute(select(Customer.id, Customer.email).where(
        or_(Customer.id == (identity.customer_id or 0), func.lower(Customer.email).in_(spellings))))
        if customer_id == identity.customer_id or matching_key(email) in keys}
    delegated = {customer_id for customer_id, email, bound in db.session.execute(
        select(Delegate.customer_id, Delegate.email, Delegate.identity_id).where(
            Delegate.status.in_(APPROVED),
            or_(Delegate.identity_id == identity.id, func.lower(Delegate.email).in_(spellings))))
        if bound == identity.id or matching_key(email) in keys}
    return StaffSelf(identity.id, frozenset(keys), frozenset(owned | delegated))
