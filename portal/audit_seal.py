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

Sealing is triggered by every commit that appended events: on PostgreSQL it wakes the process's
sealing thread, which seals the commits of AUDIT_SEAL_DELAY at once (portal/audit_sealer.py); on
SQLite, or with a delay of 0, it runs right after the commit (non-blocking: skipped while another
sealer holds the lock). `flask portal run-due` and `verify-audit` seal too before they go on
(blocking, bounded). An unsealed event whose writer's MAC does not verify
(changed or forged before sealing) stops the sealer before it, and `verify-audit` names it.
"""
from __future__ import annotations

import hmac
import logging
import os
import threading
import time

from flask import current_app, has_app_context
from sqlalchemy import bindparam, event, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from portal.audit import GENESIS, PENDING, AuditEvent, AuditSealState, _digest, _event_mac
from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

SEAL_LOCK = 7244012  # pg advisory lock key of the sealer (7244011 is audit.lock_chain's)
BATCH = 2000  # events sealed per transaction at most
log = logging.getLogger(__name__)
_in_process = threading.Lock()  # one sealer per process at a time; the others skip
_stored_here: tuple | None = None  # the horizon this process's sealer stored last (horizon_id, xids)
_events = AuditEvent.__table__
_state = AuditSealState.__table__

# how a run ended: nothing settled left; a long backlog goes on; it stored a new horizon to wait for;
# the horizon this process stored still waits for its writers; the one another process's sealer
# stored does; another sealer holds the lock; a MAC failed
DONE, MORE, WAITING, SETTLING, PACED, BUSY, HALTED = "done", "more", "waiting", "settling", "paced", "busy", "halted"


def seal(*, wait: bool = False, timeout: float = 10.0) -> int:
    """Seal the committed unsealed events that are settled; return how many were sealed.

    `wait=False` (after a commit) returns at once when another sealer is busy or the rest must
    wait for writers still running; it goes on while whole batches (BATCH events) remain.
    `wait=True` (readers, verify, run-due) retries until nothing settled is left to seal or
    `timeout` seconds have passed. Needs an app context (the audit keys). Never raises on a
    busy database; a database error otherwise propagates.
    """
    return _seal(wait, timeout)[0]


def seal_counted(*, wait: bool = False, timeout: float = 10.0) -> tuple[int, str]:
    """As `seal`: (events sealed, how the last run ended): DONE (nothing settled left), WAITING
    (it stored a new horizon: the rest waits for writers running now), SETTLING (the horizon this
    process stored earlier still waits for its writers), PACED (the one another process's sealer
    stored does), BUSY (another sealer holds the lock), MORE (the timeout
    ended a long backlog) or HALTED (an event fails its writer's MAC)."""
    return _seal(wait, timeout)


def _seal(wait: bool, timeout: float) -> tuple[int, str]:
    deadline, total = time.monotonic() + timeout, 0
    while True:
        if not _in_process.acquire(blocking=wait, timeout=max(0.0, deadline - time.monotonic()) if wait else -1):
            return total, BUSY
        try:
            sealed, outcome = _seal_once(wait)
        finally:
            _in_process.release()
        total += sealed
        if outcome == MORE and time.monotonic() < deadline:
            continue  # a large transaction (an import): the next batch, in a new short transaction
        if not wait or outcome in (DONE, HALTED) or time.monotonic() >= deadline:
            return total, outcome
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


# one round trip: the lock, and (in the same snapshot) the stored horizon and the last id drawn.
# Reading the state before the lock is granted is harmless: every horizon ever stored is valid
# (its id was read before its transactions), so an outdated one only seals less.
_START = text("SELECT pg_try_advisory_xact_lock(:k) AS locked, set_config('synchronous_commit', 'off', true), "
              "s.id AS state, s.horizon_id, s.horizon_xids, (SELECT last_value FROM audit_events_id_seq) AS last_id "
              "FROM (SELECT 1) AS one LEFT JOIN audit_seal_state AS s ON s.id = 1")
# then, in a later statement, the writers that may still commit an id up to last_id (the view is
# a snapshot taken at its first use in a transaction: read once per sealing transaction)
_RUNNING = text("SELECT coalesce(string_agg(backend_xid::text, ','), '') FROM pg_stat_activity "
                "WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")


_SEAL_ROWS = text("UPDATE audit_events AS e SET seq = v.seq, prev_hash = v.prev_hash, hash = v.hash "
                  "FROM unnest(CAST(:ids AS bigint[]), CAST(:seqs AS integer[]), CAST(:prevs AS varchar[]), "
                  "CAST(:hashes AS varchar[])) AS v (id, seq, prev_hash, hash) WHERE e.id = v.id")


def _seal_postgresql(conn) -> tuple[int, str]:
    global _stored_here
    # seals are derived from durable events: a crash that loses one only leaves those events to
    # be sealed again, identically (same head, same events in id order), so the sealer's commit
    # need not wait for the disk (a later synchronous commit flushes it anyway)
    start = conn.execute(_START, {"k": SEAL_LOCK}).first()
    if not start.locked:
        return 0, BUSY
    state = start if start.state is not None else None
    last_id = start.last_id
    running = conn.scalar(_RUNNING)
    stored = state.horizon_id if state is not None else None
    if stored is not None and set(filter(None, state.horizon_xids.split(","))) & set(running.split(",")):
        # the stored horizon holds until its writers are done; stored by another process's
        # sealer, it is that sealer's to come back to (the sealing thread backs off)
        return 0, SETTLING if (stored, state.horizon_xids) == _stored_here else PACED
    # nothing running: every id drawn so far is settled; otherwise the stored horizon (checked
    # above) is, if there is one
    upto = last_id if not running else stored
    sealed, outcome = _seal_upto(conn, upto) if upto is not None else (0, DONE)
    if outcome == DONE:
        # what was settled is sealed; next, wait for the writers running now
        horizon, xids = (last_id, running) if running else (None, None)
        outcome = WAITING if running else DONE
    else:  # MORE or HALTED: the settled horizon stays, with nothing left to wait for
        horizon, xids = upto, ""
    if (horizon, xids) != (stored, state.horizon_xids if state is not None else None):
        _stored_here = (horizon, xids)
    if state is None:
        conn.execute(_state.insert().values(id=1, horizon_id=horizon, horizon_xids=xids, sealed_at=utcnow()))
    elif (horizon, xids) != (state.horizon_id, state.horizon_xids):  # no write when nothing changed
        conn.execute(_state.update().where(_state.c.id == 1)
                     .values(horizon_id=horizon, horizon_xids=xids, sealed_at=utcnow()))
    return sealed, outcome


def _seal_upto(conn, upto_id: int | None) -> tuple[int, str]:
    """Seal, in id order, up to BATCH committed unsealed events with id <= `upto_id` (None: all)."""
    # the sealed head and the events after it in one statement (the head's columns are InitPlans,
    # computed once; the id bound lets the primary key index start right after the head)
    sealed_ = _events.alias("sealed")

    def head(col):
        return (select(col).where(sealed_.c.seq.is_not(None)).order_by(sealed_.c.seq.desc()).limit(1)
                .scalar_subquery())

    query = (select(_events.c.id, _events.c.at, _events.c.kind, _events.c.actor_identity_id,
                    _events.c.customer_id, _events.c.data, _events.c.key_id, _events.c.mac,
                    head(sealed_.c.seq).label("head_seq"), head(sealed_.c.hash).label("head_hash"))
             .where(_events.c.seq.is_(None), _events.c.id > func.coalesce(head(sealed_.c.id), 0))
             .order_by(_events.c.id).limit(BATCH))
    if upto_id is not None:
        query = query.where(_events.c.id <= upto_id)
    keys = current_app.config["AUDIT_KEYS"]
    rows, sealed, outcome = conn.execute(query).all(), [], DONE
    seq, prev = (rows[0].head_seq or 0, rows[0].head_hash or GENESIS) if rows else (0, GENESIS)
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
    if sealed and conn.dialect.name == "postgresql":
        # one statement for the whole run, not one per event: the server plans and runs it once
        conn.execute(_SEAL_ROWS, {name: [row[key] for row in sealed] for name, key in
                                  (("ids", "event_id"), ("seqs", "seq"), ("prevs", "prev_hash"), ("hashes", "hash"))})
    elif sealed:
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
    """A transaction that appended events has committed: on PostgreSQL poke this process's sealing
    thread (AUDIT_SEAL_DELAY > 0, portal/audit_sealer.py); otherwise seal now, non-blocking (a
    delay of 0: tests, so what they read after a commit is sealed; SQLite, whose writers queue
    for one write lock anyway and whose in-memory databases share one connection between threads)."""
    if session.info.pop(PENDING, False) and has_app_context():
        delay = current_app.config.get("AUDIT_SEAL_DELAY", 0)
        try:
            if delay > 0 and db.engine.dialect.name == "postgresql":
                from portal import audit_sealer

                audit_sealer.poke(current_app._get_current_object(), delay)
            else:
                seal(wait=False)
        except Exception:  # the write itself is committed; sealing catches up at the next trigger
            log.exception("sealing the audit log after a commit failed")


def _after_fork_in_child() -> None:
    global _in_process, _stored_here
    _in_process = threading.Lock()  # it may have been held by a thread the child does not have
    _stored_here = None


os.register_at_fork(after_in_child=_after_fork_in_child)
