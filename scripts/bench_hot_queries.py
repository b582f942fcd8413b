"""The hot-path queries before and after issue 15, side by side, on a database filled by scale_load.py.

    .venv/bin/python scripts/bench_hot_queries.py postgresql://postgres@127.0.0.1:5432/portal_scale

"before" runs the SQL the portal ran until issue 15 (its OR query, its counts over all rows), in a
transaction that drops the indexes of migrations 0010 and 0016 and puts back the index on recordings(room_id),
then rolls back; "after" runs today's service functions and EXPLAIN ANALYZEs every SELECT they issue,
in the same run, on the same data. Each figure is the best of three runs of PostgreSQL's
"Execution Time" (server time, no network, no Python), in milliseconds, summed over a function's queries.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import event, select, text  # noqa: E402

RUNS = 3
BIG, TYPICAL = 1, 4001  # scale_load: customer 1 has the skewed recordings; 4001 has an authorized person

DROP_NEW = """
DROP INDEX ix_audit_events_customer_keyset; DROP INDEX ix_audit_events_actor_kind_keyset;
CREATE INDEX ix_recordings_room_id_bench ON recordings (room_id); DROP INDEX ix_recordings_room_keyset;
DROP INDEX ix_access_requests_pending; DROP INDEX ix_correction_requests_pending;
DROP INDEX ix_termination_requests_open; DROP INDEX ix_customers_email_lower;
DROP INDEX ix_delegates_email_lower; DROP INDEX ix_staff_roles_email_lower; DROP INDEX ix_recordings_room_live;
"""

# main before issue 15 (portal/transparency/activity.py belongs_to, as SQLAlchemy rendered it: the
# approval's sub-subquery named audit_events without correlating it)
OLD_ACTIVITY = """
SELECT * FROM audit_events WHERE (audit_events.customer_id = :c OR audit_events.kind = 'sign_in' AND EXISTS (
  SELECT * FROM delegates WHERE delegates.customer_id = :c AND delegates.identity_id = audit_events.actor_identity_id
  AND delegates.status IN ('active', 'removed')
  AND (NOT EXISTS (SELECT * FROM access_requests WHERE access_requests.delegate_id = delegates.id)
       OR EXISTS (SELECT * FROM access_requests, audit_events WHERE access_requests.delegate_id = delegates.id
                  AND access_requests.status = 'approved' AND access_requests.decided_at <= audit_events.at))
  AND delegates.created_at <= audit_events.at AND (delegates.removed_at IS NULL OR delegates.removed_at >= audit_events.at)))
  {extra} ORDER BY audit_events.seq DESC {limit}"""
OLD_RECORDINGS_PAGE = """
SELECT recordings.id, rooms.name, recordings.title, recordings.started_at, recordings.duration_s, recordings.size_bytes,
       recordings.sha256 FROM recordings JOIN rooms ON rooms.id = recordings.room_id WHERE rooms.customer_id = :c
ORDER BY recordings.id LIMIT 21"""
# the rooms page until the full-scale run: a window ranking every recording of the rooms
OLD_ROOMS_NEWEST = """
SELECT recordings.* FROM recordings JOIN (SELECT recordings.id AS id, row_number() OVER (PARTITION BY recordings.room_id
  ORDER BY recordings.started_at DESC, recordings.id DESC) AS position FROM recordings
  WHERE recordings.room_id IN (SELECT rooms.id FROM rooms WHERE rooms.customer_id = :c)
  AND recordings.deletion_receipt_id IS NULL) AS ranked ON ranked.id = recordings.id
WHERE ranked.position <= 11 ORDER BY recordings.room_id, recordings.started_at DESC, recordings.id DESC"""
OLD_COUNTERS = """
SELECT count(recordings.id), coalesce(sum(recordings.size_bytes), 0) FROM recordings JOIN rooms ON rooms.id = recordings.room_id
WHERE rooms.customer_id = :c"""
OLD_QUEUE_COUNT = ("SELECT count(access_requests.id) FROM access_requests WHERE access_requests.status = 'pending' {extra};"
                   "SELECT * FROM access_requests WHERE access_requests.status = 'pending' {extra} "
                   "ORDER BY access_requests.created_at, access_requests.id LIMIT 21")
OLD_QUEUE_RECORDINGS = "AND access_requests.delegate_id IN (SELECT delegates.id FROM delegates WHERE delegates.recordings IS true)"
OLD_TERMINATIONS = ("SELECT * FROM termination_requests WHERE status IN ('requested', 'in_progress') "
                    "AND id > :after ORDER BY id LIMIT 51")
OLD_CORRECTIONS = "SELECT * FROM correction_requests WHERE status = 'pending' AND id > :after ORDER BY id LIMIT 21"
OLD_SIGN_IN = """
SELECT * FROM customers WHERE lower(customers.email) IN (:e) AND customers.id NOT IN
  (SELECT identities.customer_id FROM identities WHERE identities.customer_id IS NOT NULL);
