"""What a signed-in identity can reach (scoped getters every account view uses), and the account
operations: export, sessions, contact details, correction requests and legal disclosures.

Operations flush and never commit; each writes its audit event with the customer's id.
"""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask import abort, current_app
from itsdangerous import BadData, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Integer, bindparam, case, func, or_, select, update
from sqlalchemy.orm import selectinload

from portal import addresses, audit, mail, typed_mail
from portal.account import devices
from portal.account.models import CorrectionRequest, CorrectionStatus, LegalDisclosure
from portal.auth import sessions
from portal.auth.models import Identity, UserSession
from portal.customers.identifiers import nip_is_valid
from portal.customers.models import Customer, CustomerKind, Room
from portal.customers.totals import recordings_of
from portal.queues import status_is
from portal.db_types import local_today, utcnow
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus
from portal.staff.conflicts import staff_self
from portal.transparency import inventory
from portal.transparency.registry import CORRECTION_FIELDS, CORRECTION_LIMITS
from portal.web.i18n import _, _l


@dataclass
class OwnedAccount:
    customer: Customer
    rooms: int
    recordings: int
    delegates: int


def active_delegations(identity: Identity, today: date | None = None) -> list[Delegate]:
    """Delegations that give this identity access now (an expired one gives none, no job needed)."""
    today = today or local_today()
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


_COUNTS = []


def _account_counts():
    """The home page's three counts in one statement, built once (issue #15, item 3)."""
    if not _COUNTS:
        customer_id = bindparam("customer_id", type_=Integer())
        _COUNTS.append(select(
            select(func.count(Room.id)).where(Room.customer_id == customer_id).scalar_subquery(),
            # kept by database triggers (portal.customers.totals): no recording is read
            recordings_of(customer_id),
            select(func.count(Delegate.id)).where(
                Delegate.customer_id == customer_id,
                Delegate.status.in_([DelegateStatus.ACTIVE, DelegateStatus.INVITED, DelegateStatus.PENDING]),
            ).scalar_subquery(),
        ))
    return _COUNTS[0]


def owned_account(identity: Identity) -> OwnedAccount | None:
    """The customer account this identity owns, with counts for the home page."""
    if identity.customer_id is None:
        return None
    customer = db.session.get(Customer, identity.customer_id)
    # three scalars, no entities: read as Core on the session's connection, flushed first as the
    # ORM's autoflush would (nothing to do when clean)
    db.session.flush()
    rooms, recordings, delegates = db.session.connection().execute(_account_counts(), {"customer_id": customer.id}).one()
    return OwnedAccount(customer, rooms, recordings, delegates)


# --- scoped getters -----------------------------------------------------------------------------

class AccountError(Exception):
    """A request the account domain refuses; `message` is for the person, `field` names the input."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


# --- sessions ---------------------------------------------------------------------------------------

def session_handle(record: UserSession) -> str:
    """A name for a session in pages and forms that does not give away its id."""
    return hashlib.sha256(record.id.encode()).hexdigest()[:24]


SESSIONS_SHOWN = 50


# built once per limit: building it cost more than running it
_ACTIVE_SESSIONS: dict[int | None, object] = {}


def active_sessions(identity: Identity, limit: int | None = None, current: UserSession | None = None) -> list[UserSession]:
    """The person's sessions that still work: the current one first, then the most recently used."""
    if limit not in _ACTIVE_SESSIONS:
        query = (select(UserSession)
                 .where(UserSession.identity_id == bindparam("identity_id"), sessions.LIVE)
                 .order_by(case((UserSession.id == bindparam("current_id", type_=UserSession.id.type), 0), else_=1),
                           UserSession.last_seen_at.desc(), UserSession.created_at.desc(), UserSession.id))
        _ACTIVE_SESSIONS[limit] = query.limit(limit) if limit else query
    return list(db.session.scalars(_ACTIVE_SESSIONS[limit], {
        "identity_id": identity.id, "current_id": current.id if current else None, **sessions.live_bounds()}))


