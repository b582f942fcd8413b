"""The append-only, hash-chained audit log (SPEC P11).

Each event stores the hash of the one before it, so editing or deleting any row breaks the
chain at that row; `flask portal verify-audit` walks it and names the first broken event.

The hash is an HMAC-SHA256 (RFC 2104) under PORTAL_AUDIT_KEY, which lives only in the
environment: someone who can write the table but not read the key cannot recompute the hashes
after an edit. Each event names the id of the key it was written under, so after a rotation the
older events still verify with the earlier key (kept in PORTAL_AUDIT_KEY after the current one).
Events written before the chain was keyed carry the key id `legacy` and a plain SHA-256; they
may only open the chain, and the first keyed event, whose HMAC covers their head, anchors them.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import ForeignKey, Integer, String, Text, column, insert, select, text
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

GENESIS = "0" * 64
LEGACY = "legacy"  # the key id of events written before the chain was keyed


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
    key_id: Mapped[str] = mapped_column(String(32))

    @property
    def details(self) -> dict:
        return json.loads(self.data)


def _digest(prev_hash: str, seq: int, at: datetime, kind: str, actor: int | None,
            customer: int | None, data: str, key_id: str = LEGACY, key: bytes | None = None) -> str:
    """The event's hash: HMAC-SHA256 under `key` over its fields and key id, or for a legacy
    event the plain SHA-256 of its fields, as written before the chain was keyed."""
    fields = [prev_hash, seq, at.isoformat(timespec="microseconds"), kind, actor, customer, data]
    if key_id != LEGACY:
        fields.append(key_id)
    body = json.dumps(fields, separators=(",", ":"), ensure_ascii=False).encode()
    if key_id == LEGACY:
        return hashlib.sha256(body).hexdigest()
    if key is None:
        raise ValueError(f"no key for audit key id {key_id!r}")
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _keys() -> tuple[str, dict[str, bytes]]:
    return current_app.config["AUDIT_KEY_ID"], current_app.config["AUDIT_KEYS"]


def lock_chain() -> None:
    """Serialize appends so two transactions never extend the same head. A caller that decides
    whether to append from earlier events takes it first, so its decision holds (PostgreSQL's
    advisory lock until the transaction ends; SQLite serializes writers by itself)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(7244011)"))


def record(kind: str, *, actor_id: int | None = None, customer_id: int | None = None,
           **data) -> AuditEvent:
    """Append an event to the chain inside the current transaction (flushes, never commits)."""
    lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    at = utcnow()
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    key_id, keys = _keys()
    event = AuditEvent(
        seq=seq, at=at, kind=kind, actor_identity_id=actor_id, customer_id=customer_id,
        data=payload, prev_hash=prev, key_id=key_id,
        hash=_digest(prev, seq, at, kind, actor_id, customer_id, payload, key_id, keys[key_id]),
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

    Each keyed event must carry the HMAC of its key; a key id that is not configured, or a
    legacy (unkeyed) event after a keyed one, is a break. Legacy events must be anchored by a
    keyed event after them, or a writer could re-hash the whole chain as legacy.
    A chain cannot tell on its own that its newest events were cut off, so the operator may
    pass a head recorded earlier (`SEQ:HASH`, printed by every run): that event must still be
    there, unchanged.
    """
    anchor_seq, anchor_hash = _parse_head(expected_head) if expected_head else (None, None)
    _current, keys = _keys()
    prev, expected_seq, count, keyed = GENESIS, 1, 0, False
    query = select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
    for event in db.session.scalars(query):
        count += 1
        if event.seq != expected_seq:
            return Verification(count, expected_seq, f"event {expected_seq} is missing")
        if event.prev_hash != prev:
            return Verification(count, event.seq, "does not follow the event before it")
        if event.key_id == LEGACY and keyed:
            return Verification(count, event.seq, "is unkeyed but follows keyed events")
        if event.key_id != LEGACY and event.key_id not in keys:
            return Verification(count, event.seq, f"names the audit key {event.key_id!r}, which is not configured")
        if not hmac.compare_digest(event.hash, _digest(
                prev, event.seq, event.at, event.kind, event.actor_identity_id, event.customer_id, event.data,
                event.key_id, keys.get(event.key_id))):
            return Verification(count, event.seq, "was changed after it was written")
        if event.seq == anchor_seq and event.hash != anchor_hash:
            return Verification(count, event.seq, "differs from the recorded head")
        keyed = keyed or event.key_id != LEGACY
        prev, expected_seq = event.hash, expected_seq + 1
    if count and not keyed:
        return Verification(count, count, "no keyed event anchors the unkeyed events before it")
    if anchor_seq is not None and anchor_seq >= expected_seq:
        return Verification(count, expected_seq, f"events {expected_seq}–{anchor_seq} of the recorded head are missing")
    return Verification(count, head=f"{expected_seq - 1}:{prev}")


def anchor_legacy(connection) -> int | None:
    """Anchor events written before the chain was keyed: append one keyed event after them.

    Used once by the migration that introduces the key (it runs in the app's context, so the
    key is at hand). Returns the new event's seq, or None when there was nothing to anchor.
    """
    # the columns as this migration knows them, whatever later migrations add
    table = sa_table("audit_events", column("seq", Integer), column("at", UTCDateTime()), column("kind", String),
                     column("actor_identity_id", Integer), column("customer_id", Integer), column("data", Text),
                     column("prev_hash", String), column("hash", String), column("key_id", String))
    head = connection.execute(select(table.c.seq, table.c.hash).order_by(table.c.seq.desc()).limit(1)).first()
    if head is None:
        return None
    key_id, keys = _keys()
    seq, at = head.seq + 1, utcnow()
    payload = json.dumps({"legacy_events": head.seq}, sort_keys=True, separators=(",", ":"))
    connection.execute(table.insert().values(
        seq=seq, at=at, kind="audit_chain_keyed", actor_identity_id=None, customer_id=None, data=payload,
        prev_hash=head.hash, key_id=key_id,
        hash=_digest(head.hash, seq, at, "audit_chain_keyed", None, None, payload, key_id, keys[key_id])))
    return seq


def _parse_head(value: str) -> tuple[int, str]:
    seq, _, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise ValueError("a head looks like SEQ:HASH, as printed by verify-audit")
    return int(seq), digest


def record_many(kind: str, events: list[dict]) -> int:
    """Append one `kind` event per item of `events` (each a dict of `actor_id`, `customer_id` and
    details, as record() takes them), in order, with one multi-row insert: the same chain as
    calling record() for each, for writers of many events (the CRM import). Flushes, never
    commits; returns the number of events appended."""
    if not events:
        return 0
    lock_chain()
    head = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (head.seq, head.hash) if head else (0, GENESIS)
    key_id, keys = _keys()
    rows = []
    for item in events:
        data = dict(item)
        actor, customer = data.pop("actor_id", None), data.pop("customer_id", None)
        seq, at = seq + 1, utcnow()
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        digest = _digest(prev, seq, at, kind, actor, customer, payload, key_id, keys[key_id])
        rows.append({"seq": seq, "at": at, "kind": kind, "actor_identity_id": actor, "customer_id": customer,
                     "data": payload, "prev_hash": prev, "hash": digest, "key_id": key_id})
        prev = digest
    db.session.execute(insert(AuditEvent), rows)
    return len(rows)
