"""Deleting recordings on the owner's request or when a room's retention period passes, through
the same crash-safe steps as a termination (SPEC P9; GDPR art. 17 and 5(1)(e)).

A deletion has two phases. `start_deletion` opens a `DeletionReceipt` and marks the recordings
with it in one transaction: from its commit on, nobody sees them (owner, authorized persons, the
next range of a download in progress). `finish_deletion` then removes them a batch per
transaction: the files first (durable when `delete_many` returns), then, together, a
`DeletedRecording` row for each file that is gone and the deletion of its `Recording` row. A run
killed between the two leaves marked rows whose files may be gone; `finish_unfinished` (called by
every `flask portal run-due`) removes them again — a file already gone is not an error — and
records each exactly once (one row per recording and receipt, unique). Once no marked row is
left, the receipt is issued: its JSON document, checksum, totals, the audit event.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.customers.models import Customer, Recording, Room
from portal.db_types import utcnow
from portal.extensions import db
from portal.mail import compose
from portal.storage import RecordingStore
from portal.termination import receipt_documents
from portal.termination.models import DeletionReason, DeletionReceipt
from portal.web.links import external_url

BATCH_SIZE = 1000


class DeletionFailed(Exception):
    """Some files could not be deleted; the recordings stay marked and the next run retries."""

    def __init__(self, receipt_id: int, failures: dict[int, str]):
        shown = "; ".join(f"recording {rid}: {why}" for rid, why in list(failures.items())[:5])
        super().__init__(f"receipt {receipt_id}: {len(failures)} file(s) could not be deleted: {shown}")
        self.receipt_id = receipt_id
        self.failures = failures


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def start_deletion(customer_id: int, condition, *, reason: str, requested_by_id: int | None = None,
                   now: datetime | None = None) -> DeletionReceipt | None:
    """Open a receipt and mark with it the customer's not yet marked recordings that meet
    `condition` (an SQL expression on `Recording`). Returns None, leaving nothing behind, when no
    recording matched. Flushes; the caller commits, and from then on the recordings are gone for
    everybody; it then calls `finish_deletion`."""
    receipt = DeletionReceipt(customer_id=customer_id, reason=reason, requested_by_id=requested_by_id,
                              created_at=now or utcnow())
    db.session.add(receipt)
    db.session.flush()
    own_rooms = select(Room.id).where(Room.customer_id == customer_id).scalar_subquery()
    marked = db.session.execute(
        update(Recording)
        .where(Recording.room_id.in_(own_rooms), Recording.deletion_receipt_id.is_(None), condition)
        .values(deletion_receipt_id=receipt.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not marked:
        db.session.delete(receipt)
        db.session.flush()
        return None
    audit.record("recordings_deletion_started", actor_id=requested_by_id, customer_id=customer_id,
                 receipt_id=receipt.id, reason=reason, recordings=marked)
    return receipt


def _lock(receipt_id: int) -> DeletionReceipt:
    query = select(DeletionReceipt).where(DeletionReceipt.id == receipt_id)
    if _postgresql():
        # two runs finishing one receipt take turns batch by batch
        query = query.with_for_update()
    return db.session.scalar(query.execution_options(populate_existing=True))


def finish_deletion(receipt_id: int, store: RecordingStore, *, clock: Callable[[], datetime] = utcnow,
                    batch_size: int = BATCH_SIZE) -> int:
    """Delete every recording marked with the receipt, then issue it. Returns the number of
    recordings this call deleted. Commits after every batch. Raises DeletionFailed (after issuing
    nothing) when a file could not be removed; calling again later finishes the rest."""
    deleted = 0
    failures: dict[int, str] = {}
    after_id = 0
    while True:
        receipt = _lock(receipt_id)
        if receipt is None or receipt.issued_at is not None:
            db.session.commit()
            return deleted
        batch = db.session.execute(
            select(Recording.id, Recording.file, Recording.title, Recording.size_bytes, Recording.sha256,
                   Room.name).join(Room)
            .where(Recording.deletion_receipt_id == receipt_id, Recording.id > after_id)
            .order_by(Recording.id).limit(batch_size)
        ).all()
        if not batch:
            if failures:
                db.session.rollback()
                audit.record("recordings_deletion_failed", customer_id=receipt.customer_id,
                             receipt_id=receipt_id, failed=len(failures), recording_ids=sorted(failures)[:100])
                db.session.commit()
                raise DeletionFailed(receipt_id, failures)
            _issue(receipt, clock())
            db.session.commit()
            return deleted
        after_id = batch[-1].id
        # the files go first: a row is only ever written for a file that is gone
        try:
            removed = receipt_documents.erase_batch(store, receipt_id, batch, failures, clock())
            db.session.commit()
        except IntegrityError:
            # another run recorded this batch a moment ago (SQLite takes no row lock): it counts once
            db.session.rollback()
            continue
        deleted += removed


def finish_unfinished(store: RecordingStore, *, clock: Callable[[], datetime] = utcnow,
                      batch_size: int = BATCH_SIZE) -> tuple[int, list[DeletionFailed]]:
    """Finish every deletion that a crash or a failed file left open (not terminations: their own
    run carries them). Returns (recordings deleted, the failures)."""
    open_ids = db.session.scalars(
        select(DeletionReceipt.id).where(DeletionReceipt.issued_at.is_(None),
                                         DeletionReceipt.termination_id.is_(None))
        .order_by(DeletionReceipt.id)).all()
    db.session.commit()
    deleted, failures = 0, []
    for receipt_id in open_ids:
        try:
            deleted += finish_deletion(receipt_id, store, clock=clock, batch_size=batch_size)
        except DeletionFailed as failure:
            failures.append(failure)
    return deleted, failures


def _issue(receipt: DeletionReceipt, now: datetime) -> None:
    """Every marked recording is gone: write the receipt's document, tell the activity log and,
    for a retention run, the customer by e-mail — all in one transaction, exactly once: the
    write is conditional, so of two runs finishing one receipt only one issues it."""
    document, count, total = receipt_document(receipt, now)
    digest = hashlib.sha256(document.encode()).hexdigest()
    issued = db.session.execute(
        update(DeletionReceipt).where(DeletionReceipt.id == receipt.id, DeletionReceipt.issued_at.is_(None))
        .values(document=document, document_sha256=digest, issued_at=now, recordings_count=count, total_bytes=total)
        .execution_options(synchronize_session=False)).rowcount
    if issued != 1:
        db.session.rollback()
        return
    db.session.refresh(receipt)
    audit.record("recordings_deleted", actor_id=receipt.requested_by_id, customer_id=receipt.customer_id,
                 receipt_id=receipt.id, reason=receipt.reason, recordings=count, bytes=total,
                 receipt_sha256=digest)
    if receipt.reason == DeletionReason.RETENTION:
        _tell_customer(receipt)


def _tell_customer(receipt: DeletionReceipt) -> None:
    """The e-mail summary of a retention run's deletion (queued in the outbox, same transaction)."""
    from portal.termination.services import human_size

    customer = db.session.get(Customer, receipt.customer_id)
    compose("recordings_expired", to=customer.email, language=customer.preferred_language,
            kind="recordings_expired", customer_id=customer.id, customer=customer, receipt=receipt,
            human_size=human_size, link=external_url("recording_control.receipt", receipt_id=receipt.id))


