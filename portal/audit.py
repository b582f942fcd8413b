"""The append-only, hash-chained audit log (SPEC P11).

Each event stores the hash of the one before it, so editing or deleting any row breaks the
chain at that row; `flask portal verify-audit` walks it and names the first broken event.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

GENESIS = "0" * 64


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    # the customer whose data the event touched: their activity log shows it
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    @property
    def details(self) -> dict:
        return json.loads(self.data)


def _digest(prev_hash: str, seq: int, at: datetime, kind: str, actor: int | None,
            customer: int | None, data: str) -> str:
    body = json.dumps(
        [prev_hash, seq, at.isoformat(timespec="microseconds"), kind, actor, customer, data],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _lock_chain() -> None:
    """Serialize appends so two transactions never extend the same head."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7244011)"))


def record(kind: str, *, actor_id: int | None = None, customer_id: int | None = None,
           **data) -> AuditEvent:
    """Append an event to the chain inside the current transaction (flushes, never commits)."""
    _lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    at = utcnow()
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    event = AuditEvent(
        seq=seq, at=at, kind=kind, actor_identity_id=actor_id, customer_id=customer_id,
        data=payload, prev_hash=prev,
        hash=_digest(prev, seq, at, kind, actor_id, customer_id, payload),
    )
    db.session.add(event)
    db.session.flush()
    return event


@dataclass
class Verification:
    events: int
    broken_seq: int | None = None
    reason: str | None = None
    head: str | None = None  # "SEQ:HASH" of the newest event, for the operator to record

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify(expected_head: str | None = None, batch: int = 5000) -> Verification:
    """Walk the whole chain in order; report the first event that does not fit.

    A chain cannot tell on its own that its newest events were cut off, so the operator may
    pass a head recorded earlier (`SEQ:HASH`, printed by every run): that event must still be
    there, unchanged.
    """
    anchor_seq, anchor_hash = _parse_head(expected_head) if expected_head else (None, None)
    prev, expected_seq, count = GENESIS, 1, 0
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for event in db.session.scalars(query):
        count += 1
        if event.seq != expected_seq:
            return Verification(count, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return Verification(count, event.seq, "does not follow the event before it")
        if event.hash != _digest(prev, event.seq, event.at, event.kind, event.actor_identity_id,
                                 event.customer_id, event.data):
            return Verification(count, event.seq, "was changed after it was written")
        if event.seq == anchor_seq and event.hash != anchor_hash:
            return Verification(count, event.seq, "differs from the recorded head")
        prev, expected_seq = event.hash, expected_seq + 1
    if anchor_seq is not None and anchor_seq >= expected_seq:
        return Verification(count, expected_seq, f"events {expected_seq}–{anchor_seq} of the recorded head are missing")
    return Verification(count, head=f"{expected_seq - 1}:{prev}")


def _parse_head(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ValueError("a head looks like SEQ:HASH, as printed by verify-audit")
    return int(seq), digest
