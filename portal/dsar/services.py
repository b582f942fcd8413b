"""Filing and deciding data-subject requests (GDPR art. 12, 15-21).

Every decision (extend, answer, close) is one conditional UPDATE that only succeeds while the case
is still open (and, for the extension, not yet extended), so two officers, two tabs or a double
click decide a case exactly once. Nobody decides a case of an account they own or act for
(portal.staff.conflicts, SPEC "Four eyes").
"""
from __future__ import annotations

from flask import abort
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from portal import audit, mail
from portal.auth.models import Identity
from portal.customers.models import Customer
from portal.db_types import utcnow
from portal.dsar import deadlines
from portal.dsar.models import MAX_TEXT, DataSubjectRequest, DsarAnswer, RequestKind, RequestStatus
from portal.dsar.texts import KINDS, OWN_CASE
from portal.extensions import db
from portal.staff.conflicts import staff_self
from portal.web.i18n import _
from portal.web.links import external_url


class DsarError(Exception):
    """A decision that cannot be made; `message` is for the person, `field` names the form field."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.message, self.field = message, field


def _bounded(text: str | None, field: str, required: bool = True) -> str | None:
    text = (text or "").strip()
    if required and not text:
        raise DsarError(_("This field is required."), field)
    if len(text) > MAX_TEXT:
        raise DsarError(_("At most %(num)d characters, please.", num=MAX_TEXT), field)
    return text or None


def file_request(customer: Customer, identity: Identity, kind: str, text: str) -> DataSubjectRequest:
    """File a request for `customer` (its owner signed in as `identity`): the case gets its number,
    its due date (art. 12(3)) and an acknowledgement e-mail. Raises DsarError for a bad kind or text."""
    if kind not in set(RequestKind):
        raise DsarError(_("Choose what you ask for."), "kind")
    text = _bounded(text, "text")
    now = utcnow()
    case = DataSubjectRequest(customer_id=customer.id, filed_by_id=identity.id, kind=kind, text=text,
                              language=customer.preferred_language, received_at=now,
                              due_on=deadlines.due_on(now))
    db.session.add(case)
    db.session.flush()
    _mail(case, "dsar_received", "dsar_received")
    audit.record("dsar_filed", actor_id=identity.id, customer_id=customer.id, case=case.case_number, request_kind=kind)
    return case


def customer_requests(customer_id: int, limit: int = 50) -> list[DataSubjectRequest]:
    """The customer's requests, newest first, with their answers (2 queries)."""
    return list(db.session.scalars(
        select(DataSubjectRequest).where(DataSubjectRequest.customer_id == customer_id)
        .options(selectinload(DataSubjectRequest.answers))
        .order_by(DataSubjectRequest.id.desc()).limit(limit)))


def request_or_404(request_id: int) -> DataSubjectRequest:
    """Any case, for a privacy officer (the route has checked the role)."""
    return db.session.get(DataSubjectRequest, request_id) or abort(404)


def _decide(case: DataSubjectRequest, staff: Identity, *conditions, **values) -> None:
    """One conditional UPDATE of an open case; DsarError when another decision came first."""
    if staff_self(staff).concerns_customer(case.customer_id):
        raise DsarError(OWN_CASE)
    changed = db.session.execute(
        update(DataSubjectRequest)
        .where(DataSubjectRequest.id == case.id, DataSubjectRequest.status == RequestStatus.OPEN, *conditions)
        .values(**values).execution_options(synchronize_session=False)).rowcount
    if changed != 1:
        raise DsarError(_("This case was already decided or changed; reload the page to see it."))
    db.session.refresh(case)


def extend(case: DataSubjectRequest, staff: Identity, reason: str) -> None:
    """Extend the deadline by two further months, once, with a reason the customer reads (art. 12(3))."""
    reason = _bounded(reason, "reason")
    _decide(case, staff, DataSubjectRequest.extended_at.is_(None),
            extended_at=utcnow(), extended_by_id=staff.id, extension_reason=reason,
            due_on=deadlines.extended_due_on(case.received_at))
    _mail(case, "dsar_extended", "dsar_extended", reason=reason)
    audit.record("dsar_extended", actor_id=staff.id, customer_id=case.customer_id, case=case.case_number,
                 due_on=case.due_on.isoformat())


def answer(case: DataSubjectRequest, staff: Identity, text: str) -> DsarAnswer:
    """Write to the customer about their open case: they read it in the portal and by e-mail."""
    text = _bounded(text, "text")
    # the UPDATE takes the row's lock, so a close at the same moment waits or wins, never interleaves
    _decide(case, staff, status=RequestStatus.OPEN)
    reply = DsarAnswer(request_id=case.id, written_by_id=staff.id, text=text)
    db.session.add(reply)
    db.session.flush()
    _mail(case, "dsar_answered", "dsar_answered", text=text)
    audit.record("dsar_answered", actor_id=staff.id, customer_id=case.customer_id, case=case.case_number)
    return reply


def close(case: DataSubjectRequest, staff: Identity, outcome: str, reason: str | None) -> None:
    """Close the case as done or refused; a refusal needs its reasons (art. 12(4))."""
    if outcome not in (RequestStatus.DONE, RequestStatus.REFUSED):
        raise DsarError(_("Choose how the case ends."), "outcome")
    reason = _bounded(reason, "reason", required=outcome == RequestStatus.REFUSED)
    _decide(case, staff, status=outcome, closed_at=utcnow(), closed_by_id=staff.id, closing_reason=reason)
    _mail(case, "dsar_closed", f"dsar_{outcome}", reason=reason)
    audit.record("dsar_closed", actor_id=staff.id, customer_id=case.customer_id, case=case.case_number,
                 outcome=outcome)


def _mail(case: DataSubjectRequest, template: str, kind: str, **context) -> None:
    customer = case.customer
    mail.compose(template, to=customer.email, language=customer.preferred_language, kind=kind,
                 customer_id=customer.id, case=case, kinds=KINDS, number=customer.number,
                 link=external_url("dsar.index"), **context)
