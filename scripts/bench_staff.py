"""Server time of the staff console's pages on a filled PostgreSQL database (issue 18 goals).

    python scripts/bench_staff.py --database-url postgresql://postgres@127.0.0.1:5432/bench_staff [--scale 0.05]

--scale 1 is the issue's size: 1,000,000 customers and 20,000,000 audit events (plus 20,000
data-subject requests); --scale 0.05 is a twentieth of it. The database is dropped and created
again, built with the real migrations and filled with set-based SQL (generate_series), then
ANALYZEd. Each page is requested --requests times in-process (WSGI, no network) as a signed-in
privacy officer; the script prints p50/p95 milliseconds and the SQL statements per request, beside
a reference page measured in the same run: a page that only runs SELECT 1 and renders the same
base template. Nothing is asserted: the figures are for people to read.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from sqlalchemy import event, text  # noqa: E402

from portal import create_app  # noqa: E402
from portal.extensions import db  # noqa: E402

FULL_CUSTOMERS = 1_000_000
FULL_EVENTS = 20_000_000
FULL_CASES = 20_000
KINDS = ["sign_in", "data_exported", "recording_downloaded", "consent_changed", "customer_data_revealed"]


def recreate(url: str) -> str:
    parts = urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    name = parts.path.lstrip("/")
    with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return parts._replace(scheme="postgresql+psycopg").geturl()


FILL = [
    # customers with a contract each; e-mail, phone and NIP distinct per customer
    """INSERT INTO customers (number, kind, first_name, last_name, email, phone, tax_id, street, postal_code, city,
                              country, preferred_language, created_at, updated_at)
       SELECT 'MCX-' || lpad(g::text, 7, '0'), 'person', 'Jan', 'Nowak' || g, 'klient' || g || '@example.pl',
              '+48 5' || lpad(g::text, 8, '0'), lpad(g::text, 10, '0'), 'ul. Testowa 1', '00-001', 'Warszawa',
              'PL', 'pl', now(), now()
       FROM generate_series(1, :customers) AS g""",
    """INSERT INTO contracts (customer_id, number, signed_on, status)
       SELECT id, 'U/' || id, DATE '2025-01-15', 'active' FROM customers""",
    """INSERT INTO identities (issuer, subject, email, email_verified, name, created_at)
       SELECT 'http://idp.bench', 'staff-' || g, 'staff' || g || '@mcx.pl', true, 'Staff ' || g, now()
       FROM generate_series(1, 50) AS g""",
    # audit events one second apart, ending now; seq = id, so the chain has positions (hashes are
    # not real: the pages do not verify the chain)
    """INSERT INTO audit_events (seq, at, kind, actor_identity_id, customer_id, data, prev_hash, hash, key_id)
       SELECT g, (now() at time zone 'utc') - make_interval(secs => :events - g),
              (ARRAY['sign_in','data_exported','recording_downloaded','consent_changed','customer_data_revealed'])[1 + g % 5],
              CASE WHEN g % 7 = 0 THEN 1 + g % 50 END, 1 + (g::bigint * 7919) % :customers, '{}',
              md5((g - 1)::text) || md5((g - 1)::text), md5(g::text) || md5(g::text), 'dev'
       FROM generate_series(1, :events) AS g""",
    "SELECT setval('audit_events_id_seq', (SELECT max(id) FROM audit_events))",
    # open data-subject requests, due over the next 40 days (some overdue), and closed ones
    """INSERT INTO data_subject_requests (customer_id, kind, text, language, status, received_at, due_on)
       SELECT 1 + (g::bigint * 104729) % :customers, 'access', 'Kopia moich danych.', 'pl',
              CASE WHEN g % 4 = 0 THEN 'done' ELSE 'open' END,
              (now() at time zone 'utc') - make_interval(days => g % 40), CURRENT_DATE + (g % 40) - 5
       FROM generate_series(1, :cases) AS g""",
]


def fill(app, scale: float) -> dict:
    sizes = {"customers": max(int(FULL_CUSTOMERS * scale), 100), "events": max(int(FULL_EVENTS * scale), 1000),
             "cases": max(int(FULL_CASES * scale), 50)}
    with app.app_context(), db.engine.begin() as conn:
        for statement in FILL:
            started = time.perf_counter()
            conn.execute(text(statement), sizes)
            print(f"  {statement.split()[0]} {statement.split()[2]:<24} {time.perf_counter() - started:7.1f} s",
                  flush=True)
    with app.app_context(), db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
    return sizes


def signed_in_officer(app):
    from portal.auth import sessions
    from portal.auth.models import Identity, StaffRole
    from portal.db_types import utcnow

    with app.app_context():
        officer = Identity(issuer="http://idp.bench", subject="officer", email="iod@mcx.pl", email_verified=True,
                           name="IOD")
        db.session.add(officer)
        db.session.flush()
        db.session.add(StaffRole(email=officer.email, role="privacy_officer", identity_id=officer.id))
        record = sessions.open_session(officer, provider="mcx", id_token=None, auth_time=utcnow(), provider_sid=None,
                                       user_agent="bench", ip_address="127.0.0.1")
        db.session.commit()
        client = app.test_client()
        with client.session_transaction() as session:
            session.update(sid=record.id, _user_id=str(officer.id), _fresh=True)
    return client


def add_reference_page(app) -> None:
    """GET /_bench/reference: a page that runs SELECT 1 and renders the base template, signed in."""
    from flask_login import login_required

    from portal.web.render import render

    @login_required
    def reference():
        db.session.execute(text("SELECT 1")).scalar()
        return render("web/index.html")

    app.add_url_rule("/_bench/reference", "bench_reference", reference)


def measure(app, client, url: str, requests: int) -> tuple[float, float, float]:
    statements = []

    def count(*_args):
        statements.append(1)

    times = []
    for n in range(requests + 3):
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", count)
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
            event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200, (url, response.status_code)
        if n >= 3:  # warm-up requests are not counted
            times.append(elapsed * 1000)
    per_request = len(statements) / (requests + 3)
    return statistics.median(times), statistics.quantiles(times, n=20)[18], per_request


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True, help="a PostgreSQL database; it is DROPPED and created")
    parser.add_argument("--scale", type=float, default=0.05, help="1 = 1M customers, 20M audit events")
    parser.add_argument("--requests", type=int, default=100)
    args = parser.parse_args()

    url = recreate(args.database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "OIDC_PROVIDERS": [], "STAFF_LOOKUP_RATE_LIMIT": "1000000 per hour",
                      "RATELIMIT_STORAGE_URI": "memory://", "TESTING": True})
    app.logger.disabled = True
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    print(f"filling at scale {args.scale}:", flush=True)
    sizes = fill(app, args.scale)
    add_reference_page(app)
    client = signed_in_officer(app)
    deep = sizes["events"] // 10
    customer = f"MCX-{sizes['customers'] // 2:07d}"
    pages = [
        ("reference: SELECT 1 page", "/_bench/reference"),
        ("audit log, first page", "/staff/audit"),
        ("audit log, deep page", f"/staff/audit?before={deep}"),
        ("audit log, kind filter, deep", f"/staff/audit?kind=consent_changed&before={deep}"),
        ("audit log, one customer", f"/staff/audit?customer={customer}"),
        ("audit log, days long ago", "/staff/audit?since=2000-01-01&until=2000-01-31"),
        ("customer look-up (e-mail)", f"/staff/customers?by=email&value=klient{sizes['customers'] // 3}@example.pl"),
        ("customer look-up (phone)", f"/staff/customers?by=phone&value=5{sizes['customers'] // 4:08d}"),
        ("data-subject request queue", "/staff/data-requests"),
        ("staff home", "/staff"),
    ]
    print(f"\n{sizes['customers']:,} customers, {sizes['events']:,} audit events, {sizes['cases']:,} requests; "
          f"{args.requests} requests per page, in-process\n")
    print(f"{'page':<32} {'p50 ms':>8} {'p95 ms':>8} {'SQL/request':>12}")
    for label, path in pages:
        p50, p95, statements = measure(app, client, path, args.requests)
        print(f"{label:<32} {p50:8.1f} {p95:8.1f} {statements:12.1f}", flush=True)


if __name__ == "__main__":
    main()
