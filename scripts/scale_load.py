"""Fill a PostgreSQL database with a telecom's volumes, for the scale checks of issue 15.

    .venv/bin/python scripts/scale_load.py postgresql://postgres@127.0.0.1:5432/portal_scale --scale 0.01 --recreate

At --scale 1 (the issue's figures): 1,000,000 customers with a contract and two rooms each,
10,000,000 recordings skewed so that customer MCX-000001 has 100,000 of them (in 20 rooms),
200,000 access requests waiting for a moderator, 1.9 M consent events, 20 M audit events, plus
a few thousand correction and termination requests for the staff queues. --scale multiplies
every figure (the skewed customer has 100,000 × scale recordings), so --scale 0.01 loads in seconds.

The database is migrated by the project's own migrations (`flask db upgrade`), then filled bare
(scripts/scale_bulk.py): the big tables' indexes, keys and foreign keys are taken off and the
recording-totals triggers disabled; the rows go in by set-based SQL (INSERT ... SELECT
generate_series); then the totals are computed in one statement and every index and constraint is
rebuilt from the DDL the migrations created, so each key and foreign key is still checked, once,
over the whole table. The audit chain is the one part that needs Python: each event's HMAC covers
the one before it, so the events are generated in order and sealed under the configured
PORTAL_AUDIT_KEY (scripts/scale_audit.py), streamed by one COPY FREEZE in a thread beside the
set-based SQL; `flask portal verify-audit` accepts the result. --scale 1 loads in about 17 minutes
on the shared 2-core build machine (README, "At the issue's full volumes"), --scale 0.01 in 10 s.

Every step prints its wall time. Sign-in subjects of the generated people: customers
`scale-customer-<id>`, authorized persons `scale-delegate-<n>`, issuer http://127.0.0.1:9400.
"""
from __future__ import annotations

import argparse
import re
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scale_audit import START, check_digest, fill_audit  # noqa: E402
from scale_bulk import bare_tables  # noqa: E402

FULL = {"customers": 1_000_000, "recordings": 10_000_000, "big_customer_recordings": 100_000,
        "pending_access_requests": 200_000, "consent_events": 1_900_000, "audit_events": 20_000_000,
        "pending_corrections": 20_000, "open_terminations": 5_000}
BIG_ROOMS = 20  # the skewed customer's recordings are spread over this many rooms
ISSUER = "http://127.0.0.1:9400"
# the tables filled here: loaded without their indexes and keys, which are rebuilt afterwards
TABLES = ["customers", "contracts", "rooms", "recordings", "identities", "delegates", "access_requests",
          "consent_events", "audit_events"]
REBUILD_SETTINGS = ["SET maintenance_work_mem = '1GB'", "SET max_parallel_maintenance_workers = 2",
                    "SET work_mem = '256MB'"]


@contextmanager
def step(name: str):
    """Print the step's wall time when it ends (one line: the audit step runs alongside)."""
    began = time.perf_counter()
    yield
    print(f"{name} … {time.perf_counter() - began:8.1f} s", flush=True)


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


DELEGATE_ROOMS = """
    INSERT INTO delegate_rooms (delegate_id, room_id)
    SELECT d.id, r.id FROM delegates d JOIN rooms r ON r.customer_id = d.customer_id WHERE d.status = 'active'"""


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
            -- lpad cuts longer strings: customer 1,000,000 is MCX-1000000, not a second MCX-100000
            SELECT i, 'MCX-' || CASE WHEN i < 1000000 THEN lpad(i::text, 6, '0') ELSE i::text END, 'person',
                   'Klient', 'Numer' || i,
                   'klient' || i || '@example.test', 'ul. Testowa ' || i, '00-' || lpad((i % 1000)::text, 3, '0'),
                   'Warszawa', 'PL', 'pl', %(start)s, %(start)s
            FROM generate_series(1, %(c)s) AS i"""),
        ("contracts", """
            INSERT INTO contracts (id, customer_id, number, signed_on, status)
            SELECT i, i, 'UM-' || i, DATE '2023-01-01' + (i % 365), 'active' FROM generate_series(1, %(c)s) AS i"""),
        # rooms 1..20 are the big customer's; then two per customer (2..c): ids 21 + 2(i-2) and 22 + 2(i-2)
        ("rooms", """
            INSERT INTO rooms (id, customer_id, key, name, kind)
            SELECT i, 1, 'big-' || i, 'Sala ' || i, 'recorded_video_room' FROM generate_series(1, %(rooms)s) AS i
            UNION ALL
            SELECT %(rooms)s + 2 * (i - 2) + k, i, 'room-' || k, CASE k WHEN 1 THEN 'Biuro' ELSE 'Magazyn' END,
                   'recorded_video_room'
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
            SELECT 5 * (k - 1) + 1, 'Osoba ' || k, 'osoba' || k || '@example.test', k % 2 = 1, 'active',
                   'order_form', %(c)s + k, %(start)s FROM generate_series(1, %(active)s) AS k"""),
        # their scope: every room of their customer (the big customer's person sees all 100,000 recordings)
        ("authorized persons' rooms", DELEGATE_ROOMS),
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


def _catching(failed: list, function, *args, **kwargs) -> None:
    try:
        function(*args, **kwargs)
    except BaseException as error:  # handed to the main thread, which raises it
        failed.append(error)


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
    key_id = app.config["AUDIT_KEY_ID"]
    key = app.config["AUDIT_KEYS"][key_id]
    check_digest(n, key_id, key)
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT count(*) FROM customers").fetchone()[0]:
            print("the database already holds customers; use --recreate", file=sys.stderr)
            return 2
    with bare_tables(url, TABLES, REBUILD_SETTINGS):
        # the audit chain is Python (HMACs) while the rest is PostgreSQL: they run side by side
        failed: list[BaseException] = []
        audit = threading.Thread(target=_catching, args=(failed, fill_audit, url, n, key_id, key),
                                 kwargs={"freeze": True})
        audit.start()
        with psycopg.connect(url) as conn:
            fill(conn, n)
        audit.join()
        if failed:
            raise failed[0]
    with psycopg.connect(url, autocommit=True) as conn, step(f"  {'VACUUM ANALYZE':45}"):
        conn.execute("VACUUM ANALYZE")
    print(f"total {time.perf_counter() - total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
