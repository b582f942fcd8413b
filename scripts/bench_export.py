#!/usr/bin/env python3
"""Benchmark the streamed data export: a customer with many recordings in a temporary SQLite DB.

    python scripts/bench_export.py                 # 100,000 recordings (and 10,000 to compare)
    python scripts/bench_export.py --recordings 20000

Goes through the real route (`GET /account/export.json`, signed in, streamed) and prints the
export rate and the peak memory while the document is produced. Peak memory is measured with
tracemalloc (Python allocations) in a second pass, since tracing slows the first; the process's
maximum resident set size is printed too.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import os
import resource
import secrets
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BATCH = 10_000


def build(recordings: int, workdir: Path):
    """An app on a fresh SQLite database holding one customer with `recordings` recordings."""
    os.environ["PORTAL_SECRET_KEY"] = secrets.token_urlsafe(48)  # no dev secret written into the checkout
    os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    from sqlalchemy import insert

    from portal import create_app
    from portal.auth import sessions
    from portal.auth.models import Identity
    from portal.customers.models import Contract, ContractService, Customer, Recording, Room
    from portal.db_types import utcnow
    from portal.extensions import db

    app = create_app({"OIDC_PROVIDERS": [], "RECORDINGS_DIR": str(workdir), "TESTING": True})
    with app.app_context():
        db.create_all()
        customer = Customer(number="MCX-100000", kind="company", company_name="Benchmark Sp. z o.o.",
                            tax_id="5260250995", first_name="Anna", last_name="Testowa", email="bench@example.pl",
                            phone="+48 600 000 000", street="ul. Prosta 1", postal_code="00-001", city="Warszawa",
                            country="PL")
        db.session.add(customer)
        db.session.flush()
        contract = Contract(customer_id=customer.id, number="U/BENCH/1", signed_on=date(2025, 1, 15))
        contract.services.append(ContractService(service="recorded_video_room"))
        db.session.add(contract)
        rooms = [Room(customer_id=customer.id, key=f"r{n}", name=f"Sala {n}", kind="recorded_video_room")
                 for n in range(10)]
        db.session.add_all(rooms)
        db.session.flush()
        start = datetime(2025, 1, 1, tzinfo=UTC)
        for first in range(0, recordings, BATCH):
            db.session.execute(insert(Recording), [
                {"room_id": rooms[n % len(rooms)].id, "key": f"rec{n}", "title": f"Nagranie zespołu nr {n}",
                 "started_at": start + timedelta(minutes=n), "duration_s": 3600, "file": f"bench/rec{n}.mp4",
                 "size_bytes": 1_048_576 + n, "sha256": hashlib.sha256(str(n).encode()).hexdigest()}
                for n in range(first, min(first + BATCH, recordings))])
        identity = Identity(issuer="http://bench.invalid", subject="anna", email="bench@example.pl",
                            email_verified=True, customer_id=customer.id)
        db.session.add(identity)
        db.session.flush()
        record = sessions.open_session(identity, provider="mcx", id_token=None, auth_time=utcnow(),
                                       provider_sid=None, user_agent="bench", ip_address="127.0.0.1")
        db.session.commit()
        session_id, identity_id = record.id, identity.id
    client = app.test_client()
    with client.session_transaction() as cookie:
        cookie["sid"], cookie["_user_id"], cookie["_fresh"] = session_id, str(identity_id), True
    return app, client


def export_once(app, client) -> tuple[int, float, dict]:
    """Download the export through the route; returns (bytes, seconds, the parsed head)."""
    started = time.perf_counter()
    with app.app_context():
        response = client.get("/account/export.json", buffered=False)
        assert response.status_code == 200 and response.is_streamed, response.status
        size, head = 0, b""
        for chunk in response.response:
            chunk = chunk if isinstance(chunk, bytes) else chunk.encode()
            size += len(chunk)
            if len(head) < 200:
                head += chunk[:200]
        response.close()
    return size, time.perf_counter() - started, head


def measure(recordings: int) -> dict:
    with tempfile.TemporaryDirectory() as workdir:
        app, client = build(recordings, Path(workdir))
        size, seconds, head = export_once(app, client)
        assert head.startswith(b'{"schema":"mcx-privacy-portal/export"'), head[:80]
        gc.collect()
        tracemalloc.start()
        tracemalloc.reset_peak()
        baseline = tracemalloc.get_traced_memory()[0]
        export_once(app, client)
        peak = tracemalloc.get_traced_memory()[1] - baseline
        tracemalloc.stop()
        with app.app_context():
            from portal.extensions import db

            db.engine.dispose()
    return {"recordings": recordings, "bytes": size, "seconds": seconds, "rate": recordings / seconds,
            "peak_mib": peak / 2**20}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recordings", type=int, default=100_000)
    parser.add_argument("--compare", type=int, default=10_000, help="a smaller export to compare memory with (0: none)")
    args = parser.parse_args()
    sizes = [n for n in (args.compare, args.recordings) if n]
    for n in sizes:
        result = measure(n)
        print(f"{result['recordings']:>9,} recordings: {result['bytes'] / 2**20:7.1f} MiB of JSON in "
              f"{result['seconds']:6.2f} s = {result['rate']:9,.0f} recordings/s; "
              f"peak Python memory while exporting {result['peak_mib']:6.2f} MiB")
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"process max RSS (whole run, including building the databases): {maxrss_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
