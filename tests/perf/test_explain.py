"""Every hot-path query reads what its page shows, not the whole table (issue 15, item 2).

On a few thousand generated rows (scripts/scale_load.py's generator, vacuumed and analysed), with sequential
scans priced out (`enable_seqscan = off`), each query the real service function runs is
EXPLAIN ANALYZEd with its own parameters, and its plan must:
- scan no big table sequentially (with seq scans off, one still appearing means no index serves it);
- read at most a bounded number of rows from any big table (rows returned plus rows a filter
  removed, over all loops) — a bound that does not grow with the table;
- sort no more rows than the bound either (a top-N sort of the whole table would read it all).
The bounds are a page or a batch, times the branches a query merges (per person, per room).

PostgreSQL only: EXPLAIN plans are PostgreSQL's (CI runs the suite on PostgreSQL too); on SQLite
the module is skipped with that reason.
"""
from __future__ import annotations

import importlib.util
import json
import os
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from portal import create_app
from portal.extensions import db

pytestmark = pytest.mark.skipif(
    not os.environ.get("PORTAL_TEST_DATABASE_URL"),
    reason="EXPLAIN plans are PostgreSQL's; run with PORTAL_TEST_DATABASE_URL (CI does)")

ROOT = Path(__file__).resolve().parents[2]
BIG = {"audit_events", "recordings", "customers", "identities", "delegates", "access_requests", "rooms",
       "consent_events", "correction_requests", "termination_requests", "contracts"}
VOLUMES = {"customers": 2000, "recordings": 20000, "big_customer_recordings": 2000, "pending_access_requests": 3000,
           "consent_events": 2000, "audit_events": 30000, "pending_corrections": 600, "open_terminations": 300}
BIG_CUSTOMER = 1  # scale_load: customer 1 has the skewed recordings, 20 rooms and an authorized person


def _scale_load():
    spec = importlib.util.spec_from_file_location("scale_load", ROOT / "scripts" / "scale_load.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def scale_app(database_url, tmp_path_factory):
    """The worker's database filled by scripts/scale_load.py at a small volume, vacuumed and analysed;
    emptied after."""
    import psycopg

    from tests.conftest import _config_for, _empty_database

    app = create_app(_config_for(database_url, [], tmp_path_factory.mktemp("recordings")))
    loader = _scale_load()
    with app.app_context():
        with psycopg.connect(database_url) as conn:
            loader.fill(conn, VOLUMES)
        key_id = app.config["AUDIT_KEY_ID"]
        loader.fill_audit(database_url, VOLUMES, key_id, app.config["AUDIT_KEYS"][key_id])
        with psycopg.connect(database_url) as conn:
            conn.autocommit = True
            # as autovacuum leaves an insert-mostly table: analysed, its visibility map set
            conn.execute("VACUUM ANALYZE")
        try:
            yield app
        finally:
            db.session.remove()
            _empty_database()
            db.engine.dispose()


@pytest.fixture
def explained(scale_app):
    """Run a service function with sequential scans priced out; returns the plans of its SELECTs."""

    @contextmanager
    def run():
        statements: list[tuple[str, object]] = []

        def capture(conn, cursor, statement, parameters, context, executemany):
            if statement.lstrip().upper().startswith(("SELECT", "WITH")):
                statements.append((statement, parameters))

        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        event.listen(db.engine, "before_cursor_execute", capture)
        plans: list[dict] = []
        try:
            yield plans
        finally:
            event.remove(db.engine, "before_cursor_execute", capture)
        cursor = db.session.connection().connection.cursor()
        for statement, parameters in statements:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + statement, parameters)
            plans.append({"sql": statement, "plan": cursor.fetchone()[0][0]["Plan"]})
        db.session.rollback()

    return run


def _nodes(node, parent=None):
    yield node, parent
    for child in node.get("Plans", []):
        yield from _nodes(child, node)


