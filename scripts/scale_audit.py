"""The audit events of scripts/scale_load.py: a valid, keyed chain, generated in order and COPYed.

Each event's HMAC covers the one before it (portal/audit.py), so the chain cannot be built by
set-based SQL: the events are generated here in chain order, already sealed (seq, prev_hash, hash),
and streamed into `audit_events` by COPY. `flask portal verify-audit` accepts the result.
"""
from __future__ import annotations

import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import psycopg

START = datetime(2024, 1, 1, tzinfo=UTC)


# activity-log kinds the generated events use, with details as the portal writes them
KINDS = (("sign_in", {"provider": "mcx"}), ("contact_phone_changed", {}), ("data_exported", {"format": "json"}),
         ("correction_requested", {"field": "last_name"}))


NULL = "\\N"  # COPY text format's NULL


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def audit_lines(n: dict[str, int], key_id: str, key: bytes, first: int, count: int, prev: str):
    """Yield (COPY text line, hash) for events first..first+count-1, each sealed over the one before.

    The HMAC body is the one `portal.audit._digest` builds (a JSON list of the event's fields),
    written out directly: json.dumps per event was most of the Python time. `check_digest`
    compares the two on the first events of every run.
    """
    c = n["customers"]
    active = c // 5
    step_us = max(1, int(2 * 365 * 86400 * 1e6 / n["audit_events"]))  # over two years
    payloads = {kind: json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                for kind, data in KINDS}
    quoted = {kind: (_json(kind), _json(payloads[kind])) for kind in payloads}
    key_json, digest = _json(key_id), hmac.digest
    for i in range(first - 1, first - 1 + count):
        seq = i + 1
        iso = (START + timedelta(microseconds=i * step_us)).isoformat(timespec="microseconds")
        customer = 1 if i % 100 == 0 else 1 + (i * 2654435761) % c
        pick = i % 10
        if pick < 6:  # sign-ins: most by customers, every sixth by an authorized person
            kind = "sign_in"
            if pick == 5 and active:
                actor, customer = c + 1 + (i // 10) % active, None
            else:
                actor = customer
        else:
            kind = KINDS[1 + pick % 3][0]
            actor = customer
        kind_json, data_json = quoted[kind]
        body = (f'["{prev}",{seq},"{iso}",{kind_json},{actor},'
                f'{"null" if customer is None else customer},{data_json},{key_json}]')
        hashed = digest(key, body.encode(), "sha256").hex()
        # COPY text: the timestamp column is naive UTC (portal.db_types.UTCDateTime)
        yield (f"{seq}\t{iso[:-6]}\t{kind}\t{actor}\t{NULL if customer is None else customer}\t"
               f"{payloads[kind]}\t{prev}\t{hashed}\t{key_id}\n"), hashed
        prev = hashed


def check_digest(n: dict[str, int], key_id: str, key: bytes, count: int = 2000) -> None:
    """The hand-written HMAC body must give portal.audit._digest's hash, or verify-audit would fail."""
    from portal.audit import GENESIS, _digest

    prev = GENESIS
    for line, hashed in audit_lines(n, key_id, key, 1, min(count, n["audit_events"]), GENESIS):
        seq, at, kind, actor, customer, data, _prev, _hash, _key = line.rstrip("\n").split("\t")
        moment = datetime.fromisoformat(at).replace(tzinfo=UTC)
        expected = _digest(prev, int(seq), moment, kind, int(actor), None if customer == NULL else int(customer),
                           data, key_id, key)
        if expected != hashed:
            raise SystemExit(f"audit event {seq}: the loader's hash differs from portal.audit._digest")
        prev = hashed


def fill_audit(url: str, n: dict[str, int], key_id: str, key: bytes, *, freeze: bool = False,
               chunk: int = 20_000) -> None:
    """All audit events in one transaction, by COPY. With `freeze` (the table bare, nothing
    referencing it: scale_bulk.bare_tables) it is emptied first and the COPY is a COPY FREEZE,
    which writes the rows frozen and all-visible, so VACUUM need not pass over them afterwards.
    Raises SystemExit when the table already holds events (the chain would not follow them)."""
    from portal.audit import GENESIS

    began = time.perf_counter()
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT count(*) FROM audit_events").fetchone()[0]:
            raise SystemExit("audit_events is not empty; use --recreate")
        if freeze:
            conn.execute("TRUNCATE audit_events")
        with conn.cursor().copy("COPY audit_events (seq, at, kind, actor_identity_id, customer_id, data, prev_hash, "
                                f"hash, key_id) FROM STDIN{' WITH (FREEZE)' if freeze else ''}") as copy:
            buffer = []
            for line, _hashed in audit_lines(n, key_id, key, 1, n["audit_events"], GENESIS):
                buffer.append(line)
                if len(buffer) == chunk:
                    copy.write("".join(buffer))
                    buffer.clear()
            copy.write("".join(buffer))
        conn.commit()
    print(f"  {'audit events (sealed, COPY)':45} … {time.perf_counter() - began:8.1f} s "
          f"({n['audit_events']:,} events under audit key {key_id!r})", flush=True)
