"""Verifying the audit chain, incrementally from the last checkpoint (SPEC P11).

A run first seals what is settled (portal/audit_seal.py), then walks the sealed events in seq
order in batches, each read in its own short transaction, holding one batch in memory. It starts
from the last *checkpoint*: a head an earlier run found intact, kept in `audit_checkpoints`
(outside the table it verifies) under an HMAC of the audit key, so a database writer cannot
forge one that skips their edits. `full=True` walks from the first event. Tampering with events
before the checkpoint is found by a full walk; after it, by every run.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.audit import GENESIS, LEGACY, AuditCheckpoint, AuditEvent, _digest, _keys, _parse_head
from portal.audit_seal import seal, writer_mac_fits
from portal.db_types import utcnow
from portal.extensions import db

_events = AuditEvent.__table__
_checkpoints = AuditCheckpoint.__table__


@dataclass
class Verification:
    events: int  # events in the chain (the head's seq)
    broken_seq: int | None = None
    reason: str | None = None
    head: str | None = None  # "SEQ:HASH" of the newest event, for the operator to record
    checked: int = 0  # events walked by this run
    since: int | None = None  # the checkpoint's seq this run started after (None: from the start)
    pending: int = 0  # committed events not sealed yet (still settling)
    note: str | None = None  # e.g. why a stored checkpoint was not used

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


@dataclass
class _Start:
    seq: int
    hash: str
    id: int
    keys: dict[str, int]  # key id -> first seq signed with it


def verify(expected_head: str | None = None, batch: int = 5000, *, full: bool = False,
           checkpoint: bool = True) -> Verification:
    """Verify the chain; report the first event that does not fit.

    Each keyed event must carry the HMAC of its key; a key id that is not configured, or a
    legacy (unkeyed) event after a keyed one, is a break. Legacy events must be anchored by a
    keyed event after them, or a writer could re-hash the whole chain as legacy. A chain cannot
    tell on its own that its newest events were cut off: the checkpoint, and a head the operator
    recorded earlier (`expected_head`, `SEQ:HASH`, printed by every run), must still be there.
    `batch` bounds the events held in memory and read per transaction. With `checkpoint`, an
    intact result is stored as the next run's starting point. Raises ValueError for a malformed
    head.
    """
    anchor = _parse_head(expected_head) if expected_head else None
    seal(wait=True, timeout=5.0)
    _current, keys = _keys()
    start = None if full else _load_checkpoint(keys)
    if start is not None and not isinstance(start, _Start):
        result = _walk(None, anchor, keys, batch, checkpoint)
        result.note = start
        return result
    return _walk(start, anchor, keys, batch, checkpoint)


def _walk(start: _Start | None, anchor: tuple[int, str] | None, keys: dict[str, bytes], batch: int,
          checkpoint: bool) -> Verification:
    first_keys = dict(start.keys) if start else {}
    for key_id, first in sorted(first_keys.items(), key=lambda item: item[1]):
        if key_id != LEGACY and key_id not in keys:
            return Verification(start.seq, first, f"names the audit key {key_id!r}, which is not configured")
    if start:
        broken = _check_start(start, keys)
        if broken:
            return broken
    if anchor and start and anchor[0] <= start.seq:
        broken = _check_recorded_head(*anchor)
        if broken:
            return broken
    prev, expected_seq = (start.hash, start.seq + 1) if start else (GENESIS, 1)
    keyed, checked, last_id = start is not None, 0, start.id if start else 0
    floor_id = last_id
    while True:
        with db.engine.connect() as conn:  # one short transaction per batch
            rows = conn.execute(select(_events).where(_events.c.seq >= expected_seq)
                                .order_by(_events.c.seq).limit(batch)).all()
        for event in rows:
            checked += 1
            broken = _check_event(event, expected_seq, prev, keyed, keys, anchor)
            if broken:
                return Verification(expected_seq - 1, *broken, checked=checked)
            keyed = keyed or event.key_id != LEGACY
            first_keys.setdefault(event.key_id, event.seq)
            prev, expected_seq, last_id = event.hash, expected_seq + 1, event.id
        if len(rows) < batch:
            break
    count = expected_seq - 1
    if count and not keyed:
        return Verification(count, count, "no keyed event anchors the unkeyed events before it", checked=checked)
    if anchor is not None and anchor[0] >= expected_seq:
        return Verification(count, expected_seq, f"events {expected_seq}–{anchor[0]} of the recorded head are missing",
                            checked=checked)
    broken, pending = _check_unsealed(floor_id, last_id, keys)
    if broken:
        return Verification(count, count + 1, broken, checked=checked)
    result = Verification(count, head=f"{count}:{prev}", checked=checked, since=start.seq if start else None,
                          pending=pending)
    if checkpoint and count and (start is None or count > start.seq):
        _store_checkpoint(count, prev, first_keys)
    return result


def _check_event(event, expected_seq: int, prev: str, keyed: bool, keys: dict[str, bytes],
                 anchor: tuple[int, str] | None) -> tuple[int, str] | None:
    if event.seq != expected_seq:
        return expected_seq, f"event {expected_seq} is missing"
    if event.prev_hash != prev:
        return event.seq, "does not follow the event before it"
    if event.key_id == LEGACY and keyed:
        return event.seq, "is unkeyed but follows keyed events"
    if event.key_id != LEGACY and event.key_id not in keys:
        return event.seq, f"names the audit key {event.key_id!r}, which is not configured"
    if not hmac.compare_digest(event.hash, _digest(
            prev, event.seq, event.at, event.kind, event.actor_identity_id, event.customer_id, event.data,
            event.key_id, keys.get(event.key_id))):
        return event.seq, "was changed after it was written"
    if anchor and event.seq == anchor[0] and event.hash != anchor[1]:
        return event.seq, "differs from the recorded head"
    return None


def _check_start(start: _Start, keys: dict[str, bytes]) -> Verification | None:
    """The checkpoint's event must still be there, unchanged (its own HMAC recomputed)."""
    with db.engine.connect() as conn:
        event = conn.execute(select(_events).where(_events.c.seq == start.seq)).first()
        if event is None:
            present = conn.scalar(select(func.max(_events.c.seq)).where(_events.c.seq < start.seq)) or 0
            return Verification(present, present + 1,
                                f"events {present + 1}–{start.seq} of the verified checkpoint are missing")
    if event.hash != start.hash or event.key_id not in keys or not hmac.compare_digest(event.hash, _digest(
            event.prev_hash, event.seq, event.at, event.kind, event.actor_identity_id, event.customer_id,
            event.data, event.key_id, keys[event.key_id])):
        return Verification(start.seq, start.seq, "was changed after it was verified (checkpoint)")
    start.id = event.id
    return None


