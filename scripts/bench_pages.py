#!/usr/bin/env python3
"""Benchmark the portal's pages side by side with a TechEmpower "Fortunes" page (issue #15).

    python scripts/bench_pages.py                                   # SQLite, demo data
    python scripts/bench_pages.py --database-url postgresql://postgres@127.0.0.1/portal_scale \
        --customer-number MCX-000042                                # e.g. what scripts/scale_load.py filled

Both apps run under gunicorn with the project's gunicorn.conf.py (gthread, same workers and
threads) in the same run; `wrk` (Debian package `wrk`) loads one page at a time. Per page it
prints requests/s, that figure as a share of Fortunes' requests/s (Fortunes measured right
before each page, since the machine's load changes during a run), p50/p95/p99 server time (gunicorn's access-log request time,
%(D)s), the SQL statements one request runs and, in-process (cursor-execute listeners, on the same
database and session), the median time a request waits on the database beside its whole time.
At scale, use few connections (`--connections 1`) so that the times are the page's, not queueing;
`--first-byte-runs N` also times the export's first byte.

Signing in: the typical customer, one of their delegates and the two staff roles. A person the
database already links to an identity gets a server-side session for it (what a sign-in opens);
anyone else signs in through the local development OpenID provider, as `flask portal dev` does,
so the portal links them by verified e-mail. Nothing else is written (page views write at most a
session's last_seen once a minute). On SQLite, a fresh temporary database is migrated and loaded
with the demo data. Fortunes reads its own `fortune` table (in a temporary SQLite file, or with
--fortunes-database-url).
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# every request of the benchmark (wrk, the test client) names the same browser: Flask-Login's session
# protection compares a hash of the address and User-Agent with the one taken at sign-in, and a
# mismatch marks the session not fresh, so the cookie would be signed and sent again on every request
# (what no browser keeping its cookie does)
USER_AGENT = "bench_pages"
PAGES = {
    "customer": ["/account/", "/account/consents", "/account/people", "/rooms", "/account/activity",
                 "/account/sessions", "/account/data"],
    "delegate": ["/account/", "/rooms"],
    "moderator": ["/staff/requests"],
    "privacy_officer": ["/staff/terminations"],
}

EXPORT = "/account/export.json"  # streamed: timed to its first byte (--first-byte-runs)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_environment(args, workdir: Path) -> None:
    """Environment shared by this process and both gunicorn servers: the same secret (cookies made
    here are valid there), the database, and nothing written into the checkout's instance/."""
    os.environ.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("PORTAL_AUDIT_KEY", f"bench:{secrets.token_urlsafe(48)}")
    os.environ["PORTAL_DATABASE_URL"] = args.database_url or f"sqlite:///{workdir / 'portal.sqlite3'}"
    os.environ.setdefault("PORTAL_RECORDINGS_DIR", str(workdir / "recordings"))
    os.environ.setdefault("PORTAL_OIDC_SIGNING_KEY_FILE", str(workdir / "oidc-signing-key.pem"))


def load_demo_database() -> None:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.demo.data import load_demo
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
        db.engine.dispose()


