"""Contract termination: request, withdraw, confirm, and carry it out on its effective date (SPEC P9).

Carrying out (`run_due`) is crash-safe and idempotent. A run first claims a termination (a row
lock on PostgreSQL decides between two runs; the claim then holds for `CLAIM_LEASE` and is
renewed with every batch). Each batch removes the files first, then, in one transaction,
writes a `DeletedRecording` row for every file that is gone and deletes its `Recording` row.
A run killed in the middle leaves recordings whose files may be gone but whose rows remain;
the next run removes them again (a file already gone is not an error) and records them then,
so nothing is deleted twice, counted twice, or reported deleted while its file still exists.
"""
from __future__ import annotations

import calendar
import hashlib
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import format_decimal
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from portal import audit
from portal.auth.models import Identity
from portal.auth.sessions import revoke_identity_sessions
from portal.customers.models import Contract, ContractStatus, Customer, Recording, Room
from portal.customers.totals import totals as recording_totals
from portal.db_types import utcnow
from portal.extensions import db
from portal.mail import compose
from portal.people.models import Delegate, DelegateStatus
from portal.queues import bounded_count, status_is
from portal.staff.conflicts import staff_self
from portal.storage import RecordingStore, recording_store
from portal.termination import receipt_documents
from portal.termination.models import (
    OPEN_STATUSES,
    DeletedRecording,
    DeletionReceipt,
    TerminationRequest,
    TerminationStatus,
)
from portal.termination.texts import SERVICE_LABELS
from portal.web.i18n import _
from portal.web.links import external_url

CONFIRMATION_DAYS = 14
CLAIM_LEASE = timedelta(minutes=10)
BATCH_SIZE = 500
# delegates in these states still have, or may still get, access
LIVE_DELEGATE_STATUSES = (DelegateStatus.PENDING, DelegateStatus.INVITED, DelegateStatus.ACTIVE)


class TerminationError(Exception):
    """A termination step that cannot be done; the message is for the person who asked."""


class CustomerNumberMismatch(TerminationError):
    """The typed customer number is not the customer's."""


# ---------------------------------------------------------------------------------------------
# dates


def effective_date(received_on: date, notice_months: int) -> date:
    """The last day of the calendar month `notice_months` after the month of receipt."""
    month_index = received_on.year * 12 + received_on.month - 1 + notice_months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, calendar.monthrange(year, month + 1)[1])


def confirmation_due(received_on: date) -> date:
    """The confirmation on a durable medium is owed within 14 days of receipt."""
    return received_on + timedelta(days=CONFIRMATION_DAYS)


def human_size(size_bytes: int) -> str:
    """`1536` → `1.5 KB`, in the current language's number format."""
    value, unit = float(size_bytes), "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            break
        value /= 1024
    return f"{size_bytes} B" if unit == "B" else f"{format_decimal(round(value, 1))} {unit}"


# ---------------------------------------------------------------------------------------------
# reading


def latest_termination(customer_id: int) -> TerminationRequest | None:
    """The customer's newest termination request, whatever its state."""
    return db.session.scalar(
        select(TerminationRequest).where(TerminationRequest.customer_id == customer_id)
        .order_by(TerminationRequest.id.desc()).limit(1)
    )


def latest_termination_facts(customer_id) -> dict:
    """Labelled scalar expressions for the page facts (portal/web/notices.py; `customer_id` is its
    bound parameter): the status
    (`termination_status`) and `termination_effective_on` of the customer's newest request."""
    newest = (select(TerminationRequest.id).where(TerminationRequest.customer_id == customer_id)
              .order_by(TerminationRequest.id.desc()).limit(1).scalar_subquery())
    return {
        "termination_status": select(TerminationRequest.status).where(TerminationRequest.id == newest).scalar_subquery(),
        "termination_effective_on": select(TerminationRequest.effective_on)
        .where(TerminationRequest.id == newest).scalar_subquery(),
    }


def open_termination(customer_id: int) -> TerminationRequest | None:
    return db.session.scalar(
        select(TerminationRequest).where(TerminationRequest.customer_id == customer_id,
                                         TerminationRequest.status.in_(OPEN_STATUSES))
    )


def completed_termination(customer_id: int) -> TerminationRequest | None:
    return db.session.scalar(
        select(TerminationRequest).where(TerminationRequest.customer_id == customer_id,
                                         TerminationRequest.status == TerminationStatus.COMPLETED)
        .options(joinedload(TerminationRequest.receipt))
    )