SELECT * FROM delegates WHERE lower(delegates.email) IN (:e) AND delegates.identity_id IS NULL
  AND delegates.status IN ('invited', 'active')"""


def explain_ms(conn, sql: str, params) -> float:
    """PostgreSQL's execution time of one statement (best of RUNS), in ms."""
    best = None
    for _ in range(RUNS):
        plan = conn.exec_driver_sql("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).scalar()
        ms = plan[0]["Execution Time"]
        best = ms if best is None else min(best, ms)
    return best


def old_ms(conn, sql: str, **params) -> float:
    total = 0.0
    for statement in filter(str.strip, sql.split(";")):
        compiled = text(statement).bindparams(**params).compile(conn)
        total += explain_ms(conn, str(compiled).strip(), compiled.params)
    return total


def new_ms(db, function) -> float:
    """Run `function`, then EXPLAIN ANALYZE every SELECT it issued with its own parameters."""
    statements = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        function()
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    conn = db.session.connection()
    return sum(explain_ms(conn, statement, parameters) for statement, parameters in statements)


def main(argv=None) -> int:
    url = (argv or sys.argv[1:] or ["postgresql://postgres@127.0.0.1:5432/portal_scale"])[0]
    from portal import create_app
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://" + url.split("://", 1)[1],
                      "OIDC_PROVIDERS": [], "TESTING": True})
    with app.app_context():
        from portal.account.services import owned_account, staff_corrections
        from portal.audit import AuditEvent
        from portal.auth import services as auth
        from portal.auth.models import Identity
        from portal.customers.models import Room
        from portal.people.access import ROOM_PREVIEW, newest_recordings
        from portal.people.moderation import QueueFilters, pending_queue
        from portal.termination.services import consequences, staff_queue
        from portal.transparency import inventory, services
        from portal.transparency.activity import page_ids

        deep = {c: db.session.scalars(page_ids(c, 2001)).all()[-1] for c in (BIG, TYPICAL)}
        owner = db.session.scalar(select(Identity).where(Identity.customer_id == BIG))
        newcomer = Identity(issuer="https://bench.example", subject="bench", email="klient777@example.test")
        db.session.add(newcomer)
        db.session.flush()
        export_rows = {}

        def export(c):
            export_rows[c] = sum(1 for _ in inventory.stream("activity_log", c))

        cases = [
            ("activity log, first page (big customer)", lambda: services.activity_page(BIG, None, None),
             lambda conn: old_ms(conn, OLD_ACTIVITY.format(extra="", limit="LIMIT 21"), c=BIG)),
            ("activity log, first page (typical)", lambda: services.activity_page(TYPICAL, None, None),
             lambda conn: old_ms(conn, OLD_ACTIVITY.format(extra="", limit="LIMIT 21"), c=TYPICAL)),
            ("activity log, page 100 (big customer)", lambda: services.activity_page(BIG, None, deep[BIG]),
             lambda conn: old_ms(conn, OLD_ACTIVITY.format(extra="AND audit_events.seq < :d", limit="LIMIT 21"),
                                 c=BIG, d=deep[BIG])),
            ("activity export, all batches (typical)", lambda: export(TYPICAL),
             lambda conn: old_ms(conn, OLD_ACTIVITY.format(extra="", limit=""), c=TYPICAL)),
            ("data page, first 20 recordings (big)", lambda: inventory.page("recordings", BIG),
             lambda conn: old_ms(conn, OLD_RECORDINGS_PAGE, c=BIG)),
            ("rooms page, newest of each room (big)",
             lambda: newest_recordings(set(db.session.scalars(select(Room.id).where(Room.customer_id == BIG))),
                                       ROOM_PREVIEW + 1),
             lambda conn: old_ms(conn, OLD_ROOMS_NEWEST, c=BIG)),
            ("account home + termination counters (big)",
             lambda: consequences(owned_account(owner).customer, owner.created_at.date()),
             lambda conn: 2 * old_ms(conn, OLD_COUNTERS, c=BIG)),
            ("moderation queue page + count", lambda: pending_queue(QueueFilters()),
             lambda conn: old_ms(conn, OLD_QUEUE_COUNT.format(extra=""))),
            ("moderation queue, recordings filter", lambda: pending_queue(QueueFilters(recordings="yes")),
             lambda conn: old_ms(conn, OLD_QUEUE_COUNT.format(extra=OLD_QUEUE_RECORDINGS))),
            ("termination queue, open", lambda: staff_queue("open"),
             lambda conn: old_ms(conn, OLD_TERMINATIONS, after=0)),
            ("staff correction queue", lambda: staff_corrections(True, None),
             lambda conn: old_ms(conn, OLD_CORRECTIONS, after=0)),
            ("sign-in e-mail look-ups", lambda: auth._waiting_for(newcomer, "klient777@example.test"),
             lambda conn: old_ms(conn, OLD_SIGN_IN, e="klient777@example.test")),
        ]
        after = {name: new_ms(db, function) for name, function, _old in cases}
        began = time.perf_counter()
        conn = db.session.connection()
        conn.exec_driver_sql(DROP_NEW)
        print(f"(dropping the new indexes for 'before' took {time.perf_counter() - began:.1f} s)")
        before = {name: old(conn) for name, _function, old in cases}
        db.session.rollback()
        events = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
        print(f"\n{events:,} audit events; server execution time, ms (best of {RUNS})\n")
        print(f"| {'query':45} | {'before':>10} | {'after':>8} |")
        print(f"|{'-' * 47}|{'-' * 12}:|{'-' * 9}:|")
        for name, _f, _o in cases:
            print(f"| {name:45} | {before[name]:10.1f} | {after[name]:8.2f} |")
        print(f"\n(the typical customer's export: {export_rows.get(TYPICAL, 0)} events)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
