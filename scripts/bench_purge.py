"""Purge rate of `portal run-due` for 100,000 small recording files, next to `find -delete`.

    python scripts/bench_purge.py [--files 100000] [--size 1024] [--batch 500] [--warm] [--dir /dev/shm]

Everything happens in a temporary directory (deleted afterwards): a SQLite database built with
the real migrations, one customer with one recorded room holding `--files` recordings of
`--size` bytes each, and a termination whose effective date has come. It times
`services.run_due` — claim, delegates, file removal with durable directory syncs, receipt rows,
recording rows, the receipt document, the completion e-mail — then writes the same number of
files again and times a plain `find DIR -type f -delete` over them. Both start from files
already written to disk (`sync`), as recordings are; `--warm` skips that, so the removals are
mostly cancelled page-cache writes and the per-file CPU cost shows instead of the disk's.
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
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select  # noqa: E402

from portal import create_app  # noqa: E402
from portal.customers.models import Contract, ContractService, Customer, Recording, Room  # noqa: E402
from portal.extensions import db  # noqa: E402
from portal.termination import services  # noqa: E402
from portal.termination.models import DeletedRecording, TerminationRequest  # noqa: E402

NUMBER = "MCX-000001"


def write_files(directory: Path, count: int, size: int, sync: bool) -> list[tuple[str, str]]:
    """`count` distinct files of `size` bytes; returns (relative path, sha256) for each."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for i in range(count):
        content = i.to_bytes(8, "big") * (size // 8)
        (directory / f"rec{i}.mp4").write_bytes(content)
        written.append((f"{directory.name}/rec{i}.mp4", hashlib.sha256(content).hexdigest()))
    if sync:
        # both contenders start from files already on disk, not from pending writes
        os.sync()
    return written


def build(files: list[tuple[str, str]], size: int, today: date) -> None:
    customer = Customer(number=NUMBER, kind="person", first_name="Jan", last_name="Testowy",
                        email="jan@example.pl", street="ul. Prosta 1", postal_code="00-001", city="Warszawa",
                        country="PL")
    db.session.add(customer)
    db.session.flush()
    contract = Contract(customer_id=customer.id, number="U/BENCH/1", signed_on=date(2025, 1, 15))
    contract.services.append(ContractService(service="recorded_video_room"))
    room = Room(customer_id=customer.id, key="r1", name="Sala zarządu", kind="recorded_video_room")
    db.session.add_all([contract, room])
    db.session.flush()
    started = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)
    db.session.execute(insert(Recording), [
        {"room_id": room.id, "key": f"rec{i}", "title": f"Nagranie {i}", "started_at": started, "duration_s": 60,
         "file": path, "size_bytes": size, "sha256": digest}
        for i, (path, digest) in enumerate(files)
    ])
    db.session.add(TerminationRequest(customer_id=customer.id, status="requested", effective_on=today,
                                      confirmation_due_on=today - timedelta(days=20),
                                      requested_at=started))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=1024, help="bytes per file")
    parser.add_argument("--batch", type=int, default=services.BATCH_SIZE, help="recordings per transaction")
    parser.add_argument("--warm", action="store_true", help="do not sync the files to disk before timing")
    parser.add_argument("--dir", default=None, help="where to make the temporary directory (default: $TMPDIR)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-purge-", dir=args.dir))
    try:
        recordings = work / "recordings"
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}", "RECORDINGS_DIR": str(recordings),
            "OIDC_PROVIDERS": [], "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
        })
        app.instance_path = str(work / "instance")
        today = date.today()
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            print(f"writing {args.files:,} files of {args.size} bytes …", flush=True)
            build(write_files(recordings / NUMBER, args.files, args.size, not args.warm), args.size, today)
            if not args.warm:
                os.sync()

            began = time.perf_counter()
            report = services.run_due(today=today, batch_size=args.batch)
            portal_seconds = time.perf_counter() - began

            [outcome] = report.outcomes
            assert outcome.status == "completed" and outcome.deleted == args.files, report.summary()
            assert not any((recordings / NUMBER).iterdir()), "files left behind"
            assert db.session.scalar(select(func.count(DeletedRecording.id))) == args.files
            assert db.session.scalar(select(func.count(Recording.id))) == 0
            db.engine.dispose()

        plain = work / "plain"
        write_files(plain / NUMBER, args.files, args.size, not args.warm)
        began = time.perf_counter()
        subprocess.run(["find", str(plain), "-type", "f", "-delete"], check=True)
        find_seconds = time.perf_counter() - began
        assert not any((plain / NUMBER).iterdir())
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.files:,} files of {args.size} bytes under {work.parent}, "
          f"{'warm (not synced)' if args.warm else 'synced to disk'}")
    print(f"{'':<40}{'seconds':>10}{'files/s':>12}")
    label = f"portal run-due (SQLite, batch {args.batch})"
    print(f"{label:<40}{portal_seconds:>10.2f}{args.files / portal_seconds:>12,.0f}")
    print(f"{'find DIR -type f -delete':<40}{find_seconds:>10.2f}{args.files / find_seconds:>12,.0f}")
    print(f"run-due takes {portal_seconds / find_seconds:.1f}× as long as find -delete")


if __name__ == "__main__":
    main()