@dataclass
class Consequences:
    """What a termination requested today would do, shown before the customer confirms."""

    effective_on: date
    recordings: int
    recordings_bytes: int
    delegates: list[Delegate]


def consequences(customer: Customer, today: date) -> Consequences:
    # kept by database triggers (portal.customers.totals): no recording is read
    count, total = recording_totals(customer.id)
    delegates = db.session.scalars(
        select(Delegate).where(Delegate.customer_id == customer.id,
                               Delegate.status.in_(LIVE_DELEGATE_STATUSES)).order_by(Delegate.name, Delegate.id)
    ).all()
    return Consequences(effective_date(today, current_app.config["TERMINATION_NOTICE_MONTHS"]),
                        count, int(total), list(delegates))


def receipt_items(receipt: DeletionReceipt, after_recording_id: int = 0, limit: int = 100) -> list[DeletedRecording]:
    """One page of a receipt's recordings, in id order (keyset: pass the last id seen)."""
    return list(db.session.scalars(
        select(DeletedRecording).where(DeletedRecording.receipt_id == receipt.id,
                                       DeletedRecording.recording_id > after_recording_id)
        .order_by(DeletedRecording.recording_id).limit(limit)
    ))


# ---------------------------------------------------------------------------------------------
# the customer's steps


def _contract_of(customer: Customer) -> Contract:
    if customer.contract is None:
        raise TerminationError(_("There is no contract on your account to terminate."))
    return customer.contract


def request_termination(customer: Customer, identity: Identity, typed_number: str, *,
                        today: date, now: datetime | None = None) -> tuple[TerminationRequest, bool]:
    """Open the customer's termination request; returns (request, created).

    Submitting again while one is open returns that one: a customer has at most one open
    request, even when two submissions arrive at the same moment (a unique index decides).
    """
    now = now or utcnow()
    if typed_number.strip().upper() != customer.number.upper():
        raise CustomerNumberMismatch(_("This is not your customer number. Type it exactly as shown above."))
    existing = open_termination(customer.id)
    if existing is not None:
        return existing, False
    contract = _contract_of(customer)
    if contract.status == ContractStatus.TERMINATED:
        raise TerminationError(_("Your contract has already ended."))
    termination = TerminationRequest(
        customer_id=customer.id, status=TerminationStatus.REQUESTED, requested_at=now,
        requested_by_id=identity.id,
        effective_on=effective_date(today, current_app.config["TERMINATION_NOTICE_MONTHS"]),
        confirmation_due_on=confirmation_due(today),
    )
    try:
        with db.session.begin_nested():
            db.session.add(termination)
    except IntegrityError:
        # another submission opened one a moment ago
        return open_termination(customer.id), False
    contract.status = ContractStatus.TERMINATING
    audit.record("termination_requested", actor_id=identity.id, customer_id=customer.id,
                 termination_id=termination.id, effective_on=termination.effective_on.isoformat())
    compose("termination_received", to=customer.email, language=customer.preferred_language,
            kind="termination_received", customer_id=customer.id, customer=customer,
            contract=contract, termination=termination, received_on=today,
            link=external_url("termination.overview"))
    # the acknowledgement of receipt goes out with this transaction (PKE: within one business day)
    termination.receipt_acknowledged_at = now
    db.session.flush()
    return termination, True


