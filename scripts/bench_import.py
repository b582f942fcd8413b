#!/usr/bin/env python3
"""Benchmark `portal import` on PostgreSQL: the first import of N customers, the same file again,
and the peak memory of each run, beside the landed importer (the reference) on a smaller N, and
beside the importer of an earlier commit (the baseline) on the same N.

    nice python scripts/bench_import.py                         # 10,000 and 100,000; reference on 2,000
    nice python scripts/bench_import.py --customers 1000000 --reference-customers 5000
    nice python scripts/bench_import.py --customers 10000 100000 --reference-customers 0 --baseline 8ac71fd
    python scripts/bench_import.py --database-url postgresql://postgres@127.0.0.1:5432/bench_import

With --baseline REV the whole application of REV (its `portal/` and `migrations/`, from git)
imports the same file into a database migrated by REV's own migrations, each N right before this
tree's run, so both see the same machine load.

Each customer is shaped like MCX's export: 2 rooms (one recorded, with 2 recordings whose small
files are written for real), 1 authorized person and 1 consent event. Every run imports into a
database made fresh with CREATE DATABASE and migrated, in a child process of its own, so its
peak RSS (wait4's ru_maxrss) is that run's alone. Goals (issue #16): 100,000 customers in at most
60 s, the same file again in at most 15 s, peak RSS at most 250 MB whatever N.

The reference is the importer as it landed (portal/account/importer.py at a873296, moved to
portal/crm_import/importer.py unchanged but for its imports in 8ef85f6), loaded from git.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
REFERENCE_COMMIT = "8ef85f6"


def customer(n: int, recordings_dir: Path) -> dict:
    """Customer number `n`, writing its two recording files."""
    import hashlib

    folder = recordings_dir / f"{n // 1000:04d}"
    recordings = []
    for r in (1, 2):
        content = f"recording {r} of customer {n}\n".encode() * 4
        relative = f"{folder.name}/c{n}-{r}.mp4"
        (recordings_dir / relative).write_bytes(content)
        recordings.append({"key": f"rec{r}", "title": f"Spotkanie {r}", "started_at": f"2025-02-0{r}T10:00:00Z",
                           "duration_s": 600 * r, "file": relative, "size_bytes": len(content),
                           "sha256": hashlib.sha256(content).hexdigest()})
    return {
        "number": f"MCX-{n:07d}", "kind": "person", "first_name": "Jan", "last_name": f"Testowy {n}",
        "email": f"klient{n}@example.pl", "phone": "+48 600 100 200",
        "address": {"street": f"ul. Prosta {n % 200 + 1}", "postal_code": "00-001", "city": "Warszawa",
                    "country": "PL"},
        "contract": {"number": f"U/{n}", "signed_on": "2025-01-15", "services": ["video_room", "recorded_video_room"]},
        "rooms": [{"key": "r1", "name": "Nagrania", "kind": "recorded_video_room", "recordings": recordings},
                  {"key": "r2", "name": "Spotkania", "kind": "video_room"}],
        "authorized_persons": [{"name": "Ewa Nowak", "email": f"osoba{n}@example.pl", "rooms": ["r1"],
                                "recordings": True}],
        "consents": [{"purpose": "product_notifications", "channel": "email", "granted": True,
                      "at": "2025-01-15T09:00:00Z", "source": "order_form"}],
    }


def generate(count: int, workdir: Path) -> tuple[Path, Path]:
    """Write the export of `count` customers, one at a time (the generator stays small too)."""
    recordings_dir = workdir / f"recordings-{count}"
    for folder in range(count // 1000 + 1):
        (recordings_dir / f"{folder:04d}").mkdir(parents=True, exist_ok=True)
    path = workdir / f"export-{count}.json"
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"customers": [\n')
        for n in range(count):
            out.write(("," if n else "") + json.dumps(customer(n, recordings_dir), ensure_ascii=False) + "\n")
        out.write("]}\n")
    return path, recordings_dir


def baseline_tree(revision: str) -> Path:
    """REV's `portal/` and `migrations/`, extracted from git into a temporary directory."""
    tree = Path(tempfile.mkdtemp(prefix=f"bench-import-{revision}-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", revision, "portal", "migrations"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def fresh_database(base_url: str, name: str, tree: Path | None = None) -> str:
    """Drop and create database `name` on the server of `base_url`, migrate it; its SQLAlchemy URL."""
    import psycopg

    parts = urlsplit(base_url.replace("postgresql+psycopg://", "postgresql://"))
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = "postgresql+psycopg://" + parts._replace(path=f"/{name}").geturl().removeprefix("postgresql://")
    subprocess.run([sys.executable, __file__, "--child", "migrate", "--url", url, *_tree_args(tree)], check=True)
    return url


def _tree_args(tree: Path | None) -> list[str]:
    return ["--tree", str(tree)] if tree is not None else []


def run_child(*args: str) -> dict:
    """Run one import in a child process; its JSON result plus the child's peak RSS in MB."""
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    if status != 0:
        raise SystemExit(f"child failed ({status}): {' '.join(args)}\n{output}")
    result = json.loads(output.strip().splitlines()[-1])
    result["wall_s"] = time.monotonic() - started
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # kilobytes on Linux
    return result


def child(argv: list[str]) -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["migrate", "import", "reference"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--file")
    parser.add_argument("--recordings")
    parser.add_argument("--tree", help="import the application from this directory (a baseline)")
    args = parser.parse_args(argv)
    if args.tree:
        sys.path.insert(0, args.tree)
    os.environ.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(48))
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.url, "OIDC_PROVIDERS": [], "TESTING": True,
                      "RECORDINGS_DIR": args.recordings or tempfile.gettempdir()})
    with app.app_context():
        if args.mode == "migrate":
            from flask_migrate import upgrade

            upgrade()
            return
        started, cpu_started = time.monotonic(), time.process_time()
        if args.mode == "import":
            from portal.crm_import.importer import import_customers

            report = import_customers(Path(args.file), Path(args.recordings))
        else:
            reference = _reference_module()
            report = reference.import_customers(reference.load_file(args.file), Path(args.recordings))
        db.session.commit()
        seconds, import_cpu = time.monotonic() - started, time.process_time() - cpu_started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": seconds, "import_cpu_s": import_cpu, "cpu_s": usage.ru_utime + usage.ru_stime,
                      "created": report.customers_created,
                      "unchanged": report.customers_unchanged, "updated": report.customers_updated}))