def sign_in_everyone(customer_number: str, provider_port: int) -> dict[str, str]:
    """role → the Cookie header of a session of that role (see the module docstring)."""
    from sqlalchemy import select

    from portal import create_app
    from portal.auth import sessions
    from portal.auth.models import Identity, StaffRole
    from portal.auth.services import grant_role
    from portal.customers.models import Customer
    from portal.db_types import utcnow
    from portal.devprovider import ProviderProcess
    from portal.extensions import db
    from portal.people.models import Delegate, DelegateStatus

    provider = ProviderProcess(provider_port, []).start()
    os.environ["PORTAL_OIDC_ISSUER"] = provider.issuer
    app = create_app()
    cookies: dict[str, str] = {}
    try:
        with app.app_context():
            customer = db.session.scalar(select(Customer).where(Customer.number == customer_number))
            if customer is None:
                raise SystemExit(f"no customer {customer_number} in the database")
            delegate = db.session.scalar(select(Delegate).where(
                Delegate.customer_id == customer.id, Delegate.status == DelegateStatus.ACTIVE).order_by(Delegate.id))
            people = {"customer": (customer.email, db.session.scalar(
                select(Identity).where(Identity.customer_id == customer.id)))}
            if delegate is not None:
                linked = db.session.get(Identity, delegate.identity_id) if delegate.identity_id else None
                people["delegate"] = (delegate.email, linked)
            for role in ("moderator", "privacy_officer"):
                grant = db.session.scalar(select(StaffRole).where(StaffRole.role == role).order_by(StaffRole.id))
                if grant is None:
                    grant = grant_role(f"bench-{role.replace('_', '-')}@mcx.pl", role)
                    db.session.commit()
                people[role] = (grant.email, grant.identity)
            for who, (email, identity) in people.items():
                if identity is not None:
                    record = sessions.open_session(identity, provider="mcx", id_token=None, auth_time=utcnow(),
                                                   provider_sid=None, user_agent="bench_pages", ip_address="127.0.0.1")
                    db.session.commit()
                    cookies[who] = _session_cookie(app, {"sid": record.id, "_user_id": str(identity.id), "_fresh": True})
                else:
                    cookies[who] = _sign_in_through_provider(app, provider, who, email)
            db.engine.dispose()
    finally:
        provider.stop()
    return cookies


