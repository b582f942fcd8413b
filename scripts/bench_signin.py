#!/usr/bin/env python3
"""The portal's part of a sign-in (issue 15: < 20 ms), on a database scripts/scale_load.py filled.

    .venv/bin/python scripts/bench_signin.py postgresql://postgres@127.0.0.1:5432/scale_full --runs 40

A real authorization-code sign-in through the local OpenID provider (portal.devprovider, on port
9400: the issuer scale_load.py gives its identities), the callback handled in-process. The
callback's wall time includes the provider's token (and, once, discovery/JWKS) round trips; every
HTTP request the portal makes goes through `requests.Session.send`, which is timed, and the
portal's part is the callback's time minus those round trips: the ID token's checks, the
look-ups by (issuer, subject) and by e-mail, the links, the session and the audit event, the
commit. Printed side by side with the provider round trips, p50/p95/max in ms, for:

- a returning customer (their (issuer, subject) pair is known: one look-up),
- a newcomer whose verified e-mail matches no record (every e-mail look-up runs and misses),
- a newcomer whose verified e-mail is a customer's that is already linked (look-ups hit).

Each run writes what a sign-in writes (a session, an audit event; a newcomer's identity).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests
from sqlalchemy import event

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PROVIDER_PORT = 9400  # scale_load.ISSUER


class RoundTrips:
    """Wall time spent in requests' HTTP calls since the last reset (the provider's share)."""

    def __init__(self):
        self.seconds = 0.0
        self._send = requests.Session.send
        trips = self

        def send(session, request, **kwargs):
            began = time.perf_counter()
            try:
                return trips._send(session, request, **kwargs)
            finally:
                trips.seconds += time.perf_counter() - began

        requests.Session.send = send


def one_sign_in(client, provider, trips: RoundTrips, claims: dict) -> tuple[float, float, float]:
    """(callback ms, provider round-trip ms inside it, the callback's CPU ms in this thread) of one
    complete sign-in. The CPU time is what the machine's other load does not add to."""
    provider.set_user(claims)
    start = client.get("/auth/login?provider=mcx")
    answer = requests.post(start.headers["Location"], data={"sub": claims["sub"]}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    trips.seconds = 0.0
    began, cpu = time.perf_counter(), time.thread_time()
    response = client.get(f"{callback.path}?{callback.query}")
    took, cpu = time.perf_counter() - began, time.thread_time() - cpu
    if response.status_code != 302:
        raise SystemExit(f"sign-in of {claims['sub']} answered {response.status_code}")
    return took * 1000, trips.seconds * 1000, cpu * 1000


class Statements:
    """The SQL one callback runs, for EXPLAIN ANALYZE afterwards: the database's share, which the
    machine's load does not blur as it blurs wall times."""

    def __init__(self, engine):
        self.engine, self.caught = engine, []

    def _catch(self, conn, cursor, statement, parameters, *rest):
        self.caught.append((statement, parameters))

    def __enter__(self):
        event.listen(self.engine, "before_cursor_execute", self._catch)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._catch)

    def explained_ms(self) -> tuple[int, int, float]:
        """(statements, of which SELECTs, summed server execution ms of the SELECTs, best of 3)."""
        selects = [(s, p) for s, p in self.caught if s.lstrip().upper().startswith(("SELECT", "WITH"))]
        total = 0.0
        with self.engine.connect() as conn:
            cursor = conn.connection.driver_connection.cursor()
            for statement, parameters in selects:
                total += min(cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                             .fetchone()[0][0]["Execution Time"] for _ in range(3))
        return len(self.caught), len(selects), total


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database", help="postgresql://… filled by scripts/scale_load.py")
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--customer", type=int, default=4001, help="the returning customer's id (default 4001)")
    args = parser.parse_args(argv)

    from portal import create_app
    from portal.devprovider import ProviderProcess
    from portal.extensions import db

    provider = ProviderProcess(PROVIDER_PORT, []).start()
    trips = RoundTrips()
    # configured as bench_pages.py and `flask portal dev` do: the provider is the primary one
    os.environ["PORTAL_OIDC_ISSUER"] = provider.issuer
    os.environ["PORTAL_DATABASE_URL"] = "postgresql+psycopg://" + args.database.split("://", 1)[1]
    os.environ["PORTAL_SIGNIN_RATE_LIMIT"] = "100000 per minute"
    app = create_app()
    tag = f"{time.time_ns():x}"
    cases = {
        "returning customer": lambda i: {"sub": f"scale-customer-{args.customer}",
                                         "email": f"klient{args.customer}@example.test", "email_verified": True},
        "newcomer, e-mail matches nothing": lambda i: {"sub": f"bench-{tag}-{i}", "email_verified": True,
                                                       "email": f"nobody-{tag}-{i}@example.test"},
        "newcomer, customer's e-mail (linked)": lambda i: {"sub": f"bench-{tag}-c{i}", "email_verified": True,
                                                           "email": f"klient{args.customer + i}@example.test"},
    }
    results, plans = {}, {}
    with app.app_context():
        engine = db.engine
    try:
        for name, claims in cases.items():
            client = app.test_client()
            one_sign_in(client, provider, trips, claims(-1))  # warm-up: discovery, JWKS, caches
            samples = []
            for i in range(args.runs - 1):
                samples.append(one_sign_in(app.test_client(), provider, trips, claims(i)))
            with Statements(engine) as statements:  # the last run's SQL, explained below
                samples.append(one_sign_in(app.test_client(), provider, trips, claims(args.runs - 1)))
            results[name] = samples
            plans[name] = statements.explained_ms()
    finally:
        provider.stop()
        engine.dispose()

    def pct(values, q):
        return statistics.quantiles(values, n=100)[q - 1]

    print(f"\nsign-in callback, {args.runs} runs per case, ms (portal = callback − provider round trips)")
    print(f"{'case':38} {'portal p50':>10} {'p95':>7} {'max':>7} {'CPU p50':>7} {'p95':>6} {'provider p50':>12} "
          f"{'SQL':>4} {'SELECT ms':>9}")
    for name, samples in results.items():
        portal = [total - trip for total, trip, _cpu in samples]
        count, selects, server_ms = plans[name]
        cpu = [c for _t, _p, c in samples]
        print(f"{name:38} {pct(portal, 50):10.1f} {pct(portal, 95):7.1f} {max(portal):7.1f} {pct(cpu, 50):7.1f} "
              f"{pct(cpu, 95):6.1f} {pct([p for _t, p, _c in samples], 50):12.1f} {count:4} {server_ms:9.2f}")
    print("(CPU: the callback's CPU time in the portal's thread, its HTTP client's part of the round trips "
          "included; SQL: statements of one sign-in; SELECT ms: PostgreSQL's execution time of its SELECTs, summed, "
          "best of 3 each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