def withdraw_termination(customer: Customer, identity: Identity, *, today: date,
                         now: datetime | None = None) -> TerminationRequest:
    """Withdraw the open request, which is possible until its effective date."""
    now = now or utcnow()
    termination = open_termination(customer.id)
    if termination is None:
        raise TerminationError(_("There is no termination request to withdraw."))
    # one conditional write decides between a withdrawal and a run-due starting at the same moment
    withdrawn = db.session.execute(
        update(TerminationRequest)
        .where(TerminationRequest.id == termination.id,
               TerminationRequest.status == TerminationStatus.REQUESTED,
               TerminationRequest.effective_on > today)
        .values(status=TerminationStatus.WITHDRAWN, withdrawn_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if withdrawn != 1:
        raise TerminationError(_("The termination has already taken effect and can no longer be withdrawn."))
    db.session.refresh(termination)
    customer.contract.status = ContractStatus.ACTIVE
    audit.record("termination_withdrawn", actor_id=identity.id, customer_id=customer.id,
                 termination_id=termination.id)
    compose("termination_withdrawn", to=customer.email, language=customer.preferred_language,
            kind="termination_withdrawn", customer_id=customer.id, customer=customer,
            termination=termination)
    db.session.flush()
    return termination


# ---------------------------------------------------------------------------------------------
# the privacy officer's steps


def confirm_termination(termination_id: int, officer: Identity, *, now: datetime | None = None) -> TerminationRequest:
    """Confirm the request on a durable medium: exactly once, and never a withdrawn one.

    Raises TerminationError when the account is the officer's own or one they act for (four eyes).
    """
    now = now or utcnow()
    termination = db.session.get(TerminationRequest, termination_id)
    if staff_self(officer).concerns_customer(termination.customer_id):
        raise TerminationError(_("This concerns an account you own or act for; another privacy officer "
                                 "must decide it."))
    confirmed = db.session.execute(
        update(TerminationRequest)
        .where(TerminationRequest.id == termination_id, TerminationRequest.confirmed_at.is_(None),
               TerminationRequest.status != TerminationStatus.WITHDRAWN)
        .values(confirmed_at=now, confirmed_by_id=officer.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(termination)
    if confirmed != 1:
        if termination.status == TerminationStatus.WITHDRAWN:
            raise TerminationError(_("The customer withdrew this request; there is nothing to confirm."))
        raise TerminationError(_("This request was already confirmed."))
    customer = termination.customer
    audit.record("termination_confirmed", actor_id=officer.id, customer_id=customer.id,
                 termination_id=termination.id)
    compose("termination_confirmed", to=customer.email, language=customer.preferred_language,
            kind="termination_confirmed", customer_id=customer.id, customer=customer,
            contract=customer.contract, termination=termination,
            services=service_labels(customer.contract),
            link=external_url("termination.confirmation"))
    db.session.flush()
    return termination


def service_labels(contract: Contract | None) -> list:
    """The contract's services by name; lazy, so an e-mail renders them in the customer's language."""
    if contract is None:
        return []
    return [SERVICE_LABELS.get(code, code) for code in contract.service_codes]


@dataclass
class QueuePage:
    items: list[TerminationRequest]
    next_after: int | None
    # open requests, counted up to portal.queues.COUNT_CAP + 1 ("1000+"); None on the closed tab
    open_total: int | None = None


def staff_queue(show: str = "open", after: int | None = None, limit: int = 50) -> QueuePage:
    """Termination requests for the privacy officers: open ones oldest first (the nearest
    confirmation deadline first), closed ones newest first; keyset-paginated by id."""
    query = select(TerminationRequest).options(joinedload(TerminationRequest.customer))
    open_total = None
    if show == "closed":
        query = query.where(TerminationRequest.status.not_in(OPEN_STATUSES)).order_by(TerminationRequest.id.desc())
        if after is not None:
            query = query.where(TerminationRequest.id < after)
    else:
        # spelled as ix_termination_requests_open's predicate: only open requests are read
        is_open = status_is(TerminationRequest.status, *OPEN_STATUSES)
        open_total = bounded_count(select(TerminationRequest.id).where(is_open))
        query = query.where(is_open).order_by(TerminationRequest.id)
        if after is not None:
            query = query.where(TerminationRequest.id > after)
    items = list(db.session.scalars(query.limit(limit + 1)).unique())
    return QueuePage(items[:limit], items[limit - 1].id if len(items) > limit else None,
                     open_total)


# ---------------------------------------------------------------------------------------------
# carrying out: `flask portal run-due`


@dataclass
class Outcome:
    termination_id: int
    status: str  # completed | in_progress | skipped
    customer_number: str = ""
    deleted: int = 0  # recordings deleted by this run
    error: str | None = None


@dataclass
class RunReport:
    outcomes: list[Outcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    def summary(self) -> list[str]:
        lines = []
        for o in self.outcomes:
            if o.status == "completed":
                lines.append(f"termination {o.termination_id} ({o.customer_number}): completed, "
                             f"{o.deleted} recording(s) deleted by this run")
            elif o.status == "in_progress":
                lines.append(f"termination {o.termination_id} ({o.customer_number}): NOT completed, "
                             f"{o.deleted} recording(s) deleted by this run; {o.error}")
            else:
                lines.append(f"termination {o.termination_id}: skipped, another run is carrying it out")
        lines.append(f"{self.count('completed')} completed, {self.count('in_progress')} not completed, "
                     f"{self.count('skipped')} skipped")
        return lines


class _ClaimLost(Exception):
    """Another run took over this termination (this run's claim had expired)."""


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def due_terminations(today: date) -> list[int]:
    """Ids of the open terminations whose effective date has come."""
    return list(db.session.scalars(
        select(TerminationRequest.id).where(TerminationRequest.status.in_(OPEN_STATUSES),
                                            TerminationRequest.effective_on <= today)
        .order_by(TerminationRequest.id)
    ))


def run_due(*, today: date, now: datetime | None = None, store: RecordingStore | None = None,
            batch_size: int = BATCH_SIZE) -> RunReport:
    """Carry out every termination whose effective date has come; commits as it goes."""
    store = store or recording_store()
    started, start_clock = now or utcnow(), time.monotonic()

    def clock() -> datetime:
        # `now` lets tests and operators move the clock; it still advances during the run
        return started + timedelta(seconds=time.monotonic() - start_clock)

    run_id = uuid.uuid4().hex
    report = RunReport()
    due = due_terminations(today)
    db.session.rollback()
    for termination_id in due:
        if not _claim(termination_id, run_id, today, clock()):
            report.outcomes.append(Outcome(termination_id, "skipped"))
            continue
        try:
            report.outcomes.append(_carry_out(termination_id, run_id, store, clock, batch_size))
        except _ClaimLost:
            db.session.rollback()
            report.outcomes.append(Outcome(termination_id, "skipped"))
        except BaseException:
            # a crash: what was committed stays, the claim expires, the next run finishes
            db.session.rollback()
            raise
    return report


def _claim(termination_id: int, run_id: str, today: date, now: datetime) -> bool:
    """Take the termination for this run, unless another run holds an unexpired claim on it."""
    query = select(TerminationRequest).where(TerminationRequest.id == termination_id,
                                             TerminationRequest.status.in_(OPEN_STATUSES),
                                             TerminationRequest.effective_on <= today)
    if _postgresql():
        # a second run skips the row instead of waiting for it
        query = query.with_for_update(skip_locked=True)
    termination = db.session.scalar(query)
    if termination is None or (termination.claimed_by and termination.claimed_until > now):
        db.session.rollback()
        return False
    # SQLite takes no row lock: the write itself checks the claim is still free
    claimed = db.session.execute(
        update(TerminationRequest)
        .where(TerminationRequest.id == termination_id, TerminationRequest.status.in_(OPEN_STATUSES),
               or_(TerminationRequest.claimed_by.is_(None), TerminationRequest.claimed_until <= now))
        .values(claimed_by=run_id, claimed_until=now + CLAIM_LEASE, status=TerminationStatus.IN_PROGRESS)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        return False
    db.session.refresh(termination)
    if termination.started_at is None:
        termination.started_at = now
        audit.record("termination_started", customer_id=termination.customer_id,
                     termination_id=termination.id)
    db.session.commit()
    return True


def _hold(termination_id: int, run_id: str, now: datetime) -> TerminationRequest:
    """Lock the termination for this transaction and renew this run's claim on it."""
    query = select(TerminationRequest).where(TerminationRequest.id == termination_id)
    if _postgresql():
        query = query.with_for_update()
    termination = db.session.scalar(query.execution_options(populate_existing=True))
    if termination.claimed_by != run_id:
        raise _ClaimLost(termination_id)
    termination.claimed_until = now + CLAIM_LEASE
    return termination


def _revoke_delegates(customer: Customer, now: datetime) -> int:
    """Every authorized person of the customer loses access, and their sessions end."""
    delegates = db.session.scalars(
        select(Delegate).where(Delegate.customer_id == customer.id,
                               Delegate.status.in_(LIVE_DELEGATE_STATUSES))
    ).all()
    for delegate in delegates:
        delegate.status = DelegateStatus.REMOVED
        delegate.removed_at = now
        if delegate.identity_id is not None:
            revoke_identity_sessions(delegate.identity_id, "delegate_removed")
    if delegates:
        audit.record("termination_delegates_removed", customer_id=customer.id,
                     delegate_ids=[d.id for d in delegates])
    return len(delegates)


def _carry_out(termination_id: int, run_id: str, store: RecordingStore, clock, batch_size: int) -> Outcome:
    termination = _hold(termination_id, run_id, clock())
    customer = termination.customer
    outcome = Outcome(termination_id, "in_progress", customer.number)
    _revoke_delegates(customer, clock())
    receipt = termination.receipt
    if receipt is None:
        receipt = DeletionReceipt(termination_id=termination.id, customer_id=customer.id)
        db.session.add(receipt)
    db.session.commit()
    receipt_id, customer_id = receipt.id, customer.id

    while True:
        failures = _delete_recordings(termination_id, run_id, receipt_id, customer_id, store, clock,
                                      batch_size, outcome)
        termination = _hold(termination_id, run_id, clock())
        if failures:
            return _leave_in_progress(termination, failures, outcome)
        remaining = db.session.scalar(
            select(func.count(Recording.id)).join(Room).where(Room.customer_id == customer_id))
        if remaining == 0:
            _complete(termination, clock())
            db.session.commit()
            outcome.status = "completed"
            return outcome
        # recordings added while this run worked: go round again
        db.session.commit()


def _delete_recordings(termination_id, run_id, receipt_id, customer_id, store, clock, batch_size,
                       outcome: Outcome) -> dict[int, str]:
    """Delete every recording of the customer, a batch per transaction; returns those that failed."""
    failures: dict[int, str] = {}
    after_id = 0
    while True:
        _hold(termination_id, run_id, clock())
        batch = db.session.execute(
            select(Recording.id, Recording.file, Recording.title, Recording.size_bytes, Recording.sha256,
                   Room.name).join(Room)
            .where(Room.customer_id == customer_id, Recording.id > after_id)
            .order_by(Recording.id).limit(batch_size)
        ).all()
        if not batch:
            db.session.commit()
            return failures
        after_id = batch[-1].id
        # the files go first: a row is only ever written for a file that is gone
        outcome.deleted += receipt_documents.erase_batch(store, receipt_id, batch, failures, clock())
        db.session.commit()


def _leave_in_progress(termination: TerminationRequest, failures: dict[int, str], outcome: Outcome) -> Outcome:
    """Some files could not be deleted: the termination stays in progress, the error visible to staff."""
    shown = "; ".join(f"recording {rid}: {reason}" for rid, reason in list(failures.items())[:5])
    more = f" (and {len(failures) - 5} more)" if len(failures) > 5 else ""
    termination.last_error = f"{len(failures)} recording file(s) could not be deleted: {shown}{more}"
    # let the next run retry at once rather than after the claim expires
    termination.claimed_by = None
    termination.claimed_until = None
    audit.record("termination_deletion_failed", customer_id=termination.customer_id,
                 termination_id=termination.id, recording_ids=sorted(failures)[:100],
                 failed=len(failures))
    db.session.commit()
    outcome.error = termination.last_error
    return outcome


def receipt_document(termination: TerminationRequest, receipt: DeletionReceipt,
                     issued_at: datetime) -> tuple[str, int, int]:
    """The termination's receipt as the customer downloads it; see `receipt_documents.write`."""
    customer = termination.customer
    return receipt_documents.write(receipt, issued_at, customer.number, {
        "contract_number": customer.contract.number if customer.contract else None,
        "termination": {
            "id": termination.id,
            "requested_at": termination.requested_at.isoformat(timespec="seconds"),
            "effective_on": termination.effective_on.isoformat(),
        },
    })


def _complete(termination: TerminationRequest, now: datetime) -> None:
    """Every recording is gone: issue the receipt, end the contract, tell the customer."""
    customer = termination.customer
    _revoke_delegates(customer, now)
    receipt = termination.receipt
    document, recordings, total_bytes = receipt_document(termination, receipt, now)
    receipt.document = document
    receipt.document_sha256 = hashlib.sha256(document.encode()).hexdigest()
    receipt.issued_at = now
    receipt.recordings_count = recordings
    receipt.total_bytes = total_bytes
    termination.status = TerminationStatus.COMPLETED
    termination.completed_at = now
    termination.last_error = None
    termination.claimed_by = None
    termination.claimed_until = None
    if customer.contract is not None:
        customer.contract.status = ContractStatus.TERMINATED
        customer.contract.terminated_at = now
    audit.record("termination_completed", customer_id=customer.id, termination_id=termination.id,
                 recordings=receipt.recordings_count, bytes=receipt.total_bytes,
                 receipt_sha256=receipt.document_sha256)
    compose("termination_completed", to=customer.email, language=customer.preferred_language,
            kind="termination_completed", customer_id=customer.id, customer=customer,
            termination=termination, receipt=receipt, human_size=human_size)
