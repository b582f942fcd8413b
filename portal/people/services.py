"""Authorized persons: added by the customer or asked for by a person, decided once by a
moderator, invited, removed (SPEC P5, P8, flow "Authorized persons").

Every change of a request's or a delegate's status is a conditional UPDATE on the status it
starts from, so two people acting at the same moment (two moderators; a moderator and the
customer withdrawing) can never both succeed: exactly one UPDATE finds the row still in that
status. Functions flush and never commit; they never read `request`.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import String, false, func, insert, literal, or_, select, update

from portal import addresses, audit, typed_mail
from portal.auth import trust
from portal.auth.models import Identity
from portal.auth.sessions import revoke_identity_sessions
from portal.customers.models import Customer, Room
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db
from portal.mail import compose
from portal.people.models import (
    LIVE_DELEGATE_STATUSES,
    OPEN_REQUEST_STATUSES,
    AccessRequest,
    AccessRequestStatus,
    Delegate,
    DelegateStatus,
)
from portal.staff.conflicts import StaffSelf, staff_self
from portal.web.i18n import _, _l
from portal.web.links import external_url

# the words a request's outcome is told in (e-mails and messages)
OUTCOMES = {
    AccessRequestStatus.APPROVED: _l("approved"),
    AccessRequestStatus.REJECTED: _l("rejected"),
    AccessRequestStatus.DECLINED: _l("declined by the customer"),
}


class PeopleError(Exception):
    """A change the rules refuse; `message` is shown to the person as it is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class AlreadyDecided(PeopleError):
    """Someone else decided the request first; nothing was changed."""


# --- the customer adds and removes persons ---------------------------------------------------

def live_delegate_with_email(customer_id: int, email: str) -> Delegate | None:
    """A delegation of this customer for `email` that still counts (waiting, invited or in use)."""
    # narrowed in SQL, decided by portal.addresses.same_address (one normalisation for every match)
    candidates = db.session.scalars(
        select(Delegate).where(
            Delegate.customer_id == customer_id,
            func.lower(Delegate.email).in_(addresses.lookup_spellings(email)),
            Delegate.status.in_(LIVE_DELEGATE_STATUSES),
        )
    )
    return next((d for d in candidates if addresses.same_address(d.email, email)), None)


def _check_scope(customer: Customer, rooms: list[Room], expires_on: date | None, today: date) -> None:
    if not rooms:
        raise PeopleError(_("Choose at least one room."))
    if any(room.customer_id != customer.id for room in rooms):
        raise PeopleError(_("Choose among your own rooms."))
    if expires_on is not None and expires_on < today:
        raise PeopleError(_("The end date must not be in the past."))


def add_delegate(customer: Customer, actor: Identity, *, name: str, email: str, rooms: list[Room],
                 recordings: bool, expires_on: date | None, today: date, language: str) -> Delegate:
    """The customer authorizes a person; it becomes an access request for a moderator.

    Raises PeopleError for a scope outside the customer's rooms, an address the portal cannot
    deliver to (portal.addresses), a person already listed, or when the limit on e-mail to typed
    addresses is reached (portal.typed_mail).
    """
    _check_scope(customer, rooms, expires_on, today)
    try:
        email = addresses.deliverable(email)
    except addresses.UndeliverableAddress as refused:
        raise PeopleError(refused.message) from None
    if live_delegate_with_email(customer.id, email):
        raise PeopleError(_("This person is already on your list."))
    try:
        # the invitation goes to the address typed here once a moderator approves
        typed_mail.check(customer.id, email)
    except typed_mail.TypedMailLimitReached as refused:
        raise PeopleError(refused.message) from None
    delegate = Delegate(customer_id=customer.id, name=name.strip(), email=email, recordings=recordings,
                        expires_on=expires_on, status=DelegateStatus.PENDING, source="portal")
    delegate.rooms = rooms
    db.session.add(delegate)
    db.session.flush()
    access_request = AccessRequest(customer_id=customer.id, delegate_id=delegate.id, origin="customer",
                                   requester_identity_id=actor.id, status=AccessRequestStatus.PENDING,
                                   requester_language=language)
    db.session.add(access_request)
    db.session.flush()
    # ids only: the log is append-only, the person's name and address do not belong in it
    audit.record("delegate_added", actor_id=actor.id, customer_id=customer.id, delegate_id=delegate.id,
                 request_id=access_request.id, rooms=[room.id for room in rooms], recordings=recordings,
                 expires_on=expires_on.isoformat() if expires_on else None)
    return delegate