def _reference_module():
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{REFERENCE_COMMIT}:portal/crm_import/importer.py"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "reference_importer.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("reference_importer", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def measure(mode: str, count: int, base_url: str, workdir: Path, tree: Path | None = None,
            label: str = "") -> list[dict]:
    path, recordings_dir = workdir / f"export-{count}.json", workdir / f"recordings-{count}"
    if not path.exists():
        path, recordings_dir = generate(count, workdir)
    label = label or mode
    url = fresh_database(base_url, f"{urlsplit(base_url).path.lstrip('/') or 'bench_import'}_{label}_{count}", tree)
    runs = []
    for run in ("first", "again"):
        result = run_child(mode, "--url", url, "--file", str(path), "--recordings", str(recordings_dir),
                           *_tree_args(tree))
        result.update(mode=label, customers=count, run=run, file_mb=path.stat().st_size / 1e6)
        runs.append(result)
        print(f"{label:9} {count:>9,} {run:5}  {result['seconds']:8.1f} s"
              f"  {count / result['seconds']:8,.0f} customers/s"
              f"  peak RSS {result['peak_rss_mb']:6.0f} MB  (import CPU {result['import_cpu_s']:.1f} s of the "
              f"process's {result['cpu_s']:.1f} s, "
              f"file {result['file_mb']:.0f} MB)", flush=True)
    return runs


def main() -> None:
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--reference-customers", type=int, default=2_000,
                        help="N for the landed importer (0 to skip); it is slow, so keep it small")
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_import",
                        help="the server (and name prefix) for the fresh databases")
    parser.add_argument("--baseline", metavar="REV",
                        help="also run the importer of git revision REV on each N, just before this tree's")
    args = parser.parse_args()
    tree = baseline_tree(args.baseline) if args.baseline else None
    print(f"{'importer':9} {'customers':>9} {'run':5}  {'time':>10}  {'rate':>20}  {'memory':>17}")
    with tempfile.TemporaryDirectory(prefix="bench-import-") as workdir:
        results = []
        if args.reference_customers:
            results += measure("reference", args.reference_customers, args.database_url, Path(workdir))
            results += measure("import", args.reference_customers, args.database_url, Path(workdir))
        for count in args.customers:
            if tree is not None:
                results += measure("import", count, args.database_url, Path(workdir), tree, args.baseline[:9])
            results += measure("import", count, args.database_url, Path(workdir))
    print(json.dumps(results))


if __name__ == "__main__":
    main()
