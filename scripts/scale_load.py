"""Fill a PostgreSQL database with a telecom's volumes, for the scale checks of issue 15.

    .venv/bin/python scripts/scale_load.py postgresql://postgres@127.0.0.1:5432/portal_scale --scale 0.01 --recreate

At --scale 1 (the issue's figures): 1,000,000 customers with a contract and two rooms each,
10,000,000 recordings skewed so that customer MCX-000001 has 100,000 of them (in 20 rooms),
200,000 access requests waiting for a moderator, 1.9 M consent events, 20 M audit events, plus
a few thousand correction and termination requests for the staff queues. --scale multiplies
every figure (the skewed customer has 100,000 × scale recordings), so --scale 0.01 loads in seconds.

The database is migrated by the project's own migrations (`flask db upgrade`), then filled with
set-based SQL (INSERT ... SELECT generate_series), so the database's triggers (recording totals)
and constraints apply as they would to the portal's own writes. The audit chain is the one
exception: each event's HMAC covers the one before it, so the events are generated in order,
sealed with `portal.audit._digest` under the configured PORTAL_AUDIT_KEY as they stream, and
written with COPY in batches; `flask portal verify-audit` accepts the result. That step is the
slow one: generating and sealing cost about 12 µs of Python per event (20 M: about 4 CPU-minutes),
and COPY into a table with nine indexes about as much again in PostgreSQL; on the shared 2-core
build machine (load 12) --scale 0.1 took 375 s for its 2 M events, so expect an hour or more for
--scale 1 there, and a fraction of that on a quiet machine. The rest is set-based and takes minutes.

Every step prints its wall time. Sign-in subjects of the generated people: customers
`scale-customer-<id>`, authorized persons `scale-delegate-<n>`, issuer http://127.0.0.1:9400.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

FULL = {"customers": 1_000_000, "recordings": 10_000_000, "big_customer_recordings": 100_000,
        "pending_access_requests": 200_000, "consent_events": 1_900_000, "audit_events": 20_000_000,
        "pending_corrections": 20_000, "open_terminations": 5_000}
BIG_ROOMS = 20  # the skewed customer's recordings are spread over this many rooms
ISSUER = "http://127.0.0.1:9400"
START = datetime(2024, 1, 1, tzinfo=UTC)


@contextmanager
def step(name: str):
    began = time.perf_counter()
    print(f"{name} …", end="", flush=True)
    yield
    print(f" {time.perf_counter() - began:8.1f} s", flush=True)


def recreate(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def migrate(url: str):
    """`flask db upgrade` on the database; returns the app (its audit key seals the chain)."""
    from flask_migrate import upgrade

    from portal import create_app

    app = create_app({"PORTAL_DATABASE_URL": url, "SQLALCHEMY_DATABASE_URI":
                      "postgresql+psycopg://" + url.split("://", 1)[1], "OIDC_PROVIDERS": []})
    with app.app_context():
        upgrade()
        from portal.extensions import db

        db.engine.dispose()
    return app


def counts(scale: float) -> dict[str, int]:
    n = {key: max(1, round(value * scale)) for key, value in FULL.items()}
    n["customers"] = max(n["customers"], 100)
    n["recordings"] = max(n["recordings"], n["big_customer_recordings"] + n["customers"])
    return n


def fill(conn: psycopg.Connection, n: dict[str, int]) -> None:
    """Everything but the audit events, set-based. Customer 1 is the skewed one."""
    c = n["customers"]
    other_recordings = n["recordings"] - n["big_customer_recordings"]
    active_delegates = c // 5  # every fifth customer has an authorized person, from the order form
    pending = n["pending_access_requests"]
    params = {"c": c, "big": n["big_customer_recordings"], "other": other_recordings, "rooms": BIG_ROOMS,
              "active": active_delegates, "pending": pending, "start": START.replace(tzinfo=None),
              "corrections": n["pending_corrections"], "terminations": n["open_terminations"],
              "consents": n["consent_events"], "issuer": ISSUER}
    statements = [
        ("customers", """
            INSERT INTO customers (id, number, kind, first_name, last_name, email, street, postal_code, city,
                                   country, preferred_language, created_at, updated_at)
            SELECT i, 'MCX-' || lpad(i::text, 6, '0'), 'person', 'Klient', 'Numer' || i,
                   'klient' || i || '@example.test', 'ul. Testowa ' || i, '00-' || lpad((i % 1000)::text, 3, '0'),
                   'Warszawa', 'PL', 'pl', %(start)s, %(start)s
            FROM generate_series(1, %(c)s) AS i"""),
        ("contracts", """
            INSERT INTO contracts (id, customer_id, number, signed_on, status)
            SELECT i, i, 'UM-' || i, DATE '2023-01-01' + (i % 365), 'active' FROM generate_series(1, %(c)s) AS i"""),
        # rooms 1..20 are the big customer's; then two per customer (2..c): ids 21 + 2(i-2) and 22 + 2(i-2)
        ("rooms", """
            INSERT INTO rooms (id, customer_id, key, name, kind)
            SELECT i, 1, 'big-' || i, 'Sala ' || i, 'recorded_video' FROM generate_series(1, %(rooms)s) AS i
            UNION ALL
            SELECT %(rooms)s + 2 * (i - 2) + k, i, 'room-' || k, CASE k WHEN 1 THEN 'Biuro' ELSE 'Magazyn' END,
                   'recorded_video'
            FROM generate_series(2, %(c)s) AS i, generate_series(1, 2) AS k"""),
        ("recordings of the big customer", """
            INSERT INTO recordings (room_id, key, title, started_at, duration_s, file, size_bytes, sha256)
            SELECT 1 + (j % %(rooms)s), 'rec-' || j, 'Nagranie ' || j, %(start)s + j * interval '7 minutes',
                   600, 'big/' || j || '.mp4', 50000000 + j, md5(j::text) || md5((-j)::text)
            FROM generate_series(1, %(big)s) AS j"""),
        ("recordings of everyone else", """
            INSERT INTO recordings (room_id, key, title, started_at, duration_s, file, size_bytes, sha256)
            SELECT %(rooms)s + 1 + (j % (2 * (%(c)s - 1))), 'rec-' || j, 'Nagranie ' || j,
                   %(start)s + (j % 500000) * interval '1 minute', 300, 'r/' || j || '.mp4', 20000000 + j % 1000,
                   md5(j::text) || md5((-j)::text)
            FROM generate_series(1, %(other)s) AS j"""),
        ("identities", """
            INSERT INTO identities (id, issuer, subject, email, email_verified, name, customer_id, created_at,
                                    last_sign_in_at)
            SELECT i, %(issuer)s, 'scale-customer-' || i, 'klient' || i || '@example.test', true, 'Klient ' || i, i,
                   %(start)s, %(start)s FROM generate_series(1, %(c)s) AS i
            UNION ALL
            SELECT %(c)s + k, %(issuer)s, 'scale-delegate-' || k, 'osoba' || k || '@example.test', true,
                   'Osoba ' || k, NULL, %(start)s, %(start)s FROM generate_series(1, %(active)s) AS k"""),
        ("authorized persons", """
            INSERT INTO delegates (customer_id, name, email, recordings, status, source, identity_id, created_at)
            SELECT 5 * (k - 1) + 1, 'Osoba ' || k, 'osoba' || k || '@example.test', k % 2 = 0, 'active',
                   'order_form', %(c)s + k, %(start)s FROM generate_series(1, %(active)s) AS k"""),
        ("access requests waiting for a moderator", """
            WITH persons AS (
                INSERT INTO delegates (customer_id, name, email, recordings, status, source, created_at)
                SELECT 2 + (k % (%(c)s - 1)), 'Wnioskodawca ' || k, 'wniosek' || k || '@example.test',
                       k % 3 = 0, 'pending', 'portal', %(start)s + k * interval '1 second'
                FROM generate_series(1, %(pending)s) AS k
                RETURNING id, customer_id, created_at)
            INSERT INTO access_requests (customer_id, delegate_id, origin, status, created_at, requester_language)
            SELECT customer_id, id, CASE WHEN id % 2 = 0 THEN 'customer' ELSE 'person' END, 'pending', created_at,
                   'pl' FROM persons"""),
        ("consent events", """
            INSERT INTO consent_events (receipt_id, customer_id, purpose, channel, granted, at, source,
                                        collection_method, recorded_at, language)
            SELECT md5('consent' || j), 1 + (j % %(c)s), 'product_notifications',
                   CASE j % 2 WHEN 0 THEN 'email' ELSE 'sms' END, j % 3 <> 0,
                   %(start)s + j * interval '1 second', 'portal', 'portal_form', %(start)s + j * interval '1 second', 'pl'
            FROM generate_series(1, %(consents)s) AS j"""),
        ("correction requests", """
            INSERT INTO correction_requests (customer_id, field, requested_value, status, created_at, decided_at)
            SELECT 1 + (j % %(c)s), 'last_name', 'Poprawione' || j,
                   CASE WHEN j % 2 = 0 THEN 'pending' ELSE 'rejected' END, %(start)s + j * interval '1 minute',
                   CASE WHEN j % 2 = 0 THEN NULL ELSE %(start)s + j * interval '2 minutes' END
            FROM generate_series(1, 2 * %(corrections)s) AS j"""),
        ("termination requests", """
            INSERT INTO termination_requests (customer_id, status, requested_at, effective_on, confirmation_due_on,
                                              withdrawn_at)
            SELECT 2 + j, CASE WHEN j % 5 = 0 THEN 'requested' ELSE 'withdrawn' END,
                   %(start)s + j * interval '1 minute', DATE '2027-01-31', DATE '2024-02-15',
                   CASE WHEN j % 5 = 0 THEN NULL ELSE %(start)s + j * interval '2 minutes' END
            FROM generate_series(1, least(5 * %(terminations)s, %(c)s - 2)) AS j"""),
    ]
    for name, sql in statements:
        with step(f"  {name:45}"):
            # psycopg: every % that is not a placeholder is the modulo operator, written %%
            conn.execute(re.sub(r"%(?!\()", "%%", sql), params)
            conn.commit()
    with step(f"  {'sequences':45}"):
        for table in ("customers", "contracts", "rooms", "identities"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()


# activity-log kinds the generated events use, with details as the portal writes them
KINDS = (("sign_in", {"provider": "mcx"}), ("contact_phone_changed", {}), ("data_exported", {"format": "json"}),
         ("correction_requested", {"field": "last_name"}))


def audit_rows(n: dict[str, int], key_id: str, key: bytes, head: tuple[int, str] | None):
    """The events in chain order, each sealed over the one before it (portal.audit._digest)."""
    from portal.audit import GENESIS, _digest

    c = n["customers"]
    active = c // 5
    seq, prev = (head[0], head[1]) if head else (0, GENESIS)
    # spread over the two years before now, one event every few seconds at full scale
    step_us = max(1, int(2 * 365 * 86400 * 1e6 / n["audit_events"]))
    payloads = {kind: json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
                for kind, data in KINDS}
    for i in range(n["audit_events"]):
        seq += 1
        at = START + timedelta(microseconds=i * step_us)
        customer = 1 if i % 100 == 0 else 1 + (i * 2654435761) % c
        pick = i % 10
        if pick < 6:  # sign-ins: most by customers, every fifth by an authorized person
            kind = "sign_in"
            if pick == 5 and active:
                person = 1 + (i // 10) % active
                actor, customer = c + person, None
            else:
                actor = customer
        else:
            kind = KINDS[1 + pick % 3][0]
            actor = customer
        data = payloads[kind]
        digest = _digest(prev, seq, at, kind, actor, customer, data, key_id, key)
        yield (seq, at.replace(tzinfo=None), kind, actor, customer, data, prev, digest, key_id)
        prev = digest


def fill_audit(conn: psycopg.Connection, n: dict[str, int], app, batch: int = 50_000) -> None:
    key_id = app.config["AUDIT_KEY_ID"]
    key = app.config["AUDIT_KEYS"][key_id]
    head = conn.execute("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1").fetchone()
    written = 0
    with step(f"  {'audit events (generated, sealed, COPY)':45}"):
        rows = audit_rows(n, key_id, key, head)
        while True:
            with conn.cursor().copy("COPY audit_events (seq, at, kind, actor_identity_id, customer_id, data, "
                                    "prev_hash, hash, key_id) FROM STDIN") as copy:
                count = 0
                for row in rows:
                    copy.write_row(row)
                    count += 1
                    if count == batch:
                        break
            conn.commit()
            written += count
            if count < batch:
                break
    print(f"    {written} events under audit key {key_id!r}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="postgresql://user@host:port/name")
    parser.add_argument("--scale", type=float, default=0.01, help="1 = the issue's volumes (default 0.01)")
    parser.add_argument("--recreate", action="store_true", help="drop and create the database first")
    args = parser.parse_args(argv)
    url = args.database.replace("postgresql+psycopg://", "postgresql://")
    n = counts(args.scale)
    print(f"scale {args.scale}: " + ", ".join(f"{k}={v:,}" for k, v in n.items()))
    total = time.perf_counter()
    if args.recreate:
        with step(f"  {'recreate database':45}"):
            recreate(url)
    with step(f"  {'flask db upgrade':45}"):
        app = migrate(url)
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT count(*) FROM customers").fetchone()[0]:
            print("the database already holds customers; use --recreate", file=sys.stderr)
            return 2
        fill(conn, n)
        fill_audit(conn, n, app)
        conn.autocommit = True
        with step(f"  {'VACUUM ANALYZE':45}"):
            conn.execute("VACUUM ANALYZE")
    print(f"total {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