def _check_recorded_head(seq: int, digest: str) -> Verification | None:
    with db.engine.connect() as conn:
        stored = conn.scalar(select(_events.c.hash).where(_events.c.seq == seq))
    if stored is None:
        return Verification(seq - 1, seq, f"event {seq} of the recorded head is missing")
    if stored != digest:
        return Verification(seq, seq, "differs from the recorded head")
    return None


def _check_unsealed(floor_id: int, head_id: int, keys: dict[str, bytes]) -> tuple[str | None, int]:
    """Unsealed events below the sealed head were written into its past (the sealer never leaves
    one behind); the first one after it must still carry its writer's MAC. Returns (break, pending)."""
    with db.engine.connect() as conn:
        stray = conn.scalar(select(func.min(_events.c.id)).where(
            _events.c.seq.is_(None), _events.c.id > floor_id, _events.c.id < head_id))
        if stray is not None:
            return f"an unsealed event (id {stray}) was inserted among the sealed ones", 0
        waiting = conn.execute(select(_events).where(_events.c.seq.is_(None), _events.c.id > head_id)
                               .order_by(_events.c.id).limit(1)).first()
        if waiting is not None and not writer_mac_fits(waiting, keys):
            return f"the unsealed event id {waiting.id} was changed or forged before it was sealed", 0
        pending = conn.scalar(select(func.count()).where(_events.c.seq.is_(None), _events.c.id > head_id))
    return None, pending


def _checkpoint_mac(seq: int, digest: str, key_ids: str, verified_at, key: bytes) -> str:
    body = json.dumps(["checkpoint", seq, digest, key_ids, verified_at.isoformat(timespec="microseconds")],
                      separators=(",", ":")).encode()
    return hmac.new(key, body, "sha256").hexdigest()


def _load_checkpoint(keys: dict[str, bytes]) -> _Start | str | None:
    """The newest stored checkpoint, None when there is none, or why it cannot be trusted."""
    with db.engine.connect() as conn:
        row = conn.execute(select(_checkpoints).order_by(_checkpoints.c.id.desc()).limit(1)).first()
    if row is None:
        return None
    key = keys.get(row.mac_key_id)
    if key is None:
        return f"the checkpoint's key {row.mac_key_id!r} is not configured: full walk"
    if not hmac.compare_digest(row.mac, _checkpoint_mac(row.seq, row.hash, row.key_ids, row.verified_at, key)):
        return "the stored checkpoint does not carry the audit key's MAC (tampered?): full walk"
    return _Start(row.seq, row.hash, 0, json.loads(row.key_ids))


def _store_checkpoint(seq: int, digest: str, first_keys: dict[str, int]) -> None:
    key_id, keys = _keys()
    key_ids, at = json.dumps(first_keys, sort_keys=True, separators=(",", ":")), utcnow()
    with db.engine.begin() as conn:
        conn.execute(_checkpoints.insert().values(
            seq=seq, hash=digest, key_ids=key_ids, verified_at=at, mac_key_id=key_id,
            mac=_checkpoint_mac(seq, digest, key_ids, at, keys[key_id])))