def violations(plans: list[dict], max_rows: int) -> list[str]:
    """What breaks the bound: seq scans of big tables, nodes that read or sort more than `max_rows`."""
    found = []
    for entry in plans:
        for node, _parent in _nodes(entry["plan"]):
            kind, table = node["Node Type"], node.get("Relation Name")
            where = f"{kind} on {table or node.get('Alias', '-')} in: {' '.join(entry['sql'].split())[:300]}"
            if table in BIG:
                if kind == "Seq Scan":
                    found.append(f"sequential scan: {where}")
                read = (node["Actual Rows"] + node.get("Rows Removed by Filter", 0)
                        + node.get("Rows Removed by Index Recheck", 0)) * node["Actual Loops"]
                if read > max_rows:
                    found.append(f"reads {read} rows: {where}")
            if kind in ("Sort", "Incremental Sort"):
                child = node["Plans"][0]
                sorted_rows = child["Actual Rows"] * child["Actual Loops"]
                if sorted_rows > max_rows:
                    found.append(f"sorts {sorted_rows} rows: {where}\n{json.dumps(entry['plan'], indent=1)}")
    return found


def assert_bounded(plans: list[dict], max_rows: int) -> None:
    """No seq scan of a big table; no node reads or sorts more than `max_rows` rows of one."""
    assert plans, "the function ran no query"
    found = violations(plans, max_rows)
    assert not found, f"bound {max_rows} rows:\n" + "\n".join(found)


def _event_ids_of(customer_id: int) -> list[int]:
    from portal.audit import AuditEvent
    from portal.transparency import activity

    return list(db.session.scalars(select(AuditEvent.id).where(activity.belongs_to(customer_id))
                                   .order_by(AuditEvent.id.desc())))


# --- the customer's pages ----------------------------------------------------------------------------

def test_activity_log_first_and_deep_pages(explained):
    from portal.transparency import services

    ids = _event_ids_of(BIG_CUSTOMER)
    assert len(ids) > 200, "the generated customer should have a long log"
    with explained() as first:
        page = services.activity_page(BIG_CUSTOMER, None, None)
    assert [e.id for e in page.events] == ids[:20]
    # the union of branches: own events and one per person, each at most a page + 1
    assert_bounded(first, max_rows=4 * 21)

    with explained() as deep:
        page = services.activity_page(BIG_CUSTOMER, None, ids[150])
    assert [e.id for e in page.events] == ids[151:171]
    assert_bounded(deep, max_rows=4 * 21)

    with explained() as grouped:
        services.activity_page(BIG_CUSTOMER, "sign_ins", ids[100])
    assert_bounded(grouped, max_rows=4 * 21)


def test_activity_export_reads_keyset_batches(explained):
    from portal.transparency import inventory

    ids = _event_ids_of(BIG_CUSTOMER)
    with explained() as batches:
        rows = list(inventory.stream("activity_log", BIG_CUSTOMER, batch=100))
    assert [row["cursor"] for row in rows] == ids
    assert_bounded(batches, max_rows=4 * 100)


def test_data_page_recordings_read_room_by_room(explained):
    from portal.customers.models import Recording, Room
    from portal.transparency import inventory

    ids = list(db.session.scalars(select(Recording.id).join(Room).where(Room.customer_id == BIG_CUSTOMER)
                                  .order_by(Recording.id)))
    with explained() as first:
        page = inventory.page("recordings", BIG_CUSTOMER)
    assert [row["cursor"] for row in page.rows] == ids[:20]
    with explained() as later:
        page = inventory.page("recordings", BIG_CUSTOMER, page.next_cursor)
    assert [row["cursor"] for row in page.rows] == ids[20:40]
    # 20 rooms, each giving at most a page + 1
    assert_bounded(first + later, max_rows=20 * 21)


def test_data_page_other_lists(explained):
    from portal.transparency import inventory

    with explained() as plans:
        for key in ("rooms", "consent_events", "access_requests", "authorized_persons"):
            inventory.page(key, BIG_CUSTOMER)
    assert_bounded(plans, max_rows=100)


