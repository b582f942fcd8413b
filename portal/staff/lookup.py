"""Finding a customer for support staff (moderators, privacy officers): by customer number, NIP,
e-mail or phone, exact match only, so staff cannot browse people (SPEC P11; GDPR art. 5(1)(c)
data minimisation). The overview is masked; revealing a field is a deliberate POST, recorded in
the audit log with the customer's id, so the customer sees it in their activity log.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal import addresses, audit
from portal.account.models import CorrectionRequest, CorrectionStatus
from portal.auth.models import Identity
from portal.consents.services import ConsentState, current_consents
from portal.customers.models import Contract, Customer
from portal.dsar.models import DataSubjectRequest, RequestStatus
from portal.extensions import db
from portal.people.models import AccessRequest, AccessRequestStatus, Delegate, DelegateStatus
from portal.staff.indexes import digits_of, normalise_digits
from portal.termination.models import OPEN_STATUSES, TerminationRequest

BY = ("number", "nip", "email", "phone")
# the fields a reveal may show, each named as the activity log names it
REVEALABLE = ("first_name", "last_name", "email", "phone", "tax_id", "address")
LISTED = 20  # rooms and delegates shown on the overview


def phone_candidates(value: str) -> list[str]:
    """The digit strings a typed phone may be stored as: with or without Poland's 48."""
    digits = normalise_digits(value)
    if len(digits) < 6:
        return []
    found = {digits}
    if len(digits) == 9:
        found.add("48" + digits)
    if len(digits) == 11 and digits.startswith("48"):
        found.add(digits[2:])
    return sorted(found)


def find(by: str, value: str) -> Customer | None:
    """The one customer whose `by` equals `value` once both are normalised; None otherwise (and
    None when several match a phone or e-mail: staff must then ask for the customer number).
    One indexed query."""
    value = (value or "").strip()[:254]
    if not value or by not in BY:
        return None
    if by == "number":
        condition = Customer.number == value.upper()
    elif by == "nip":
        digits = normalise_digits(value.upper().removeprefix("PL"))
        if len(digits) != 10:
            return None
        condition = digits_of(Customer.tax_id) == digits
    elif by == "email":
        spellings = sorted(addresses.variants(value))
        condition = func.lower(Customer.email).in_(spellings)
    else:
        candidates = phone_candidates(value)
        if not candidates:
            return None
        condition = digits_of(Customer.phone).in_(candidates)
    found = list(db.session.scalars(select(Customer).where(condition).limit(2)))
    return found[0] if len(found) == 1 else None


@dataclass
class Overview:
    customer: Customer
    contract: Contract | None
    rooms: list
    delegates: list[Delegate]
    open_requests: dict[str, int]
    consents: dict[str, ConsentState]


def overview(customer_id: int) -> Overview:
    """What staff see of a customer, masked by the template: 6 queries whatever the customer holds."""
    from portal.customers.models import Room

    customer = db.session.scalar(select(Customer).where(Customer.id == customer_id).options(
        selectinload(Customer.contract).selectinload(Contract.services)))
    rooms = list(db.session.scalars(select(Room).where(Room.customer_id == customer_id).order_by(Room.id).limit(LISTED)))
    delegates = list(db.session.scalars(
        select(Delegate).where(Delegate.customer_id == customer_id, Delegate.status.in_(
            (DelegateStatus.ACTIVE, DelegateStatus.INVITED, DelegateStatus.PENDING))).order_by(Delegate.id).limit(LISTED)))
    counts = db.session.execute(select(
        select(func.count(AccessRequest.id)).where(
            AccessRequest.customer_id == customer_id,
            AccessRequest.status.in_((AccessRequestStatus.PENDING, AccessRequestStatus.AWAITING_CUSTOMER)))
        .scalar_subquery().label("access"),
        select(func.count(CorrectionRequest.id)).where(
            CorrectionRequest.customer_id == customer_id, CorrectionRequest.status == CorrectionStatus.PENDING)
        .scalar_subquery().label("corrections"),
        select(func.count(DataSubjectRequest.id)).where(
            DataSubjectRequest.customer_id == customer_id, DataSubjectRequest.status == RequestStatus.OPEN)
        .scalar_subquery().label("dsar"),
        select(func.count(TerminationRequest.id)).where(
            TerminationRequest.customer_id == customer_id, TerminationRequest.status.in_(OPEN_STATUSES))
        .scalar_subquery().label("termination"),
    )).one()
    return Overview(customer, customer.contract, rooms, delegates, dict(counts._mapping),
                    current_consents(customer_id))


def record_lookup(staff: Identity, by: str, customer: Customer | None) -> None:
    """Every look-up is an audit event: who searched by what, and whom it found (never the value
    typed, which may be a stranger's e-mail or phone). A hit names the customer, who sees it."""
    audit.record("customer_looked_up", actor_id=staff.id, customer_id=customer.id if customer else None,
                 by=by, found=customer is not None)


def reveal(staff: Identity, customer: Customer, field: str) -> None:
    """Record that `staff` revealed one field of `customer` (the customer sees it in their activity log)."""
    if field not in REVEALABLE:
        raise ValueError(field)
    audit.record("customer_data_revealed", actor_id=staff.id, customer_id=customer.id, fields=[field],
                 reason="customer look-up")
