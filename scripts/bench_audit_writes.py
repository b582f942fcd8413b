#!/usr/bin/env python3
"""Benchmark audited writes and verify-audit on PostgreSQL, three designs side by side in the same run:

* old: the chain extended by every writer under one global lock held to commit;
* per-commit: unsealed writes (ORM insert) and a sealer run tried after every commit;
* new: one lean INSERT per write, and each process's sealing thread chaining the commits of
  AUDIT_SEAL_DELAY seconds in one run (portal/audit_sealer.py).

    python scripts/bench_audit_writes.py --url postgresql://postgres@127.0.0.1:5432/audit_bench
    python scripts/bench_audit_writes.py --processes --writers 8 --work 0 --verify-base 0
    python scripts/bench_audit_writes.py --seconds 8 --verify-base 900000 --verify-new 100000

Needs a PostgreSQL server; the database named by --url is dropped and created afresh, then
migrated by the project's own migrations. Each writer is a thread with its own session doing
audited writes, each in its own transaction (`audit.record(...)` then commit), optionally with
--work milliseconds of simulated work inside the transaction after the event is recorded (so
the old design holds its lock through it, as a real request would). Latency is from the start of
the transaction until `commit()` returns, which includes the new design's after-commit sealing
attempt (per-commit design). The old and per-commit designs are reference copies of `record()`
as it was before (below). Besides writes/s and latency, each design's CPU time per write is
reported: the writers' processes (sealing thread included) and PostgreSQL's backends for the
database (read from /proc, so the server must run on this machine; otherwise "-"), since writers
and server share the same cores. The sealing lag is the age of the oldest unsealed event,
sampled every 50 ms during the run.

Then verify-audit: a chain of --verify-base events is verified once (leaving a checkpoint),
--verify-new events are added, and the incremental run is timed against a full walk.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from audit_write_runs import LagSampler, run_floor, run_processes, run_writers  # noqa: E402

KEY_ID, KEY = "bench", b"bench-audit-key-0123456789abcdef0123456789"


def build(url: str):
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["PORTAL_SECRET_KEY"] = "bench-secret-key-" + "x" * 40  # nothing written into the checkout
    os.environ["PORTAL_AUDIT_KEY"] = f"{KEY_ID}:{KEY.decode()}"
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://" + url.split("://", 1)[1],
                      "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 5},
                      "OIDC_PROVIDERS": [], "RECORDINGS_DIR": tempfile.mkdtemp()})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    # once, before any writer forks: otherwise each forked writer configures the ORM's mappers (about
    # half a second of CPU) at its first ORM object, inside the measured time
    from sqlalchemy.orm import configure_mappers

    configure_mappers()
    return app


def old_record(kind: str, **data):
    """The reference: `audit.record` before sealing (git main), one advisory lock held to commit."""
    from sqlalchemy import select, text

    from portal.audit import AuditEvent, _digest
    from portal.db_types import utcnow
    from portal.extensions import db

    db.session.execute(text("SELECT pg_advisory_xact_lock(7244011)"))
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, "0" * 64)
    at = utcnow()
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    event = AuditEvent(seq=seq, at=at, kind=kind, data=payload, prev_hash=prev, key_id=KEY_ID,
                       hash=_digest(prev, seq, at, kind, None, None, payload, KEY_ID, KEY))
    db.session.add(event)
    db.session.flush()


def percommit_record(kind: str, **data):
    """The reference: `audit.record` before the sealing thread (git 2d55af4): the id and transaction
    id drawn, then the event added to the session and flushed by the ORM; run with
    AUDIT_SEAL_DELAY = 0, so a sealer run is tried after every commit."""
    from portal import audit
    from portal.db_types import utcnow
    from portal.extensions import db

    at = utcnow()
    payload = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    event = audit.AuditEvent(at=at, kind=kind, data=payload, key_id=KEY_ID)
    event.id = db.session.scalar(audit._NEXT_ID)
    event.mac = audit._event_mac(event.id, at, kind, None, None, payload, KEY_ID, KEY)
    db.session.add(event)
    db.session.flush()
    db.session.info[audit.PENDING] = True


def new_record(kind: str, **data):
    from portal import audit

    audit.record(kind, **data)


def reset(app) -> None:
    from sqlalchemy import text

    from portal import audit
    from portal.extensions import db

    with app.app_context():
        audit.seal(wait=True, timeout=10)  # a sealing thread still at work would deadlock the TRUNCATE
    with app.app_context(), db.engine.begin() as conn:
        # recording_access_events references audit_events (one row per play or download): it
        # goes too, or PostgreSQL refuses to truncate the table it references
        conn.execute(text("TRUNCATE audit_events, recording_access_events, audit_seal_state, audit_checkpoints "
                          "RESTART IDENTITY"))


def seal_lag(app) -> tuple[int, float]:
    """Events still unsealed when the writers stopped, and the time to seal them."""
    from sqlalchemy import func, select

    from portal import audit
    from portal.audit import AuditEvent
    from portal.extensions import db

    with app.app_context():
        waiting = db.session.scalar(select(func.count()).where(AuditEvent.seq.is_(None)))
        began = time.perf_counter()
        audit.seal(wait=True, timeout=120)
        took = time.perf_counter() - began
        assert db.session.scalar(select(func.count()).where(AuditEvent.seq.is_(None))) == 0
        assert audit.verify(checkpoint=False).ok
        db.session.remove()
    return waiting, took


def load_chain(app, count: int, first_seq: int, prev: str, start_at: datetime) -> str:
    """Append `count` sealed events with valid HMACs by COPY (as a busy day would leave them)."""
    from portal.audit import _digest
    from portal.extensions import db

    buf, seq = io.StringIO(), first_seq
    for i in range(count):
        at = start_at + timedelta(milliseconds=i)
        data = json.dumps({"number": i}, separators=(",", ":"))
        digest = _digest(prev, seq, at, "bench_write", None, None, data, KEY_ID, KEY)
        buf.write(f"{seq}\t{seq}\t{at.isoformat()}\tbench_write\t{data}\t{prev}\t{digest}\t{KEY_ID}\n")
        prev, seq = digest, seq + 1
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            with raw.cursor() as cur:
                with cur.copy("COPY audit_events (id, seq, at, kind, data, prev_hash, hash, key_id) FROM STDIN") as copy:
                    copy.write(buf.getvalue())
                cur.execute("SELECT setval('audit_events_id_seq', %s)", (seq - 1,))
            raw.commit()
        finally:
            raw.close()
        db.engine.dispose()
    return prev


def timed_verify(app, **options) -> tuple[float, object]:
    from portal import audit
    from portal.extensions import db

    with app.app_context():
        began = time.perf_counter()
        result = audit.verify(**options)
        took = time.perf_counter() - began
        db.session.remove()
    assert result.ok, result
    return took, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/portal_bench_audit")
    parser.add_argument("--writers", default="1,2,8")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--work", default="0,10", help="milliseconds of work inside each transaction")
    parser.add_argument("--processes", action="store_true",
                        help="writers are forked processes (as gunicorn workers) instead of threads")
    parser.add_argument("--floor", action="store_true",
                        help="also the machine's floor: bare psycopg INSERT + COMMIT by as many writers")
    parser.add_argument("--verify-base", type=int, default=400_000)
    parser.add_argument("--verify-new", type=int, default=100_000)
    args = parser.parse_args()
    app = build(args.url)

    run = run_processes if args.processes else run_writers
    with app.app_context():
        from portal.extensions import db

        db.engine.dispose()
    designs = [("old", old_record, 0), ("per-commit", percommit_record, 0),
               ("new", new_record, app.config["AUDIT_SEAL_DELAY"])]
    print("audited writes on PostgreSQL, writers are " + ("processes" if args.processes else "threads") +
          f"; new seals every {app.config['AUDIT_SEAL_DELAY'] * 1000:.0f} ms; "
          "cpu = CPU µs per write, writers' processes + PostgreSQL backends")
    print(f"{'writers':>7} {'work':>5} | " + " | ".join(f"{name + ' w/s':>14} {'p50':>5} {'p95':>5} {'cpu':>9}"
                                                       for name, _, _ in designs)
          + " | new/old | lag p50/max ms | unsealed at stop, sealed in")
    for work in (float(w) / 1000 for w in args.work.split(",")):
        for writers in (int(n) for n in args.writers.split(",")):
            cells, lag = [], None
            for name, record, delay in designs:
                reset(app)
                app.config["AUDIT_SEAL_DELAY"] = delay
                with LagSampler(app) as sampler:
                    figures = run(app, record, writers, args.seconds, work)
                if name == "new":
                    new, old, ages = figures, cells[0][1], sorted(sampler.ages)
                    lag = (statistics.median(ages), ages[-1]) if ages else (0.0, 0.0)
                    waiting, took = seal_lag(app)
                cells.append((name, figures))
            line = " | ".join(
                f"{f['rate']:>14.0f} {f['p50']:>5.1f} {f['p95']:>5.1f} "
                f"{f['client_us']:>4.0f}+" + (f"{f['server_us']:<4.0f}" if f["server_us"] is not None else "-   ")
                for _, f in cells)
            print(f"{writers:>7} {work * 1000:>3.0f}ms | {line} | {new['rate'] / old['rate']:>7.1f} | "
                  f"{lag[0]:>6.0f} / {lag[1]:>5.0f} | {waiting} events, {took * 1000:.0f} ms", flush=True)
            if args.floor and not work:
                reset(app)
                rate, cpu = run_floor(args.url, writers, args.seconds, args.processes)
                print(f"{'':>7} floor | bare psycopg INSERT + COMMIT: {rate:.0f} writes/s, {cpu:.0f} µs client CPU "
                      "per write", flush=True)
    app.config["AUDIT_SEAL_DELAY"] = designs[-1][2]

    if not args.verify_base:
        return
    reset(app)
    print(f"\nverify-audit: {args.verify_base:,} events verified earlier (checkpoint), then {args.verify_new:,} new")
    start_at = datetime(2026, 1, 1, tzinfo=UTC)
    head = load_chain(app, args.verify_base, 1, "0" * 64, start_at)
    first, _ = timed_verify(app, full=True)  # leaves the checkpoint
    load_chain(app, args.verify_new, args.verify_base + 1, head, start_at + timedelta(days=1))
    incremental, result = timed_verify(app)
    full, whole = timed_verify(app, full=True, checkpoint=False)
    total = args.verify_base + args.verify_new
    print(f"  incremental (from the checkpoint): {incremental:7.2f} s  ({result.checked:,} events checked)")
    print(f"  full walk:                         {full:7.2f} s  ({whole.checked:,} events checked, "
          f"{total / full:,.0f} events/s; 20 M events ≈ {20_000_000 / (total / full) / 60:.1f} min)")
    print(f"  first full walk of the base:       {first:7.2f} s")


if __name__ == "__main__":
    main()
