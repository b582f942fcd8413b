"""What a signed-in identity can reach: scoped getters every account view uses."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from portal.account.models import Customer, Recording, Room
from portal.auth.models import Identity
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus


@dataclass
class OwnedAccount:
    customer: Customer
    rooms: int
    recordings: int
    delegates: int


def active_delegations(identity: Identity, today: date | None = None) -> list[Delegate]:
    """Delegations that give this identity access now (an expired one gives none, no job needed)."""
    today = today or date.today()
    return list(db.session.scalars(
        select(Delegate)
        .where(
            Delegate.identity_id == identity.id,
            Delegate.status == DelegateStatus.ACTIVE,
            or_(Delegate.expires_on.is_(None), Delegate.expires_on >= today),
        )
        .options(selectinload(Delegate.customer), selectinload(Delegate.rooms))
        .order_by(Delegate.id)
    ))


def owned_account(identity: Identity) -> OwnedAccount | None:
    """The customer account this identity owns, with counts for the home page."""
    if identity.customer_id is None:
        return None
    customer = db.session.get(Customer, identity.customer_id)
    rooms = db.session.scalar(select(func.count(Room.id)).where(Room.customer_id == customer.id))
    recordings = db.session.scalar(
        select(func.count(Recording.id)).join(Room).where(Room.customer_id == customer.id)
    )
    delegates = db.session.scalar(
        select(func.count(Delegate.id)).where(
            Delegate.customer_id == customer.id,
            Delegate.status.in_([DelegateStatus.ACTIVE, DelegateStatus.INVITED, DelegateStatus.PENDING]),
        )
    )
    return OwnedAccount(customer, rooms, recordings, delegates)