def active_session_count(identity: Identity) -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(
        UserSession.identity_id == identity.id, sessions.live()))


def own_session_or_404(identity: Identity, handle: str) -> UserSession:
    record = next((s for s in active_sessions(identity) if session_handle(s) == handle), None)
    if record is None:
        abort(404)
    return record


def end_session(identity: Identity, record: UserSession, current: UserSession | None) -> None:
    """End one of the person's other sessions; it is refused on its next request."""
    if current is not None and record.id == current.id:
        raise AccountError(_("This is the session you are using now. To end it, sign out."))
    sessions.revoke(select(UserSession.id).where(UserSession.id == record.id), "ended_by_user")
    audit.record("session_revoked", actor_id=identity.id, customer_id=identity.customer_id,
                 device=devices.describe(record.user_agent))


def end_other_sessions(identity: Identity, current: UserSession | None) -> int:
    query = select(UserSession.id).where(UserSession.identity_id == identity.id)
    if current is not None:
        query = query.where(UserSession.id != current.id)
    count = sessions.revoke(query, "ended_by_user")
    audit.record("other_sessions_revoked", actor_id=identity.id, customer_id=identity.customer_id, count=count)
    return count


# --- contact details --------------------------------------------------------------------------------

EMAIL_CHANGE_SALT = "account.contact-email-change"
EMAIL_CHANGE_HOURS = 24
_PHONE = re.compile(r"\+?[0-9][0-9 -]*[0-9]")


def _email_change_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=EMAIL_CHANGE_SALT)


def change_phone(customer: Customer, identity: Identity, phone: str | None) -> bool:
    """Change the contact phone at once (empty removes it); False when nothing changed."""
    phone = (phone or "").strip() or None
    if phone is not None:
        digits = sum(ch.isdigit() for ch in phone)
        if len(phone) > 32 or not _PHONE.fullmatch(phone) or not 9 <= digits <= 15:
            raise AccountError(_("Enter a phone number: digits, spaces, + and -, 9 to 15 digits."), "phone")
    if phone == customer.phone:
        return False
    customer.phone = phone
    # field names only: the audit log must not become a second copy of the personal data
    audit.record("contact_phone_changed", actor_id=identity.id, customer_id=customer.id)
    db.session.flush()
    return True


def _valid_email(value: str, field: str) -> str:
    try:
        return addresses.deliverable(value)
    except addresses.UndeliverableAddress as refused:
        raise AccountError(refused.message, field) from None


def request_email_change(customer: Customer, identity: Identity, new_email: str,
                         link_for: Callable[[str], str]) -> str:
    """E-mail a confirmation link to the new address; the address changes only when it is followed.

    Raises AccountError (field "email") for an invalid address, the current one, or when the
    limit on e-mail to typed addresses is reached (portal.typed_mail).
    """
    new_email = _valid_email(new_email, "email")
    if addresses.same_address(new_email, customer.email):
        raise AccountError(_("This is already your contact e-mail."), "email")
    try:
        typed_mail.check(customer.id, new_email)
    except typed_mail.TypedMailLimitReached as refused:
        raise AccountError(refused.message, "email") from None
    token = _email_change_serializer().dumps({"c": customer.id, "e": new_email, "o": customer.email})
    mail.compose("account_email_confirm", to=new_email, language=customer.preferred_language,
                 kind="contact_email_confirm", customer_id=customer.id, link=link_for(token),
                 hours=EMAIL_CHANGE_HOURS, number=customer.number)
    audit.record("contact_email_change_requested", actor_id=identity.id, customer_id=customer.id)
    return token


