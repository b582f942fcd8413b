"""The append-only, hash-chained audit log (SPEC P11).

Writers append events without any shared lock: an event is inserted *unsealed* (no `seq`,
`prev_hash` or `hash` yet), ordered by its id, with a MAC of its own fields under the audit key.
A sealer (`portal.audit_seal`) then chains the committed events in id order a moment later:
each sealed event stores the hash of the one before it, so editing or deleting any sealed row
breaks the chain at that row; `flask portal verify-audit` walks it (from the last verified
checkpoint, `portal.audit_verify`) and names the first broken event.

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
from datetime import datetime
from typing import NamedTuple

from flask import current_app
from sqlalchemy import BigInteger, bindparam, ForeignKey, Integer, String, Text, column, insert, select, text, update
from sqlalchemy import table as sa_table
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db

# Callables returning details every event gets besides its own (the request id: portal/observability).
# Kept apart from the chain: the details are hashed like any others.
DETAIL_HOOKS: list = []

GENESIS = "0" * 64
LEGACY = "legacy"  # the key id of events written before the chain was keyed
PENDING = "audit_events_to_seal"  # session.info flag: this transaction appended events
# PostgreSQL: the writer's transaction id is assigned *before* its event id is drawn, so a
# sealer that reads the sequence and then the running transactions sees every writer that may
# still commit an id below what it read (see portal/audit_seal.py). The subquery's value is used
# (filter and output), or the planner drops the call and nextval runs first.
_NEXT_ID = text("SELECT nextval('audit_events_id_seq') AS id, w.xid FROM (SELECT pg_current_xact_id() AS xid "
                "OFFSET 0) AS w WHERE w.xid IS NOT NULL")


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    # position in the chain; None until the sealer chains the event (ids order the log meanwhile)
    seq: Mapped[int | None] = mapped_column(Integer, unique=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(64), index=True)
    actor_identity_id: Mapped[int | None] = mapped_column(ForeignKey("identities.id"), index=True)
    # the customer whose data the event touched: their activity log shows it
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    data: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(String(32))
    # the writer's HMAC over the event's own fields and id: the sealer refuses an event changed
    # or forged between its write and its sealing
    mac: Mapped[str | None] = mapped_column(String(64))

    @property
    def details(self) -> dict:
        return json.loads(self.data)

    @property
    def sealed(self) -> bool:
        return self.seq is not None


_TABLE = AuditEvent.__table__
_INSERT = insert(_TABLE)
_SET_MAC = update(_TABLE).where(_TABLE.c.id == bindparam("event_id")).values(mac=bindparam("mac"))


class AuditSealState(db.Model):
    """The sealer's one row: the horizon it waits on (PostgreSQL), see portal/audit_seal.py."""
    __tablename__ = "audit_seal_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    horizon_id: Mapped[int | None] = mapped_column(BigInteger)
    horizon_xids: Mapped[str | None] = mapped_column(Text)
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditCheckpoint(db.Model):
    """A head that `verify-audit` found intact, kept outside the table it verifies and MACed
    under the audit key, so the next run walks only the events after it."""
    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
    # {key id: first seq signed with it} up to this head, so a key dropped too soon is still named
    key_ids: Mapped[str] = mapped_column(Text)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    mac_key_id: Mapped[str] = mapped_column(String(32))
    mac: Mapped[str] = mapped_column(String(64))


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


def _event_mac(event_id: int, at: datetime, kind: str, actor: int | None, customer: int | None,
               data: str, key_id: str, key: bytes) -> str:
    """The writer's HMAC-SHA256 over an unsealed event's id and fields (no chain position yet)."""
    body = json.dumps(["event", event_id, at.isoformat(timespec="microseconds"), kind, actor, customer,
                       data, key_id], separators=(",", ":"), ensure_ascii=False).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def _keys() -> tuple[str, dict[str, bytes]]:
    return current_app.config["AUDIT_KEY_ID"], current_app.config["AUDIT_KEYS"]


def _postgresql() -> bool:
    return db.session.get_bind().dialect.name == "postgresql"


def lock_chain(*scope: object) -> None:
    """Serialize callers that decide whether to append from earlier events, so the decision holds
    until their transaction ends (PostgreSQL's advisory transaction lock; SQLite serializes
    writers by itself). `scope` narrows the lock (e.g. to one identity); appends themselves take
    no lock. Without a scope every such caller shares one lock."""
    if _postgresql():
        key = int.from_bytes(hashlib.sha256(repr(("audit", *scope)).encode()).digest()[:8], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key if scope else 7244011})