def _session_cookie(app, values: dict) -> str:
    """The cookie `login_user` would leave in the benchmark's browser (USER_AGENT on 127.0.0.1)."""
    from flask_login.utils import _create_identifier

    with app.test_request_context(headers={"User-Agent": USER_AGENT}, environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        values = {**values, "_id": _create_identifier()}
    serializer = app.session_interface.get_signing_serializer(app)
    return f"{app.config['SESSION_COOKIE_NAME']}={serializer.dumps(values)}"


def _sign_in_through_provider(app, provider, who: str, email: str) -> str:
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    provider.set_user({"sub": f"bench-{who}", "email": email, "email_verified": True, "name": f"Bench {who}"})
    start = client.get("/auth/login?provider=mcx")
    answer = requests.post(start.headers["Location"], data={"sub": f"bench-{who}"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    client.get(f"{callback.path}?{callback.query}")
    name = app.config["SESSION_COOKIE_NAME"]
    return f"{name}={client.get_cookie(name).value}"


def count_statements(cookies: dict[str, str], repeats: int = 5) -> dict[tuple[str, str], tuple]:
    """(role, page) → (SQL statements of one request, median ms waiting on SQL, median ms of the
    whole request, median CPU ms of the request's thread, PostgreSQL's execution ms of its SELECTs)
    in-process, one request at a time (after a first one warmed the caches): what of a page's time
    is the database's at this data size, and what is Python's. The CPU and execution times are the
    figures the machine's other load blurs least. Execution times are PostgreSQL's only (0 on SQLite)."""
    from sqlalchemy import event

    from portal import create_app
    from portal.extensions import db

    app = create_app()
    counts = {}
    statements: list[tuple[str, object]] = []
    waited = [0.0]
    with app.app_context():
        engine = db.engine

    def before(conn, cursor, statement, parameters, *rest):
        statements.append((statement, parameters))
        conn.info["began"] = time.perf_counter()

    def after(conn, *rest):
        waited[0] += time.perf_counter() - conn.info.pop("began")

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    # each request in its own application context, as in the server (no `g` or session shared)
    client = app.test_client(use_cookies=False)  # the Cookie header given is the session
    for who, pages in PAGES.items():
        if who not in cookies:
            continue
        for page in pages:
            headers = {"Cookie": cookies[who], "User-Agent": USER_AGENT}
            client.get(page, headers=headers)
            sql, total, cpu = [], [], []
            for _ in range(repeats):
                statements.clear()
                waited[0] = 0.0
                began, thread = time.perf_counter(), time.thread_time()
                response = client.get(page, headers=headers)
                cpu.append((time.thread_time() - thread) * 1000)
                total.append((time.perf_counter() - began) * 1000)
                sql.append(waited[0] * 1000)
            counts[(who, page)] = (len(statements) if response.status_code == 200 else -response.status_code,
                                   statistics.median(sql), statistics.median(total), statistics.median(cpu),
                                   _executed_ms(engine, statements))
    engine.dispose()
    return counts


def _executed_ms(engine, statements) -> float:
    """PostgreSQL's execution time of the SELECTs among `statements`, summed (best of 3 each)."""
    if engine.dialect.name != "postgresql":
        return 0.0
    total = 0.0
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()
        for statement, parameters in list(statements):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                total += min(cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
                             .fetchone()[0][0]["Execution Time"] for _ in range(3))
        conn.rollback()
    return total


class Server:
    """One gunicorn with the project's gunicorn.conf.py, its access log giving each request's time."""

    def __init__(self, app_spec: str, workdir: Path, name: str, *, chdir: Path | None = None, env: dict | None = None):
        self.port = free_port()
        self.log = workdir / f"{name}-access.log"
        self.errors = open(workdir / f"{name}-error.log", "w")
        args = [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
                "--access-logfile", str(self.log), "--access-logformat", "%(U)s %(s)s %(D)s"]
        if chdir:
            args += ["--chdir", str(chdir)]
        self.process = subprocess.Popen(args + [app_spec], cwd=ROOT, stdout=self.errors, stderr=self.errors,
                                        env={**os.environ, **(env or {}), "PORTAL_BIND": f"127.0.0.1:{self.port}"})
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.errors.name}")
            try:
                requests.get(self.url + path, timeout=2)
                return
            except requests.RequestException:
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer {path} in {timeout}s")

    def mark(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def times_since(self, offset: int, path: str) -> tuple[list[float], int]:
        """Server times (ms) of the 200 answers for `path` logged after `offset`, and the other answers."""
        times, others = [], 0
        with open(self.log, "rb") as log:
            log.seek(offset)
            for line in log.read().decode(errors="replace").splitlines():
                parts = line.split()
                if len(parts) != 3 or parts[0] != path:
                    continue
                if parts[1] == "200":
                    times.append(int(parts[2]) / 1000)
                else:
                    others += 1
        return times, others

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.errors.close()


def load(server: Server, path: str, cookie: str | None, args) -> dict:
    """wrk on one page: requests/s and the server's percentiles."""
    url = server.url + path
    headers = ["-H", f"User-Agent: {USER_AGENT}"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
    subprocess.run(["wrk", "-t1", "-c2", "-d1s", *headers, url], capture_output=True, check=True)  # warm-up
    offset = server.mark()
    out = subprocess.run(["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{args.duration}s",
                          *headers, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    time.sleep(0.3)  # let the last access-log lines land
    times, others = server.times_since(offset, path)
    if others or not times:
        print(f"  ! {path}: {others} answers other than 200, {len(times)} answers 200", file=sys.stderr)

    def pct(q):
        return statistics.quantiles(times, n=100)[q - 1] if len(times) > 1 else (times[0] if times else float("nan"))

    return {"rate": rate, "p50": pct(50), "p95": pct(95), "p99": pct(99), "non200": others}


def first_byte(server: Server, path: str, cookie: str, runs: int) -> dict:
    """Sequential streamed requests: ms until the first byte of the body (the client's clock:
    gunicorn logs a streamed answer's time when the last byte is sent), p50/p95/p99."""
    times = []
    for _ in range(runs + 1):
        began = time.perf_counter()
        with requests.get(server.url + path, headers={"Cookie": cookie}, stream=True, timeout=60) as answer:
            if answer.status_code != 200:
                raise SystemExit(f"{path} answered {answer.status_code}")
            next(answer.iter_content(1))
            times.append((time.perf_counter() - began) * 1000)
    times = times[1:]  # the first one warms the worker
    cuts = statistics.quantiles(times, n=100)
    return {"p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="the portal's database (default: a temporary SQLite with the demo data)")
    parser.add_argument("--customer-number", default="MCX-000123", help="the typical customer (default: the demo's)")
    parser.add_argument("--fortunes-database-url", help="Fortunes' database (default: a temporary SQLite file)")
    parser.add_argument("--duration", type=int, default=5, help="seconds of load per page (default 5)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--wrk-threads", type=int, default=1)
    parser.add_argument("--first-byte-runs", type=int, default=0,
                        help="also time the export's first byte over this many requests (each one is audited)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk not found: apt-get install wrk")

    workdir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    prepare_environment(args, workdir)
    if not args.database_url:
        load_demo_database()
    cookies = sign_in_everyone(args.customer_number, free_port())
    statements = count_statements(cookies)

    fortunes_url = args.fortunes_database_url or f"sqlite:///{workdir / 'fortunes.sqlite3'}"
    portal = Server("wsgi:app", workdir, "portal")
    fortunes = Server("fortunes_app:app", workdir, "fortunes", chdir=ROOT / "scripts",
                      env={"FORTUNES_DATABASE_URL": fortunes_url})
    try:
        portal.wait("/healthz")
        fortunes.wait("/fortunes")
        workers = os.environ.get("PORTAL_WORKERS", "2")
        threads = os.environ.get("PORTAL_THREADS", "8")
        print(f"gunicorn.conf.py: {workers} workers x {threads} threads (gthread); wrk {args.connections} "
              f"connections, {args.duration} s per page; database {os.environ['PORTAL_DATABASE_URL'].split('@')[-1]}")
        # the machine's load changes during a run: each page is measured right after a Fortunes
        # run and compared with that one
        reference, results = [], {}
        for who, pages in PAGES.items():
            if who not in cookies:
                print(f"  ({who}: none in this database, skipped)")
                continue
            for page in pages:
                reference.append(load(fortunes, "/fortunes", None, args))
                results[(who, page)] = {**load(portal, page, cookies[who], args), "fortunes": reference[-1]["rate"]}
        exported = first_byte(portal, EXPORT, cookies["customer"], args.first_byte_runs) \
            if args.first_byte_runs else None
    finally:
        portal.stop()
        fortunes.stop()
    rates = [r["rate"] for r in reference]
    print(f"\nFortunes: {statistics.mean(rates):.0f} req/s on average ({min(rates):.0f}-{max(rates):.0f}), "
          f"p50 {statistics.mean(r['p50'] for r in reference):.1f} ms, "
          f"p95 {statistics.mean(r['p95'] for r in reference):.1f} ms, 1 SQL statement")
    print(f"{'page':36} {'req/s':>8} {'Fortunes':>8} {'ratio':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
          f"{'SQL':>4} {'SQL ms':>6} {'in-proc':>7} {'CPU ms':>6} {'PG ms':>6}")
    for (who, page), r in results.items():
        count, sql_ms, inproc_ms, cpu_ms, pg_ms = statements.get((who, page), (0, 0.0, 0.0, 0.0, 0.0))
        print(f"{who + ' ' + page:36} {r['rate']:8.0f} {r['fortunes']:8.0f} {r['rate'] / r['fortunes']:6.2f} "
              f"{r['p50']:7.1f} {r['p95']:7.1f} {r['p99']:7.1f} {count:4} {sql_ms:6.1f} {inproc_ms:7.1f} "
              f"{cpu_ms:6.1f} {pg_ms:6.2f}")
    print("(in-process, median of 5 requests one at a time: SQL ms waiting on the database, in-proc the whole "
          "request, CPU ms its thread's CPU time; PG ms: PostgreSQL's execution time of its SELECTs, best of 3)")
    if exported:
        print(f"{'customer ' + EXPORT + ' (first byte)':36} {'':>8} {'':>8} {'':>6} {exported['p50']:7.1f} "
              f"{exported['p95']:7.1f} {exported['p99']:7.1f}   ({exported['runs']} sequential requests)")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