def email_change_target(customer: Customer, token: str) -> str:
    """The new address a confirmation link carries, if the link is valid for this customer now."""
    try:
        data = _email_change_serializer().loads(token, max_age=EMAIL_CHANGE_HOURS * 3600)
    except SignatureExpired:
        raise AccountError(_("This link has expired. Ask for a new one on the contact details page.")) from None
    except BadData:
        raise AccountError(_("This link is not valid. Ask for a new one on the contact details page.")) from None
    if not isinstance(data, dict) or data.get("c") != customer.id:
        raise AccountError(_("This link is not valid. Ask for a new one on the contact details page."))
    if data.get("o") != customer.email:
        raise AccountError(_("This link was already used, or your contact e-mail changed since it was sent."))
    return data["e"]


def confirm_email_change(customer: Customer, identity: Identity, token: str) -> str:
    """Make the new contact e-mail take effect, and tell the old address it happened."""
    new_email = email_change_target(customer, token)
    old_email = customer.email
    customer.email = new_email
    mail.compose("account_email_changed", to=old_email, language=customer.preferred_language,
                 kind="contact_email_changed", customer_id=customer.id, number=customer.number,
                 new_email=new_email)
    audit.record("contact_email_changed", actor_id=identity.id, customer_id=customer.id)
    db.session.flush()
    return new_email


# --- correction requests ----------------------------------------------------------------------------

# four eyes: said on the queue and raised by every staff decision about one's own account
OWN_CASE_MESSAGE = _l("This concerns an account you own or act for; another privacy officer must decide it.")


def correctable_fields(customer: Customer) -> list[str]:
    fields = ["first_name", "last_name"]
    if customer.kind == CustomerKind.COMPANY:
        fields += ["company_name", "tax_id"]
    return fields


def request_correction(customer: Customer, identity: Identity, field: str, value: str,
                       note: str | None) -> CorrectionRequest:
    """Ask staff to correct a name, company name or tax ID; shown to the customer with its status."""
    if field not in correctable_fields(customer):
        raise AccountError(_("Choose what to correct."), "field")
    value = " ".join((value or "").split())
    if not value:
        raise AccountError(_("Enter the correct value."), "value")
    limit = CORRECTION_LIMITS[field]
    if len(value) > limit:
        raise AccountError(_("This is too long (at most %(limit)s characters).", limit=limit), "value")
    if field == "tax_id":
        value = re.sub(r"[\s-]", "", value)
        if not nip_is_valid(value):
            raise AccountError(_("This is not a valid NIP (10 digits with a correct check digit)."), "value")
    if value == getattr(customer, field):
        raise AccountError(_("This is what we already hold."), "value")
    waiting = db.session.scalar(select(CorrectionRequest.id).where(
        CorrectionRequest.customer_id == customer.id, CorrectionRequest.field == field,
        CorrectionRequest.status == CorrectionStatus.PENDING))
    if waiting:
        raise AccountError(_("You already asked to correct this; please wait for the decision."), "field")
    request = CorrectionRequest(customer_id=customer.id, field=field, requested_value=value,
                                note=(note or "").strip()[:2000] or None, requested_by_id=identity.id)
    db.session.add(request)
    db.session.flush()
    audit.record("correction_requested", actor_id=identity.id, customer_id=customer.id, field=field,
                 request_id=request.id)
    return request


def correction_requests(customer: Customer) -> list[CorrectionRequest]:
    return list(db.session.scalars(
        select(CorrectionRequest).where(CorrectionRequest.customer_id == customer.id)
        .order_by(CorrectionRequest.id.desc()).limit(50)))


def correction_or_404(request_id: int) -> CorrectionRequest:
    request = db.session.get(CorrectionRequest, request_id)
    if request is None:
        abort(404)
    return request


@dataclass
class StaffCorrections:
    requests: list[CorrectionRequest]
    next_cursor: int | None