class Appended(NamedTuple):
    """An event as record() wrote it: unsealed, so `seq`, `prev_hash` and `hash` are None."""
    id: int
    at: datetime
    kind: str
    actor_identity_id: int | None
    customer_id: int | None
    data: str
    key_id: str
    mac: str
    seq: None = None
    prev_hash: None = None
    hash: None = None


def record(kind: str, *, actor_id: int | None = None, customer_id: int | None = None,
           **data) -> Appended:
    """Append an unsealed event inside the current transaction (flushes, never commits).

    No lock is taken: the event gets its place in the chain when the sealer runs, after this
    transaction commits (portal/audit_seal.py). Returns the event as written (`id`, `mac`, its
    fields; not an ORM object: load an AuditEvent by id to see it sealed).
    """
    at = utcnow()
    for hook in DETAIL_HOOKS:
        data = {**hook(), **data}
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    key_id, keys = _keys()
    row = {"at": at, "kind": kind, "actor_identity_id": actor_id, "customer_id": customer_id, "data": payload,
           "key_id": key_id}
    # what the event may refer to (a new customer, identity) is written first, as a flush would
    db.session.flush()
    # two statements on the session's connection, not the ORM's unit of work: an audited write is
    # mostly this append, and the ORM's object and flush bookkeeping cost more than the statements
    conn = db.session.connection()
    if conn.dialect.name == "postgresql":
        row["id"] = conn.execute(_NEXT_ID).scalar()
        row["mac"] = _row_mac(row, keys[key_id])
        conn.execute(_INSERT, row)
    else:  # SQLite gives the id on insert (one writer at a time); the MAC follows in a second write
        row["id"] = conn.execute(_INSERT.returning(_TABLE.c.id), row).scalar_one()
        row["mac"] = _row_mac(row, keys[key_id])
        conn.execute(_SET_MAC, {"event_id": row["id"], "mac": row["mac"]})
    db.session.info[PENDING] = True
    return Appended(**row)


def seal(*, wait: bool = False, timeout: float = 10.0) -> int:
    """Chain the committed unsealed events; see `portal.audit_seal.seal`."""
    return audit_seal.seal(wait=wait, timeout=timeout)


def verify(expected_head: str | None = None, batch: int = 5000, *, full: bool = False,
           checkpoint: bool = True):
    """Verify the chain (incrementally from the last checkpoint unless `full`); see
    `portal.audit_verify.verify`. Returns a `Verification`."""
    from portal import audit_verify

    return audit_verify.verify(expected_head, batch, full=full, checkpoint=checkpoint)


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
    """Append one unsealed `kind` event per item of `events` (each a dict of `actor_id`,
    `customer_id` and details, as record() takes them), in order, in two multi-row statements:
    the same events as calling record() for each, for writers of many events (the CRM import).
    Like record() it takes no lock; the sealer chains them after commit. Flushes, never commits;
    returns the number of events appended."""
    if not events:
        return 0
    key_id, keys = _keys()
    hooked = {}
    for hook in DETAIL_HOOKS:
        hooked = {**hook(), **hooked}
    rows = []
    for item in events:
        data = {**hooked, **item}
        actor, customer = data.pop("actor_id", None), data.pop("customer_id", None)
        payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
        rows.append({"at": utcnow(), "kind": kind, "actor_identity_id": actor, "customer_id": customer,
                     "data": payload, "key_id": key_id})
    if _postgresql():
        # as in record(): the transaction id first, then the ids, so the sealer never seals past us
        db.session.execute(text("SELECT pg_current_xact_id()"))
        ids = sorted(db.session.scalars(text("SELECT nextval('audit_events_id_seq') FROM generate_series(1, :n)"),
                                        {"n": len(rows)}))
        for row, event_id in zip(rows, ids):
            row["id"] = event_id
            row["mac"] = _row_mac(row, keys[key_id])
        db.session.execute(insert(AuditEvent), rows)
    else:  # SQLite gives ids on insert (one writer at a time); the MACs follow in a second write
        ids = db.session.scalars(insert(AuditEvent).returning(AuditEvent.id, sort_by_parameter_order=True), rows).all()
        for row, event_id in zip(rows, ids):
            row["id"] = event_id
        db.session.execute(update(AuditEvent), [{"id": row["id"], "mac": _row_mac(row, keys[key_id])} for row in rows])
    db.session.info[PENDING] = True
    return len(rows)


def _row_mac(row: dict, key: bytes) -> str:
    return _event_mac(row["id"], row["at"], row["kind"], row["actor_identity_id"], row["customer_id"],
                      row["data"], row["key_id"], key)


def __getattr__(name: str):
    # `Verification` lives with the verifier; kept importable from here for existing callers
    if name == "Verification":
        from portal.audit_verify import Verification

        return Verification
    raise AttributeError(name)


from portal import audit_seal  # noqa: E402,F401  (registers the after-commit sealing)
