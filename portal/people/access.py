"""What the signed-in identity may reach in the people domain: every view gets its data here.

Anything that is not theirs is a 404, decided by the query itself, never by a template: an
owner reaches their own customer's persons, requests, rooms and recordings; a delegate reaches
only the rooms in the scope of a live delegation (active, not past its expiry date) and, if the
scope includes them, those rooms' recordings — never the customer's personal data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import abort
from flask_login import current_user
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import selectinload

from portal.auth.models import Identity
from portal.customers.models import Customer, Recording, Room
from portal.db_types import local_today
from portal.extensions import db
from portal.people.models import AccessRequest, AccessRequestStatus, Delegate, DelegateStatus, delegate_rooms


def live_delegation(on: date):
    """SQL condition: the delegation gives access on day `on` — no job has to expire it."""
    return and_(
        Delegate.status == DelegateStatus.ACTIVE,
        or_(Delegate.expires_on.is_(None), Delegate.expires_on >= on),
    )


# --- the owner's side -----------------------------------------------------------------------

def owned_delegate_or_404(delegate_id: int) -> Delegate:
    """One of the owner's authorized persons (in any status)."""
    delegate = db.session.scalar(
        select(Delegate).where(Delegate.id == delegate_id, Delegate.customer_id == current_user.customer_id)
    ) if current_user.customer_id is not None else None
    return delegate or abort(404)


def awaiting_request_or_404(request_id: int) -> AccessRequest:
    """A person's request for access to the owner's rooms that waits for the owner's decision."""
    access_request = db.session.scalar(
        select(AccessRequest).where(
            AccessRequest.id == request_id,
            AccessRequest.customer_id == current_user.customer_id,
            AccessRequest.status == AccessRequestStatus.AWAITING_CUSTOMER,
        )
    ) if current_user.customer_id is not None else None
    return access_request or abort(404)


def owned_rooms(customer_id: int) -> list[Room]:
    return list(db.session.scalars(select(Room).where(Room.customer_id == customer_id).order_by(Room.id)))


def people_of(customer_id: int) -> list[Delegate]:
    """The customer's authorized persons and requests, newest first, with scope and requests loaded."""
    return list(db.session.scalars(
        select(Delegate).where(Delegate.customer_id == customer_id)
        .options(selectinload(Delegate.rooms), selectinload(Delegate.requests))
        .order_by(Delegate.created_at.desc(), Delegate.id.desc())
    ))


# --- rooms and recordings ------------------------------------------------------------------

@dataclass
class RoomAccess:
    """Rooms of one customer the identity may use, and whether their recordings are included."""

    customer: Customer
    rooms: list[Room]
    recordings: bool
    as_owner: bool
    expires_on: date | None = None
    delegate_id: int | None = None
    room_recordings: dict[int, list[Recording]] = field(default_factory=dict)


def delegated_rooms(identity: Identity | None = None, on: date | None = None) -> list[RoomAccess]:
    """The rooms of every customer this identity is a live delegate of (only those in scope)."""
    identity = identity or current_user
    delegations = db.session.scalars(
        select(Delegate)
        .where(Delegate.identity_id == identity.id, live_delegation(on or local_today()))
        .options(selectinload(Delegate.customer), selectinload(Delegate.rooms))
        .order_by(Delegate.id)
    ).all()
    return [
        RoomAccess(customer=d.customer, rooms=[r for r in d.rooms if r.customer_id == d.customer_id],
                   recordings=d.recordings, as_owner=False, expires_on=d.expires_on, delegate_id=d.id)
        for d in delegations
    ]


def visible_rooms(identity: Identity | None = None, on: date | None = None) -> list[RoomAccess]:
    """The owner's own rooms first (all of them), then each delegation's rooms in scope,
    with the recordings each may see. A fixed number of queries however many rooms there are."""
    identity = identity or current_user
    accesses: list[RoomAccess] = []
    if identity.customer_id is not None:
        customer = db.session.get(Customer, identity.customer_id)
        accesses.append(RoomAccess(customer=customer, rooms=owned_rooms(customer.id), recordings=True,
                                   as_owner=True))
    accesses += delegated_rooms(identity, on)
    wanted = {room.id for access in accesses if access.recordings for room in access.rooms}
    by_room: dict[int, list[Recording]] = {}
    if wanted:
        for recording in db.session.scalars(
            select(Recording).where(Recording.room_id.in_(wanted))
            .order_by(Recording.started_at.desc(), Recording.id.desc())
        ):
            by_room.setdefault(recording.room_id, []).append(recording)
    for access in accesses:
        if access.recordings:
            access.room_recordings = {room.id: by_room.get(room.id, []) for room in access.rooms}
    return accesses


@dataclass
class RecordingAccess:
    recording: Recording
    room: Room
    customer_id: int
    delegate_id: int | None  # None when the owner reaches their own recording


def visible_recording_or_404(recording_id: int, identity: Identity | None = None,
                             on: date | None = None) -> RecordingAccess:
    """A recording of the identity's own rooms, or of a room in the scope of a live delegation
    that includes recordings. Everything else — including a recording that does not exist — is 404."""
    identity = identity or current_user
    delegation = (
        select(Delegate.id)
        .join(delegate_rooms, delegate_rooms.c.delegate_id == Delegate.id)
        .where(
            delegate_rooms.c.room_id == Room.id,
            Delegate.customer_id == Room.customer_id,
            Delegate.identity_id == identity.id,
            Delegate.recordings.is_(True),
            live_delegation(on or local_today()),
        )
        .order_by(Delegate.id)
        .limit(1)
        .scalar_subquery()
    )
    owns = Room.customer_id == identity.customer_id if identity.customer_id is not None else false()
    row = db.session.execute(
        select(Recording, Room, delegation.label("delegate_id"))
        .join(Room, Recording.room_id == Room.id)
        .where(Recording.id == recording_id, or_(owns, delegation.is_not(None)))
    ).first()
    if row is None:
        abort(404)
    recording, room, delegate_id = row
    return RecordingAccess(recording, room, room.customer_id,
                           None if identity.customer_id == room.customer_id else delegate_id)
