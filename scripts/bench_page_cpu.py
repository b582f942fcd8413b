#!/usr/bin/env python3
"""CPU per request of the portal's pages, in-process, beside the Fortunes page (issue #15).

    python scripts/bench_page_cpu.py                  # SQLite demo data, best of 5 x 60 requests
    python scripts/bench_page_cpu.py --profile /account/consents   # cProfile one page, top 30

No server and no network: each page is requested through Flask's test client with the session
cookie a sign-in gives (scripts/bench_pages.py signs everyone in), and the process CPU time
(time.process_time, user + system) is divided by the number of requests. The Fortunes app
(scripts/fortunes_app.py) is measured the same way in the same process, first and last, so the
ratio Fortunes/page estimates the share of Fortunes' requests/s a CPU-bound server would reach.
"""
from __future__ import annotations

import argparse
import cProfile
import importlib
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import bench_pages  # noqa: E402  (the same sign-in and demo database as the served benchmark)


def cpu_ms(client, path: str, headers: dict, rounds: int, requests: int) -> float:
    """Best of `rounds` × `requests` of process CPU, in ms per request (after two warm-ups)."""
    for _ in range(2):
        assert client.get(path, headers=headers).status_code == 200, path
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for _ in range(requests):
            client.get(path, headers=headers)
        best = min(best, (time.process_time() - start) / requests * 1000)
    return best


def calls_per_request(client, path: str, headers: dict, requests: int = 20) -> float:
    """Python function calls per request (cProfile's count): the same on a busy machine or an idle one."""
    for _ in range(2):
        client.get(path, headers=headers)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path, headers=headers)
    profiler.disable()
    return pstats.Stats(profiler).total_calls / requests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--profile", metavar="PAGE", help="profile this customer page instead")
    parser.add_argument("--profile-file", help="with --profile: also keep the profile (pstats) in this file")
    parser.add_argument("--pages", help="only these pages (comma-separated substrings, e.g. consents,data)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-cpu-"))
    bench_args = argparse.Namespace(database_url=None)
    bench_pages.prepare_environment(bench_args, workdir)
    os.environ["FORTUNES_DATABASE_URL"] = f"sqlite:///{workdir / 'fortunes.sqlite3'}"
    bench_pages.load_demo_database()
    cookies = bench_pages.sign_in_everyone("MCX-000123", bench_pages.free_port())

    from portal import create_app

    portal = create_app().test_client(use_cookies=False)  # the Cookie header given is the session
    fortunes = importlib.import_module("fortunes_app").app.test_client()
    if args.profile:
        headers = {"Cookie": cookies["customer"], "User-Agent": bench_pages.USER_AGENT}
        cpu_ms(portal, args.profile, headers, 1, 20)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(200):
            portal.get(args.profile, headers=headers)
        profiler.disable()
        if args.profile_file:
            profiler.dump_stats(args.profile_file)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(50)
        return
    chosen = [(who, page) for who, pages in bench_pages.PAGES.items() if who in cookies for page in pages
              if not args.pages or any(part in page for part in args.pages.split(","))]
    chosen.append(("anonymous", "/healthz"))
    reference = [cpu_ms(fortunes, "/fortunes", {}, args.rounds, args.requests)]
    results = {}
    for who, page in chosen:
        headers = {"Cookie": cookies[who], "User-Agent": bench_pages.USER_AGENT} if who in cookies else {}
        results[(who, page)] = (cpu_ms(portal, page, headers, args.rounds, args.requests),
                                calls_per_request(portal, page, headers))
    reference.append(cpu_ms(fortunes, "/fortunes", {}, args.rounds, args.requests))
    fortune, fortune_calls = min(reference), calls_per_request(fortunes, "/fortunes", {})
    print(f"CPU per request, in-process, best of {args.rounds} x {args.requests}; Fortunes {fortune:.2f} ms "
          f"(first {reference[0]:.2f}, last {reference[1]:.2f}), {fortune_calls:.0f} Python calls")
    print(f"{'page':36} {'CPU ms':>7} {'Fortunes/page':>13} {'Python calls':>12}")
    for (who, page), (ms, calls) in results.items():
        print(f"{who + ' ' + page:36} {ms:7.2f} {fortune / ms:13.2f} {calls:12.0f}")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
