"""Sealing: chaining committed audit events in id order, a moment behind the writes (SPEC P11).

Writers insert events unsealed and take no lock (`portal.audit.record`). The sealer takes the
sealing lock for its own short transaction only, reads the sealed head, and gives the next
committed unsealed events, in id order, their `seq`, `prev_hash` and `hash`.

It must never seal past an event that may still commit: ids come from a sequence, so a writer
holding id 7 may commit after the writer of id 8. The sealer only seals a prefix of ids it
knows to be settled (every writer that drew an id in it has committed or rolled back):

* SQLite: the sealer's first statement is a write, so it holds SQLite's single write lock;
  no other write transaction is open, every id drawn so far is settled.
* PostgreSQL: a *horizon*. The sealer reads the sequence's last value L, then the ids of the
  transactions running in this database (pg_stat_activity.backend_xid). A writer obtains its
  transaction id before it draws an event id (`audit._NEXT_ID`), so every writer that drew an
  id <= L is either finished or in that list. Once none of the listed transactions is running
  any more (checked at a later run), every id <= L is settled and the committed ones are
  visible: the sealer seals them. The horizon is kept in `audit_seal_state` between runs.
  (A grace period alone would seal past a transaction that ran longer than the grace; this
  check waits exactly as long as the transactions that were open.)

Sealing is triggered after every commit that appended events (in-process, non-blocking: it is
skipped while another sealer holds the lock), by `flask portal run-due`, and by `verify-audit`
before it verifies (blocking, bounded). An unsealed event whose writer's MAC does not verify
(changed or forged before sealing) stops the sealer before it, and `verify-audit` names it.
"""
from __future__ import annotations

import hmac
import logging
import threading
import time

from flask import current_app, has_app_context
from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.audit import GENESIS, PENDING, AuditEvent, AuditSealState, _digest, _event_mac
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

SEAL_LOCK = 7244012  # pg advisory lock key of the sealer (7244011 is audit.lock_chain's)
BATCH = 2000  # events sealed per transaction at most
log = logging.getLogger(__name__)
_in_process = threading.Lock()  # one sealer per process at a time; the others skip
_events = AuditEvent.__table__
_state = AuditSealState.__table__

DONE, MORE, WAITING, BUSY, HALTED = "done", "more", "waiting", "busy", "halted"


def seal(*, wait: bool = False, timeout: float = 10.0) -> int:
    """Seal the committed unsealed events that are settled; return how many were sealed.

    `wait=False` (after a commit) tries once and returns at once when another sealer is busy.
    `wait=True` (readers, verify, run-due) retries until nothing settled is left to seal or
    `timeout` seconds have passed. Needs an app context (the audit keys). Never raises on a
    busy database; a database error otherwise propagates.
    """
    deadline, total = time.monotonic() + timeout, 0
    while True:
        if not _in_process.acquire(blocking=wait, timeout=max(0.0, deadline - time.monotonic()) if wait else -1):
            return total
        try:
            sealed, outcome = _seal_once(wait)
        finally:
            _in_process.release()
        total += sealed
        if not wait or outcome in (DONE, HALTED) or time.monotonic() >= deadline:
            return total
        if outcome != MORE:
            time.sleep(0.005)


def _seal_once(wait: bool) -> tuple[int, str]:
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            with conn.begin():
                return _seal_postgresql(conn)
        try:
            if not wait:
                conn.exec_driver_sql("PRAGMA busy_timeout = 0")
                conn.commit()
            with conn.begin():
                # a write first: from here SQLite's one write lock is ours, every id is settled
                _touch_state(conn)
                return _seal_upto(conn, None)
        except OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return 0, BUSY
            raise
        finally:
            if not wait:
                conn.exec_driver_sql("PRAGMA busy_timeout = 5000")
                conn.commit()


def _touch_state(conn) -> None:
    conn.execute(text("INSERT INTO audit_seal_state (id, sealed_at) VALUES (1, :now) "
                      "ON CONFLICT (id) DO UPDATE SET sealed_at = excluded.sealed_at")
                 .bindparams(bindparam("now", type_=UTCDateTime())), {"now": utcnow()})