def remove_delegate(delegate: Delegate, actor: Identity) -> int:
    """End a person's access at once: a request still open is withdrawn, the delegation ends,
    and every session of the person's identity is revoked. Returns how many sessions ended."""
    now = utcnow()
    # first the request: a moderator deciding it at this moment holds that row until they commit
    withdrawn = db.session.execute(
        update(AccessRequest)
        .where(AccessRequest.delegate_id == delegate.id, AccessRequest.status.in_(OPEN_REQUEST_STATUSES))
        .values(status=AccessRequestStatus.DECLINED, decided_at=now, decided_by_id=actor.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    removed = db.session.execute(
        update(Delegate)
        .where(Delegate.id == delegate.id, Delegate.status.in_(LIVE_DELEGATE_STATUSES))
        .values(status=DelegateStatus.REMOVED, removed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(delegate)
    if not removed:
        raise PeopleError(_("This person has no access to remove."))
    sessions_ended = 0
    if delegate.identity_id is not None:
        sessions_ended = revoke_identity_sessions(delegate.identity_id, "delegate_removed")
    audit.record("delegate_removed", actor_id=actor.id, customer_id=delegate.customer_id,
                 delegate_id=delegate.id, withdrawn_requests=withdrawn, sessions_revoked=sessions_ended)
    return sessions_ended


# --- a person asks; the customer endorses or declines ---------------------------------------

def access_request_blocker(identity: Identity) -> str | None:
    """Why `identity` cannot ask for access, for the person; None when it can.

    The request shows the customer the asker's e-mail and the decision is mailed there, so it
    must be an address the identity's provider verified and may vouch for (portal.auth.trust,
    SPEC "Trust per identity provider"): any other counts as unverified.
    """
    refusal = trust.delegate_email_refusal(identity)
    if refusal is None:
        return None
    if refusal == "unverified":
        return _("Your identity provider has not confirmed your e-mail address, so the "
                 "customer could not know who is asking. Confirm it with your provider and "
                 "sign in again.")
    return _("The identity provider you signed in with may not confirm the address %(email)s, so the "
             "customer could not know who is asking. Sign in with the provider of that address to ask "
             "for access.", email=identity.email)


def request_access(identity: Identity, *, number: str, message: str, language: str) -> None:
    """A signed-in person asks the customer with `number` for access to their rooms.

    Whether the number exists must not show, not even in how long this takes: the same four
    statements run either way (a row lock that locks nothing when there is no such customer, two
    INSERT … SELECT that insert nothing when there is none, or when this person already has a
    delegation or a request there, and one audit event), and the caller gives the same answer.
    """
    blocked = access_request_blocker(identity)
    if blocked:
        raise PeopleError(blocked)
    number = number.strip()
    email = identity.email.strip()
    now = utcnow()
    numbers = sorted({number, number.upper()})
    # two tabs sending the same request at once: the second waits here for the first to commit,
    # then finds its delegation (PostgreSQL row lock; SQLite writes one at a time anyway)
    db.session.execute(select(Customer.id).where(Customer.number.in_(numbers)).with_for_update())
    already = (
        select(Delegate.id).where(
            Delegate.customer_id == Customer.id,
            Delegate.status.in_(LIVE_DELEGATE_STATUSES),
            or_(Delegate.identity_id == identity.id, func.lower(Delegate.email) == email.lower()),
        ).exists()
    )
    target = select(
        Customer.id, literal(identity.name or email, String), literal(email, String), false(),
        literal(DelegateStatus.PENDING.value, String), literal("request", String), literal(identity.id),
        literal(now, UTCDateTime()),
    ).where(
        Customer.number.in_(numbers),
        Customer.id != (identity.customer_id or 0),  # never a delegate of one's own account
        ~already,
    )
    delegates = Delegate.__table__
    created = db.session.execute(
        insert(delegates)
        .from_select(["customer_id", "name", "email", "recordings", "status", "source", "identity_id",
                      "created_at"], target)
        .returning(delegates.c.id, delegates.c.customer_id)
    ).all()
    # the delegation just inserted, if any: found by who asked and when, not by a list of ids,
    # so that this statement is the same text whether or not the first one inserted a row
    db.session.execute(
        insert(AccessRequest.__table__).from_select(
            ["customer_id", "delegate_id", "origin", "requester_identity_id", "message", "status",
             "created_at", "requester_language"],
            select(delegates.c.customer_id, delegates.c.id, literal("person", String), literal(identity.id),
                   literal(message.strip(), String), literal(AccessRequestStatus.AWAITING_CUSTOMER.value, String),
                   literal(now, UTCDateTime()), literal(language, String))
            .where(delegates.c.identity_id == identity.id, delegates.c.source == "request",
                   delegates.c.created_at == now,
                   ~select(AccessRequest.id).where(AccessRequest.delegate_id == delegates.c.id).exists()),
        )
    )
    audit.record("access_requested", actor_id=identity.id,
                 customer_id=created[0].customer_id if created else None, number=number[:32])


def _transition(access_request: AccessRequest, start: str, end: str, actor: Identity,
                note: str | None = None) -> bool:
    """Move the request from `start` to `end` if it is still in `start`; True if this call did it."""
    changed = db.session.execute(
        update(AccessRequest)
        .where(AccessRequest.id == access_request.id, AccessRequest.status == start)
        .values(status=end, decided_at=utcnow() if end != AccessRequestStatus.PENDING else None,
                decided_by_id=actor.id if end != AccessRequestStatus.PENDING else None,
                decision_note=note)
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    db.session.expire(access_request)
    return changed


def _move_delegate(delegate_id: int, start: str, **values) -> None:
    db.session.execute(
        update(Delegate).where(Delegate.id == delegate_id, Delegate.status == start).values(**values)
        .execution_options(synchronize_session=False)
    )


def endorse_request(access_request: AccessRequest, actor: Identity, *, rooms: list[Room], recordings: bool,
                    expires_on: date | None, today: date) -> None:
    """The customer agrees to a person's request, with the scope they choose; a moderator decides next."""
    customer = access_request.customer
    _check_scope(customer, rooms, expires_on, today)
    if not _transition(access_request, AccessRequestStatus.AWAITING_CUSTOMER, AccessRequestStatus.PENDING, actor):
        raise PeopleError(_("This request has already been answered."))
    delegate = access_request.delegate
    delegate.rooms = rooms
    delegate.recordings = recordings
    delegate.expires_on = expires_on
    db.session.flush()
    audit.record("access_request_endorsed", actor_id=actor.id, customer_id=customer.id,
                 request_id=access_request.id, delegate_id=delegate.id, rooms=[room.id for room in rooms],
                 recordings=recordings, expires_on=expires_on.isoformat() if expires_on else None)


def decline_request(access_request: AccessRequest, actor: Identity) -> None:
    """The customer says no to a person's request; the person is told."""
    if not _transition(access_request, AccessRequestStatus.AWAITING_CUSTOMER, AccessRequestStatus.DECLINED, actor):
        raise PeopleError(_("This request has already been answered."))
    _move_delegate(access_request.delegate_id, DelegateStatus.PENDING, status=DelegateStatus.REJECTED)
    _tell_requester(access_request)
    audit.record("access_request_declined", actor_id=actor.id, customer_id=access_request.customer_id,
                 request_id=access_request.id, delegate_id=access_request.delegate_id)


# --- moderators ------------------------------------------------------------------------------

def reveal_contact_data(access_request: AccessRequest, moderator: Identity) -> None:
    """A moderator deliberately looks at the unmasked names and addresses; the customer sees it."""
    audit.record("personal_data_revealed", actor_id=moderator.id, customer_id=access_request.customer_id,
                 subject="access_request", request_id=access_request.id,
                 fields=["customer_name", "customer_email", "person_name", "person_email"])


def concerns(access_request: AccessRequest, me: StaffSelf) -> bool:
    """Four eyes: does the request concern the moderator? True when the account is theirs or they
    act for it, or when the person asking or being added is them, by identity or e-mail."""
    delegate = access_request.delegate
    requester = access_request.requester
    return (me.concerns_customer(access_request.customer_id)
            or me.is_person(delegate.identity_id, delegate.email)
            or (requester is not None and me.is_person(requester.id, requester.email)))


def decide(access_request: AccessRequest, moderator: Identity, *, approve: bool, note: str | None) -> None:
    """Approve (with an optional note) or reject (a reason is required) a pending request, once.

    Raises PeopleError when the request concerns the moderator (four eyes, see `concerns`).
    The request moves out of `pending` with a conditional UPDATE: of two moderators deciding at
    the same moment exactly one changes the row; the other gets AlreadyDecided.
    """
    note = (note or "").strip() or None
    if concerns(access_request, staff_self(moderator)):
        raise PeopleError(_("This request concerns you or an account you own or act for; another "
                            "moderator must decide it."))
    if not approve and not note:
        raise PeopleError(_("Give the reason for the rejection."))
    outcome = AccessRequestStatus.APPROVED if approve else AccessRequestStatus.REJECTED
    if not _transition(access_request, AccessRequestStatus.PENDING, outcome, moderator, note):
        raise AlreadyDecided(_("This request was already decided (%(outcome)s); nothing was changed.",
                               outcome=OUTCOMES.get(access_request.status, access_request.status)))
    delegate = access_request.delegate
    if approve:
        # a person who asked themselves is signed in already: their delegation is bound and starts now
        status = DelegateStatus.ACTIVE if delegate.identity_id is not None else DelegateStatus.INVITED
    else:
        status = DelegateStatus.REJECTED
    _move_delegate(delegate.id, DelegateStatus.PENDING, status=status)
    db.session.expire(delegate)
    if approve and delegate.status == DelegateStatus.INVITED:
        _invite(delegate)
    _tell_customer(access_request)
    if access_request.origin == "person":
        _tell_requester(access_request)
    audit.record(f"access_request_{outcome}", actor_id=moderator.id, customer_id=access_request.customer_id,
                 request_id=access_request.id, delegate_id=delegate.id, with_note=note is not None)


def _invite(delegate: Delegate) -> None:
    customer = delegate.customer
    compose("people_invitation", to=delegate.email, language=customer.preferred_language,
            kind="people_invitation", customer_id=customer.id, delegate=delegate,
            customer=customer, rooms=[room.name for room in delegate.rooms],
            sign_in_url=external_url("web.index"))


def _tell_customer(access_request: AccessRequest) -> None:
    customer = access_request.customer
    compose("people_decision_customer", to=customer.email, language=customer.preferred_language,
            kind="people_decision", customer_id=customer.id, access_request=access_request,
            delegate=access_request.delegate, customer=customer,
            people_url=external_url("people.index"))


def _tell_requester(access_request: AccessRequest) -> None:
    requester = access_request.requester
    if requester is None or not requester.email:
        return
    compose("people_decision_requester", to=requester.email,
            language=access_request.requester_language or "pl", kind="people_decision",
            customer_id=access_request.customer_id, access_request=access_request,
            number=access_request.customer.number, delegate=access_request.delegate,
            rooms_url=external_url("rooms.index"))
