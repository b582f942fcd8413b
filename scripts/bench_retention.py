"""Deleting recordings through the retention run of `portal run-due`, next to `find -delete`.

    python scripts/bench_retention.py [--files 10000] [--size 1024] [--batch 1000] [--warm] [--dir /dev/shm]

In a temporary directory (deleted afterwards): a SQLite database built with the real migrations,
one customer with one recorded room kept for 1 month, holding `--files` recordings of `--size`
bytes that all started long ago. It times `retention.run_retention` — the receipt, marking the
expired recordings, file removal with durable directory syncs (one fsync of the directory per
batch, made before any row says the file is gone), receipt rows, recording rows, the receipt
document, the audit events and the e-mail summary — then writes the same number of files again
and times a plain `find DIR -type f -delete` over them (which makes nothing durable). Both start
from files already written to disk (`sync`); `--warm` skips that. Goal (issue 17): the run
reaches at least 50% of find's rate.
"""
from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.customers.models import Contract, Customer, Recording, Room  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.recordings import deletion, retention  # noqa: E402
from portal.storage import recording_store  # noqa: E402
from portal.termination.models import DeletedRecording, DeletionReceipt  # noqa: E402

NUMBER = "MCX-000001"


def write_files(directory: Path, count: int, size: int, sync: bool) -> list[tuple[str, str]]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        content = i.to_bytes(8, "big") * (size // 8)
        (directory / f"rec{i}.mp4").write_bytes(content)
        written.append((f"{directory.name}/rec{i}.mp4", hashlib.sha256(content).hexdigest()))
    if sync:
        os.sync()
    return written


def build(files: list[tuple[str, str]], size: int) -> None:
    customer = Customer(number=NUMBER, kind="person", first_name="Jan", last_name="Testowy",
                        email="jan@example.pl", street="ul. Prosta 1", postal_code="00-001", city="Warszawa",
                        country="PL")
    db.session.add(customer)
    db.session.flush()
    room = Room(customer_id=customer.id, key="r1", name="Sala zarządu", kind="recorded_video_room",
                retention_months=1)
    db.session.add_all([Contract(customer_id=customer.id, number="U/BENCH/1", signed_on=date(2025, 1, 15)), room])
    db.session.flush()
    started = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)
    db.session.execute(insert(Recording), [
        {"room_id": room.id, "key": f"rec{i}", "title": f"Nagranie {i}", "started_at": started, "duration_s": 60,
         "file": path, "size_bytes": size, "sha256": digest}
        for i, (path, digest) in enumerate(files)])
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=1024, help="bytes per file")
    parser.add_argument("--batch", type=int, default=deletion.BATCH_SIZE, help="recordings per transaction")
    parser.add_argument("--warm", action="store_true", help="do not sync the files to disk before timing")
    parser.add_argument("--dir", default=None, help="where to make the temporary directory (default: $TMPDIR)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-retention-", dir=args.dir))
    try:
        recordings = work / "recordings"
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}", "RECORDINGS_DIR": str(recordings),
            "OIDC_PROVIDERS": [], "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
        })
        app.instance_path = str(work / "instance")
        with app.app_context(), app.test_request_context():
            from flask_migrate import upgrade

            upgrade()
            print(f"writing {args.files:,} files of {args.size} bytes …", flush=True)
            build(write_files(recordings / NUMBER, args.files, args.size, not args.warm), args.size)

            began = time.perf_counter()
            report = retention.run_retention(date(2026, 1, 1), recording_store(), batch_size=args.batch)
            portal_seconds = time.perf_counter() - began

            assert report.deleted == args.files and not report.failures, report.summary()
            assert not any((recordings / NUMBER).iterdir()), "files left behind"
            assert db.session.scalar(select(func.count(DeletedRecording.id))) == args.files
            assert db.session.scalar(select(func.count(Recording.id))) == 0
            assert db.session.scalar(select(DeletionReceipt.recordings_count)) == args.files
            db.engine.dispose()

        plain = work / "plain"
        write_files(plain / NUMBER, args.files, args.size, not args.warm)
        began = time.perf_counter()
        subprocess.run(["find", str(plain), "-type", "f", "-delete"], check=True)
        find_seconds = time.perf_counter() - began
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.files:,} files of {args.size} bytes under {work.parent}, "
          f"{'warm (not synced)' if args.warm else 'synced to disk'}")
    print(f"{'':<44}{'seconds':>10}{'files/s':>12}")
    label = f"portal run-due retention (SQLite, batch {args.batch})"
    print(f"{label:<44}{portal_seconds:>10.2f}{args.files / portal_seconds:>12,.0f}")
    print(f"{'find DIR -type f -delete':<44}{find_seconds:>10.2f}{args.files / find_seconds:>12,.0f}")
    print(f"the retention run reaches {find_seconds / portal_seconds:.0%} of find -delete's rate (goal ≥ 50%)")


if __name__ == "__main__":
    main()