def test_rooms_page_reads_each_rooms_newest_recordings(explained):
    from portal.customers.models import Recording, Room
    from portal.people.access import ROOM_PREVIEW, newest_recordings

    rooms = set(db.session.scalars(select(Room.id).where(Room.customer_id == BIG_CUSTOMER)))
    with explained() as plans:
        shown = newest_recordings(rooms, ROOM_PREVIEW + 1)
    for room_id in rooms:
        newest = list(db.session.scalars(select(Recording.id).where(Recording.room_id == room_id)
                                          .order_by(Recording.started_at.desc(), Recording.id.desc())
                                          .limit(ROOM_PREVIEW + 1)))
        assert [r.id for r in shown[room_id]] == newest
    # 20 rooms, each giving at most a preview + 1 (ranking every recording read all 2,000)
    assert_bounded(plans, max_rows=len(rooms) * (ROOM_PREVIEW + 1))


def test_account_home_and_termination_page_counters(explained):
    from portal.account.services import owned_account
    from portal.auth.models import Identity
    from portal.customers.models import Recording, Room
    from portal.termination.services import consequences

    identity = db.session.scalar(select(Identity).where(Identity.customer_id == BIG_CUSTOMER))
    expected = db.session.scalar(select(func.count(Recording.id)).join(Room).where(Room.customer_id == BIG_CUSTOMER))
    with explained() as plans:
        account = owned_account(identity)
        shown = consequences(account.customer, account.customer.created_at.date())
    assert account.recordings == shown.recordings == expected == VOLUMES["big_customer_recordings"]
    assert_bounded(plans, max_rows=50)


# --- the staff queues --------------------------------------------------------------------------------

def test_moderation_queue_page_and_count(explained):
    from portal.people.moderation import QueueFilters, pending_queue

    with explained() as plans:
        page = pending_queue(QueueFilters())
        later = pending_queue(QueueFilters(), page.next_cursor)
    assert page.total == later.total == 1001  # 3000 wait: counted up to the cap and no further
    assert len(page.requests) == 20 and later.requests[0].id > page.requests[-1].id
    assert_bounded(plans, max_rows=1001)

    # a filter the index cannot serve reads the pending requests (at most the queue, one
    # delegate look-up each), never the other delegates
    with explained() as filtered:
        with_recordings = pending_queue(QueueFilters(recordings="yes", origin="person"))
    assert with_recordings.requests and all(r.delegate.recordings for r in with_recordings.requests)
    assert_bounded(filtered, max_rows=VOLUMES["pending_access_requests"])


def test_termination_queue(explained):
    from portal.termination.services import staff_queue

    with explained() as plans:
        page = staff_queue("open")
        staff_queue("open", page.next_after)
    assert page.open_total == VOLUMES["open_terminations"]
    assert_bounded(plans, max_rows=1001)


def test_staff_correction_queue(explained):
    from portal.account.services import staff_corrections

    with explained() as plans:
        page = staff_corrections(True, None)
        staff_corrections(True, page.next_cursor)
    assert len(page.requests) == 20
    assert_bounded(plans, max_rows=50)


# --- sign-in -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("email", ["klient1500@example.test", "OSOBA7@example.test", "nobody@example.test"])
def test_sign_in_look_ups_by_email(explained, email):
    from portal.auth import services
    from portal.auth.models import Identity

    newcomer = Identity(issuer="https://elsewhere.example", subject="new", email=email, email_verified=True)
    db.session.add(newcomer)
    db.session.flush()
    with explained() as plans:
        waiting = services._waiting_for(newcomer, email)
        services._linked_elsewhere(newcomer, email)
    # customer 1500 has signed in already (scale_load gives every customer an identity): nothing waits
    assert waiting.customers == []
    assert_bounded(plans, max_rows=10)