def staff_corrections(pending: bool, cursor: int | None, size: int = inventory.PAGE_SIZE) -> StaffCorrections:
    """Waiting requests oldest first (they have waited longest), or decided ones newest first."""
    query = select(CorrectionRequest).options(selectinload(CorrectionRequest.customer))
    if pending:
        # spelled as ix_correction_requests_pending's predicate: only waiting requests are read
        query = query.where(status_is(CorrectionRequest.status, CorrectionStatus.PENDING)).order_by(CorrectionRequest.id)
        if cursor is not None:
            query = query.where(CorrectionRequest.id > cursor)
    else:
        query = (query.where(CorrectionRequest.status != CorrectionStatus.PENDING)
                 .order_by(CorrectionRequest.id.desc()))
        if cursor is not None:
            query = query.where(CorrectionRequest.id < cursor)
    requests = list(db.session.scalars(query.limit(size + 1)))
    more = len(requests) > size
    requests = requests[:size]
    return StaffCorrections(requests, requests[-1].id if more else None)


def reveal_correction(request: CorrectionRequest, staff: Identity) -> None:
    """A privacy officer sees the values unmasked; the customer sees that in their activity log."""
    audit.record("customer_data_revealed", actor_id=staff.id, customer_id=request.customer_id,
                 fields=[request.field], reason="correction request", request_id=request.id)


def decide_correction(request: CorrectionRequest, staff: Identity, approve: bool, note: str | None) -> None:
    """Approve (and apply) or reject a correction request, exactly once; the customer is told.

    Raises AccountError when the account is the officer's own or one they act for (four eyes).
    """
    note = (note or "").strip()[:2000] or None
    if staff_self(staff).concerns_customer(request.customer_id):
        raise AccountError(OWN_CASE_MESSAGE)
    if not approve and not note:
        raise AccountError(_("Give the reason for the rejection; the customer will read it."), "note")
    outcome = CorrectionStatus.APPROVED if approve else CorrectionStatus.REJECTED
    # the status condition makes a second decision (another tab, another officer) change nothing
    decided = db.session.execute(
        update(CorrectionRequest)
        .where(CorrectionRequest.id == request.id, CorrectionRequest.status == CorrectionStatus.PENDING)
        .values(status=outcome, decided_at=utcnow(), decided_by_id=staff.id, decision_note=note)
    ).rowcount
    if decided != 1:
        raise AccountError(_("This request was already decided."))
    db.session.refresh(request)
    customer = request.customer
    if approve:
        setattr(customer, request.field, request.requested_value)
    mail.compose("account_correction_decided", to=customer.email, language=customer.preferred_language,
                 kind="correction_decided", customer_id=customer.id, number=customer.number,
                 field=request.field, fields=CORRECTION_FIELDS, approved=approve, note=note)
    audit.record("correction_decided", actor_id=staff.id, customer_id=customer.id, field=request.field,
                 outcome=str(outcome), request_id=request.id)
    db.session.flush()


# --- legal disclosures ------------------------------------------------------------------------------

def record_disclosure(staff: Identity, *, customer_number: str, disclosed_on: date, recipient: str,
                      legal_basis: str, data_disclosed: str) -> LegalDisclosure:
    """Record a disclosure made under a legal duty (SPEC P7); the customer sees it in their activity log."""
    customer = db.session.scalar(select(Customer).where(Customer.number == (customer_number or "").strip()))
    if customer is None:
        raise AccountError(_("There is no customer with this number."), "customer_number")
    if staff_self(staff).concerns_customer(customer.id):
        raise AccountError(OWN_CASE_MESSAGE, "customer_number")
    if disclosed_on > local_today():
        raise AccountError(_("A disclosure cannot be recorded before it happened."), "disclosed_on")
    disclosure = LegalDisclosure(customer_id=customer.id, recorded_by_id=staff.id, disclosed_on=disclosed_on,
                                 recipient=recipient.strip(), legal_basis=legal_basis.strip(),
                                 data_disclosed=data_disclosed.strip())
    db.session.add(disclosure)
    db.session.flush()
    audit.record("legal_disclosure_recorded", actor_id=staff.id, customer_id=customer.id,
                 disclosure_id=disclosure.id, disclosed_on=disclosed_on.isoformat(),
                 recipient=disclosure.recipient, legal_basis=disclosure.legal_basis,
                 data_disclosed=disclosure.data_disclosed)
    return disclosure