def receipt_document(receipt: DeletionReceipt, issued_at: datetime) -> tuple[str, int, int]:
    """The receipt as the customer downloads it; see `receipt_documents.write`."""
    customer = db.session.get(Customer, receipt.customer_id)
    return receipt_documents.write(receipt, issued_at, customer.number, {
        "reason": receipt.reason,
        # who asked: the owner (deletion on request) or nobody (the retention the owner set)
        "requested_by": "owner" if receipt.reason == DeletionReason.ON_REQUEST else "retention period",
        "requested_at": receipt.created_at.isoformat(timespec="seconds") if receipt.created_at else None,
    })


@dataclass
class Selected:
    """Recordings the owner picked, as the confirmation page names them."""

    recordings: list
    total_bytes: int


def owned_selection(customer_id: int, recording_ids: list[int]) -> Selected:
    """The owner's own, not yet deleted recordings among `recording_ids` (others are ignored:
    never a way to learn that an id exists), newest first, with their rooms."""
    rows = db.session.execute(
        select(Recording, Room.name).join(Room)
        .where(Room.customer_id == customer_id, Recording.id.in_(recording_ids),
               Recording.deletion_receipt_id.is_(None))
        .order_by(Recording.started_at.desc(), Recording.id.desc())
    ).all() if recording_ids else []
    return Selected([(recording, room) for recording, room in rows], sum(r.size_bytes for r, _ in rows))


def delete_now(customer_id: int, identity_id: int, recording_ids: list[int], store: RecordingStore) -> int | None:
    """The owner deletes these recordings of theirs now (GDPR art. 17). Returns the receipt id,
    or None when none of the ids was theirs. Commits; raises DeletionFailed when a file could not
    be removed (the recordings stay hidden and `run-due` finishes the deletion)."""
    receipt = start_deletion(customer_id, Recording.id.in_(recording_ids), reason=DeletionReason.ON_REQUEST,
                             requested_by_id=identity_id)
    if receipt is None:
        db.session.rollback()
        return None
    receipt_id = receipt.id
    db.session.commit()
    finish_deletion(receipt_id, store)
    return receipt_id


def receipts_of(customer_id: int, before: int | None = None, limit: int = 20) -> list[DeletionReceipt]:
    """The customer's issued receipts of deletions on request and by retention, newest first
    (keyset: pass the last id seen as `before`)."""
    query = (select(DeletionReceipt)
             .where(DeletionReceipt.customer_id == customer_id, DeletionReceipt.termination_id.is_(None),
                    DeletionReceipt.issued_at.is_not(None))
             .order_by(DeletionReceipt.id.desc()).limit(limit))
    if before is not None:
        query = query.where(DeletionReceipt.id < before)
    return list(db.session.scalars(query))


def open_receipt_count(customer_id: int) -> int:
    return db.session.scalar(select(func.count(DeletionReceipt.id)).where(
        DeletionReceipt.customer_id == customer_id, DeletionReceipt.issued_at.is_(None),
        DeletionReceipt.termination_id.is_(None))) or 0
