"""Streaming the ZIP of all recordings, next to `cat`-ing the same files to /dev/null.

    python scripts/bench_zip.py [--files 2000] [--total-mb 2048] [--sparse] [--dir /dev/shm]

In a temporary directory (deleted afterwards): a SQLite database built with the real migrations,
one customer with one recorded room holding `--files` recordings totalling `--total-mb` MiB.
The files are written with distinct content (or, with `--sparse`, made as sparse files: quick to
make, read as zeros). The ZIP is fetched through the portal's own route
(GET /rooms/recordings.zip, signed in as the owner) with Flask's test client, its body iterated
and thrown away as a client would write it to a socket; peak RSS growth is the process's
ru_maxrss after the download minus before it. Then `cat` reads the same files to /dev/null.
Both run warm (the files are in the page cache after the first pass), so the comparison is CPU
and copying, not the disk's speed. Goals (issue 17): RSS growth < 30 MB, throughput ≥ 50% of cat.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert  # noqa: E402

from portal import create_app  # noqa: E402
from portal.auth import sessions  # noqa: E402
from portal.auth.models import Identity  # noqa: E402
from portal.customers.models import Contract, Customer, Recording, Room  # noqa: E402
from portal.extensions import db  # noqa: E402

NUMBER = "MCX-000001"


def make_files(directory: Path, count: int, size: int, sparse: bool) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1024 * 1024)
    names = []
    for i in range(count):
        path = directory / f"rec{i}.mp4"
        if sparse:
            with path.open("wb") as handle:
                handle.truncate(size)
        else:
            with path.open("wb") as handle:
                left = size
                handle.write(i.to_bytes(8, "big"))
                left -= 8
                while left > 0:
                    handle.write(block[:left])
                    left -= len(block[:left])
        names.append(f"{directory.name}/rec{i}.mp4")
    return names


def build(files: list[str], size: int) -> Identity:
    customer = Customer(number=NUMBER, kind="person", first_name="Jan", last_name="Testowy",
                        email="jan@example.pl", street="ul. Prosta 1", postal_code="00-001", city="Warszawa",
                        country="PL")
    db.session.add(customer)
    db.session.flush()
    room = Room(customer_id=customer.id, key="r1", name="Sala zarządu", kind="recorded_video_room")
    db.session.add_all([Contract(customer_id=customer.id, number="U/BENCH/1", signed_on=date(2025, 1, 15)), room])
    db.session.flush()
    started = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)
    db.session.execute(insert(Recording), [
        {"room_id": room.id, "key": f"rec{i}", "title": f"Nagranie {i}", "started_at": started + timedelta(minutes=i),
         "duration_s": 60, "file": path, "size_bytes": size, "sha256": "0" * 64}
        for i, path in enumerate(files)])
    owner = Identity(issuer="http://bench.test", subject="owner", email="jan@example.pl", email_verified=True,
                     customer_id=customer.id)
    db.session.add(owner)
    db.session.commit()
    return owner


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--total-mb", type=int, default=2048, help="MiB in all (scale down for a quick run)")
    parser.add_argument("--sparse", action="store_true", help="make sparse files instead of writing content")
    parser.add_argument("--dir", default=None, help="where to make the temporary directory (default: $TMPDIR)")
    args = parser.parse_args()
    size = args.total_mb * 1024 * 1024 // args.files

    work = Path(tempfile.mkdtemp(prefix="bench-zip-", dir=args.dir))
    try:
        recordings = work / "recordings"
        app = create_app({
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{work / 'bench.sqlite3'}", "RECORDINGS_DIR": str(recordings),
            "OIDC_PROVIDERS": [], "SECRET_KEY": "bench-only-secret-key-0123456789abcdef",
            "RATELIMIT_ENABLED": False,
        })
        app.instance_path = str(work / "instance")
        with app.app_context():
            from flask_migrate import upgrade

            upgrade()
            print(f"making {args.files:,} files of {size:,} bytes ({'sparse' if args.sparse else 'written'}) …",
                  flush=True)
            files = make_files(recordings / NUMBER, args.files, size, args.sparse)
            owner = build(files, size)
            record = sessions.open_session(owner, provider="mcx", id_token=None, auth_time=datetime.now(UTC),
                                           provider_sid=None, user_agent="bench", ip_address="127.0.0.1")
            db.session.commit()
            sid, owner_id = record.id, owner.id
        paths = [str(recordings / name) for name in files]
        # one warm-up read of every file, so both contenders read from the page cache
        subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)

        client = app.test_client()
        with client.session_transaction() as sess:
            sess["sid"], sess["_user_id"], sess["_fresh"] = sid, str(owner_id), True
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        began = time.perf_counter()
        response = client.get("/rooms/recordings.zip", buffered=False)
        streamed = 0
        for chunk in response.response:
            streamed += len(chunk)
        response.close()
        zip_seconds = time.perf_counter() - began
        growth_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        assert response.status_code == 200 and streamed == int(response.headers["Content-Length"]), \
            (response.status_code, streamed, response.headers.get("Content-Length"))

        began = time.perf_counter()
        subprocess.run(["cat", *paths], stdout=subprocess.DEVNULL, check=True)
        cat_seconds = time.perf_counter() - began
    finally:
        shutil.rmtree(work, ignore_errors=True)

    total = args.files * size
    mib = 1024 * 1024
    print(f"{args.files:,} recordings, {total / mib:,.0f} MiB in all ({'sparse' if args.sparse else 'written'}), "
          f"ZIP of {streamed / mib:,.1f} MiB")
    print(f"{'':<44}{'seconds':>10}{'MiB/s':>10}")
    print(f"{'GET /rooms/recordings.zip (zipstream-ng)':<44}{zip_seconds:>10.2f}{streamed / mib / zip_seconds:>10,.0f}")
    print(f"{'cat FILES > /dev/null':<44}{cat_seconds:>10.2f}{total / mib / cat_seconds:>10,.0f}")
    print(f"ZIP throughput is {(streamed / zip_seconds) / (total / cat_seconds):.0%} of cat's (goal ≥ 50%)")
    print(f"peak RSS growth while streaming: {growth_kb / 1024:.1f} MiB (goal < 30 MB)")


if __name__ == "__main__":
    main()
