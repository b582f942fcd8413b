"""What the signed-in identity may reach in the people domain: every view gets its data here.

Anything that is not theirs is a 404, decided by the query itself, never by a template: an
owner reaches their own customer's persons, requests, rooms and recordings; a delegate reaches
only the rooms in the scope of a live delegation (active, not past its expiry date) and, if the
scope includes them, those rooms' recordings — never the customer's personal data.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import abort
from flask_login import current_user
from sqlalchemy import Date, Integer, and_, bindparam, false, func, or_, select, true
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
    """The customer's authorized persons and requests, newest first, with scope and requests loaded
    (the statement built once, its customer bound: building it cost more than running it)."""
    return list(db.session.scalars(_statement("people", lambda: (
        select(Delegate).where(Delegate.customer_id == bindparam("customer_id", type_=Integer()))
        .options(selectinload(Delegate.rooms), selectinload(Delegate.requests))
        .order_by(Delegate.created_at.desc(), Delegate.id.desc()))), {"customer_id": customer_id}))


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


# the rooms page's statements, built once with their values bound (building them cost more than
# running them)
_STATEMENTS: dict[str, object] = {}


def _statement(name: str, build):
    if name not in _STATEMENTS:
        _STATEMENTS[name] = build()
    return _STATEMENTS[name]


def delegated_rooms(identity: Identity | None = None, on: date | None = None) -> list[RoomAccess]:
    """The rooms of every customer this identity is a live delegate of (only those in scope)."""
    identity = identity or current_user
    delegations = db.session.scalars(_statement("delegations", lambda: (
        select(Delegate)
        .where(Delegate.identity_id == bindparam("identity_id", type_=Integer()),
               live_delegation(bindparam("on", type_=Date())))
        .options(selectinload(Delegate.customer), selectinload(Delegate.rooms))
        .order_by(Delegate.id))), {"identity_id": identity.id, "on": on or local_today()}).all()
    return [
        RoomAccess(customer=d.customer, rooms=[r for r in d.rooms if r.customer_id == d.customer_id],
                   recordings=d.recordings, as_owner=False, expires_on=d.expires_on, delegate_id=d.id)
        for d in delegations
    ]


# recordings per room on the rooms page; the room's own page goes on with "older recordings"
ROOM_PREVIEW = 10
RECORDINGS_PAGE = 50


def live_recordings():
    """SQL condition: the recording is not being deleted (a deletion hides it at once)."""
    return Recording.deletion_receipt_id.is_(None)


def newest_recordings(room_ids: set[int], per_room: int) -> dict[int, list[Recording]]:
    """Up to `per_room` newest recordings of each room (started_at desc, id desc), in ONE query
    whatever the number of rooms and recordings.

    PostgreSQL reads each room's newest rows from the end of recordings(room_id, started_at, id)
    (LATERAL: its own ORDER BY ... LIMIT per room), so a room with 100,000 recordings costs what
    one with ten does (issue 15; a window function ranked all of them first: 2.8 s for a customer
    with 100,000). SQLite has no LATERAL: there the window function (SQLite >= 3.25) ranks the
    rooms' recordings, which on SQLite's scale is cheap."""
    if not room_ids:
        return {}
    dialect = db.session.get_bind().dialect.name

    def build():
        if dialect == "postgresql":
            rooms = (select(Room.id.label("room_id"))
                     .where(Room.id.in_(bindparam("room_ids", expanding=True))).subquery())
            newest = (select(Recording.id).where(Recording.room_id == rooms.c.room_id, live_recordings())
                      .order_by(Recording.started_at.desc(), Recording.id.desc())
                      .limit(bindparam("per_room", type_=Integer())).lateral())
            wanted = select(newest.c.id).select_from(rooms).join(newest, true())
        else:
            ranked = (
                select(Recording.id.label("id"), func.row_number().over(
                    partition_by=Recording.room_id,
                    order_by=(Recording.started_at.desc(), Recording.id.desc())).label("position"))
                .where(Recording.room_id.in_(bindparam("room_ids", expanding=True)), live_recordings())
                .subquery()
            )
            wanted = select(ranked.c.id).where(ranked.c.position <= bindparam("per_room", type_=Integer()))
        return (select(Recording).where(Recording.id.in_(wanted))
                .order_by(Recording.room_id, Recording.started_at.desc(), Recording.id.desc()))

    by_room: dict[int, list[Recording]] = {}
    for recording in db.session.scalars(_statement(f"newest_recordings_{dialect}", build),
                                        {"room_ids": sorted(room_ids), "per_room": per_room}):
        by_room.setdefault(recording.room_id, []).append(recording)
    return by_room


def visible_rooms(identity: Identity | None = None, on: date | None = None,
                  per_room: int = ROOM_PREVIEW) -> list[RoomAccess]:
    """The owner's own rooms first (all of them), then each delegation's rooms in scope, with
    the newest `per_room` recordings each may see, plus one more to tell that older ones exist.
    A fixed number of queries however many rooms and recordings there are."""
    identity = identity or current_user
    accesses: list[RoomAccess] = []
    if identity.customer_id is not None:
        customer = db.session.get(Customer, identity.customer_id)
        accesses.append(RoomAccess(customer=customer, rooms=owned_rooms(customer.id), recordings=True,
                                   as_owner=True))
    accesses += delegated_rooms(identity, on)
    wanted = {room.id for access in accesses if access.recordings for room in access.rooms}
    by_room = newest_recordings(wanted, per_room + 1)
    for access in accesses:
        if access.recordings:
            access.room_recordings = {room.id: by_room.get(room.id, []) for room in access.rooms}
    return accesses


@dataclass
class RoomPage:
    """One room as its page shows it: a keyset page of its recordings, newest first."""

    room: Room
    as_owner: bool
    recordings: list[Recording]
    older: tuple[datetime, int] | None  # the keyset of the next page, None on the last


def visible_room_or_404(room_id: int, identity: Identity | None = None, on: date | None = None) -> tuple[Room, bool]:
    """(room, as_owner): the identity's own room, or one in the scope of a live delegation that
    includes recordings. Anything else is 404."""
    identity = identity or current_user
    delegated = (
        select(Delegate.id).join(delegate_rooms, delegate_rooms.c.delegate_id == Delegate.id)
        .where(delegate_rooms.c.room_id == Room.id, Delegate.customer_id == Room.customer_id,
               Delegate.identity_id == identity.id, Delegate.recordings.is_(True),
               live_delegation(on or local_today()))
        .exists()
    )
    owns = Room.customer_id == identity.customer_id if identity.customer_id is not None else false()
    room = db.session.scalar(select(Room).where(Room.id == room_id, or_(owns, delegated)))
    if room is None:
        abort(404)
    return room, room.customer_id == identity.customer_id


def room_page(room: Room, as_owner: bool, before: tuple[datetime, int] | None,
              limit: int = RECORDINGS_PAGE) -> RoomPage:
    """The room's recordings older than the keyset `before` (started_at, id), newest first."""
    query = select(Recording).where(Recording.room_id == room.id, live_recordings())
    if before is not None:
        started_at, recording_id = before
        query = query.where(or_(Recording.started_at < started_at,
                                and_(Recording.started_at == started_at, Recording.id < recording_id)))
    rows = list(db.session.scalars(
        query.order_by(Recording.started_at.desc(), Recording.id.desc()).limit(limit + 1)))
    older = (rows[limit - 1].started_at, rows[limit - 1].id) if len(rows) > limit else None
    return RoomPage(room, as_owner, rows[:limit], older)


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
        .where(Recording.id == recording_id, live_recordings(), or_(owns, delegation.is_not(None)))
    ).first()
    if row is None:
        abort(404)
    recording, room, delegate_id = row
    return RecordingAccess(recording, room, room.customer_id,
                           None if identity.customer_id == room.customer_id else delegate_id)
