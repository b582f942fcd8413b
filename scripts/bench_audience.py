"""How long `flask portal audience` takes on a million customers (temporary SQLite database).

    python scripts/bench_audience.py [--customers 1000000]

Builds the schema with the real migrations, bulk-inserts customers, contracts (2 % terminated)
and about two consent events per customer, then times the audience query for each channel,
streaming the CSV to a sink that only counts bytes. The database is deleted afterwards.
"""
from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from portal import create_app  # noqa: E402
from portal.consents.commands import write_audience  # noqa: E402
from portal.consents.services import audience_query  # noqa: E402
from portal.extensions import db  # noqa: E402

BATCH = 50_000
JAN = "2025-01-15 09:00:00.000000"
MAR = "2025-03-10 14:30:00.000000"
CREATED = "2025-01-01 00:00:00.000000"


class CountingSink:
    def __init__(self):
        self.bytes = 0

    def write(self, text: str) -> int:
        self.bytes += len(text)
        return len(text)


def batches(rows, size=BATCH):
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def build(conn, customers: int, rng: random.Random) -> int:
    """Bulk-insert the data straight through the driver; returns the number of consent events."""
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    cur = conn.cursor()
    cur.executemany(
        "INSERT INTO customers (id, number, kind, first_name, last_name, email, phone, street, postal_code, city,"
        " country, preferred_language, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        ((i, f"MCX-{i:07d}", "person", "Jan", f"Klient{i}", f"klient{i}@example.pl",
          f"+48 600 {i // 1000 % 1000:03d} {i % 1000:03d}" if i % 10 else None, "ul. Testowa 1", "00-001",
          "Warszawa", "PL", "pl", CREATED, CREATED) for i in range(1, customers + 1)))
    cur.executemany(
        "INSERT INTO contracts (id, customer_id, number, signed_on, status) VALUES (?,?,?,?,?)",
        ((i, i, f"U/{i}", "2025-01-15", "terminated" if i % 50 == 0 else "active") for i in range(1, customers + 1)))

    def events():
        n = 0
        for i in range(1, customers + 1):
            for channel, share in (("email", 0.8), ("sms", 0.5), ("phone", 0.3)):
                if rng.random() < share:
                    granted = rng.random() < 0.6
                    n += 1
                    yield (n, f"{n:08x}-0000-4000-8000-{i:012x}", i, "product_notifications", channel, granted, JAN,
                           "order_form", "order_form_import", None, None, None, CREATED)
                    if rng.random() < 0.3:  # changed later in the portal
                        n += 1
                        yield (n, f"{n:08x}-0000-4000-8000-{i:012x}", i, "product_notifications", channel,
                               not granted, MAR, "portal", "portal_web_form", None, None, "pl", CREATED)

    count = 0
    for batch in batches(events()):
        cur.executemany(
            "INSERT INTO consent_events (id, receipt_id, customer_id, purpose, channel, granted, at, source,"
            " collection_method, policy_version_id, actor_identity_id, language, recorded_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
        count += len(batch)
    conn.commit()
    conn.execute("ANALYZE")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-audience-"))
    try:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
                          "OIDC_PROVIDERS": [], "RECORDINGS_DIR": str(folder)})
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            started = time.perf_counter()
            raw = db.engine.raw_connection()
            try:
                events = build(raw.driver_connection, args.customers, random.Random(20250115))
            finally:
                raw.close()
            print(f"built {args.customers:,} customers and {events:,} consent events "
                  f"in {time.perf_counter() - started:.1f} s")
            with db.engine.connect() as conn:
                plan = conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN " + str(audience_query("email").compile(
                        dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))).all()
            print("query plan (email):")
            for row in plan:
                print("   ", row[-1])
            for channel in ("email", "sms", "phone"):
                sink = CountingSink()
                started = time.perf_counter()
                rows = write_audience(channel, sink)
                elapsed = time.perf_counter() - started
                print(f"audience --channel {channel}: {rows:,} contacts, {sink.bytes / 1e6:.1f} MB of CSV "
                      f"in {elapsed:.2f} s")
                db.session.rollback()
            db.engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