def _seal_postgresql(conn) -> tuple[int, str]:
    if not conn.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SEAL_LOCK}):
        return 0, BUSY
    state = conn.execute(select(_state.c.horizon_id, _state.c.horizon_xids).where(_state.c.id == 1)).first()
    horizon, xids = (state.horizon_id, state.horizon_xids) if state else (None, None)
    total, outcome = 0, WAITING
    for _ in range(2):  # an old horizon that has settled, then a fresh one that may be settled already
        if horizon is None:
            horizon, xids = _new_horizon(conn)
        if xids and _running(conn, xids.split(",")):
            outcome = WAITING
            break
        sealed, outcome = _seal_upto(conn, horizon)
        total += sealed
        if outcome != DONE:
            break  # MORE keeps this horizon for the next transaction; HALTED keeps it too
        horizon = xids = None
    if state is None:
        conn.execute(_state.insert().values(id=1))
    conn.execute(_state.update().where(_state.c.id == 1)
                 .values(horizon_id=horizon, horizon_xids=xids, sealed_at=utcnow()))
    return total, outcome


def _new_horizon(conn) -> tuple[int, str]:
    """The sequence's last value, then (in that order) the writers that may still commit below it."""
    last = conn.scalar(text("SELECT last_value FROM audit_events_id_seq"))
    return last, ",".join(_running(conn))


def _running(conn, among: list[str] | None = None) -> list[str]:
    """Top-level transaction ids running in this database now (other than ours), as text."""
    conn.execute(text("SELECT pg_stat_clear_snapshot()"))  # the view is cached per transaction
    rows = conn.scalars(text(
        "SELECT backend_xid::text FROM pg_stat_activity WHERE datname = current_database() "
        "AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")).all()
    return [x for x in rows if among is None or x in among]


def _seal_upto(conn, upto_id: int | None) -> tuple[int, str]:
    """Seal, in id order, up to BATCH committed unsealed events with id <= `upto_id` (None: all)."""
    head = conn.execute(select(_events.c.id, _events.c.seq, _events.c.hash)
                        .where(_events.c.seq.is_not(None)).order_by(_events.c.seq.desc()).limit(1)).first()
    after_id, seq, prev = (head.id, head.seq, head.hash) if head else (0, 0, GENESIS)
    query = (select(_events.c.id, _events.c.at, _events.c.kind, _events.c.actor_identity_id,
                    _events.c.customer_id, _events.c.data, _events.c.key_id, _events.c.mac)
             .where(_events.c.seq.is_(None), _events.c.id > after_id).order_by(_events.c.id).limit(BATCH))
    if upto_id is not None:
        query = query.where(_events.c.id <= upto_id)
    keys = current_app.config["AUDIT_KEYS"]
    rows, sealed, outcome = conn.execute(query).all(), [], DONE
    for row in rows:
        if not writer_mac_fits(row, keys):
            log.error("audit event id %s fails its writer's MAC: sealing stops before it", row.id)
            outcome = HALTED
            break
        seq += 1
        digest = _digest(prev, seq, row.at, row.kind, row.actor_identity_id, row.customer_id, row.data,
                         row.key_id, keys[row.key_id])
        sealed.append({"event_id": row.id, "seq": seq, "prev_hash": prev, "hash": digest})
        prev = digest
    if sealed:
        conn.execute(update(_events).where(_events.c.id == bindparam("event_id"))
                     .values(seq=bindparam("seq"), prev_hash=bindparam("prev_hash"), hash=bindparam("hash")),
                     sealed)
    if outcome == DONE and len(rows) == BATCH:
        outcome = MORE
    return len(sealed), outcome


def writer_mac_fits(row, keys: dict[str, bytes]) -> bool:
    """Whether an unsealed event still carries its writer's MAC (row: id, at, kind, … , key_id, mac)."""
    key = keys.get(row.key_id)
    if key is None or row.mac is None:
        return False
    expected = _event_mac(row.id, row.at, row.kind, row.actor_identity_id, row.customer_id, row.data, row.key_id, key)
    return hmac.compare_digest(row.mac, expected)


@event.listens_for(Session, "after_commit")
def _seal_after_commit(session: Session) -> None:
    """A transaction that appended events triggers a non-blocking seal once it has committed."""
    if session.info.pop(PENDING, False) and has_app_context():
        try:
            seal(wait=False)
        except Exception:  # the write itself is committed; sealing catches up at the next trigger
            log.exception("sealing the audit log after a commit failed")
