"""Audited writes take no shared lock: events are written unsealed and a sealer chains the
committed ones in id order, never past a writer that may still commit; `verify-audit` walks
from an HMAC-signed checkpoint in batches (SPEC P11, issue 15 items 4 and 5)."""
from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import select, text

from portal import audit
from portal.audit import AuditCheckpoint, AuditEvent
from portal.extensions import db
from portal.transparency.services import activity_page
from tests import factories
from tests.test_audit import tamper, verify_audit


def chain() -> list[AuditEvent]:
    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))


def write(n: int, *, sealed: bool = True, **fields) -> None:
    """`n` events in one transaction; `sealed=False` skips the after-commit sealing, as when
    another sealer was busy at that moment."""
    for i in range(n):
        audit.record("test_event", number=i, **fields)
    if not sealed:
        db.session.info.pop(audit.PENDING)
    db.session.commit()


def postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


def cli(app, *args: str):
    result = app.test_cli_runner().invoke(args=["portal", "verify-audit", *args])
    db.session.expire_all()
    return result


def test_an_event_is_written_unsealed_and_sealed_once_its_transaction_commits(app):
    event = audit.record("test_event", number=1)
    assert event.seq is None and event.hash is None and event.mac

    db.session.commit()

    [sealed] = chain()
    assert sealed.seq == 1 and sealed.prev_hash == audit.GENESIS and len(sealed.hash) == 64


def test_concurrent_writers_produce_one_chain_in_id_order_that_verifies(app):
    writers, each = 6, 15

    def writer(n: int) -> None:
        with app.app_context():
            for i in range(each):
                audit.record("test_event", writer=n, number=i)
                db.session.commit()
            db.session.remove()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result = verify_audit(app)

    assert result.exit_code == 0, result.output
    events = chain()
    assert len(events) == writers * each
    assert [e.seq for e in events] == list(range(1, writers * each + 1))  # seq follows id
    assert f"{writers * each} events" in result.output


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_sealing_never_passes_a_writer_that_may_still_commit(app, outcome):
    wrote, finish = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with app.app_context():
            audit.record("slow_event")
            db.session.flush()
            wrote.set()
            finish.wait(10)
            db.session.commit() if outcome == "commit" else db.session.rollback()
            db.session.remove()

    if postgresql():
        # what the sealer's horizon relies on: drawing an id gives the writer its transaction id
        # first, so a writer holding an id is seen as running
        drawn = db.session.execute(audit._NEXT_ID).first()
        assert drawn.xid is not None
        assert db.session.scalar(text("SELECT pg_current_xact_id_if_assigned()")) == drawn.xid
        db.session.rollback()
        # the slow writer draws the lower id; faster writers commit after it
        thread = threading.Thread(target=slow_writer)
        thread.start()
        assert wrote.wait(10)
        write(3)
    else:
        # SQLite: committed events wait while a writer holds the database's one write lock
        write(3, sealed=False)
        thread = threading.Thread(target=slow_writer)
        thread.start()
        assert wrote.wait(10)
    assert audit.seal() == 0
    assert [e.seq for e in chain()] == [None, None, None]

    finish.set()
    thread.join()
    audit.seal(wait=True)

    events = chain()
    assert len(events) == (4 if outcome == "commit" else 3)
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert verify_audit(app).exit_code == 0


def test_the_activity_log_shows_events_not_sealed_yet_newest_first(app):
    customer = factories.customer()
    db.session.commit()
    for i in range(3):
        audit.record("contact_phone_changed", customer_id=customer.id, number=i)
    db.session.info.pop(audit.PENDING)
    db.session.commit()

    page = activity_page(customer.id, None, None)

    assert [e.details["number"] for e in page.events] == [2, 1, 0]
    assert all(e.seq is None for e in page.events)


def test_a_key_rotated_between_write_and_seal_still_verifies(app):
    app.config.update(AUDIT_KEY_ID="2025", AUDIT_KEYS={"2025": b"a" * 48})
    write(2, sealed=False)
    app.config.update(AUDIT_KEY_ID="2026", AUDIT_KEYS={"2026": b"b" * 48, "2025": b"a" * 48})
    write(1)

    result = verify_audit(app)

    assert result.exit_code == 0, result.output
    assert [(e.seq, e.key_id) for e in chain()] == [(1, "2025"), (2, "2025"), (3, "2026")]


def test_an_event_changed_before_it_was_sealed_is_refused_and_named(app):
    write(2)
    write(3, sealed=False)
    [fourth] = [e for e in chain() if e.details["number"] == 1 and e.seq is None]
    tamper("UPDATE audit_events SET data = :d WHERE id = :id", d='{"number":100}', id=fourth.id)

    result = verify_audit(app)

    assert result.exit_code == 1
    assert "broken at event 4" in result.output and f"id {fourth.id}" in result.output
    assert [e.seq for e in chain()] == [1, 2, 3, None, None]  # sealing stopped before it


def test_an_event_forged_without_the_key_is_never_sealed(app):
    write(2)
    tamper("INSERT INTO audit_events (at, kind, data, key_id, mac) "
           "VALUES (CURRENT_TIMESTAMP, 'consent_given', '{}', :k, :m)", k=app.config["AUDIT_KEY_ID"], m="0" * 64)

    result = verify_audit(app)

    assert result.exit_code == 1 and "forged" in result.output
    assert [e.seq for e in chain()] == [1, 2, None]


def test_an_unsealed_event_slipped_below_the_sealed_head_is_detected(app):
    write(2)
    tamper("UPDATE audit_events SET id = id + 10")  # room below the head, as a gap leaves
    tamper("INSERT INTO audit_events (id, at, kind, data, key_id) VALUES (5, CURRENT_TIMESTAMP, 'x', '{}', 'k')")

    result = verify_audit(app)

    assert result.exit_code == 1
    assert "broken at event 3" in result.output and "unsealed event (id 5)" in result.output


def test_reordering_two_events_is_detected(app):
    write(4)
    tamper("UPDATE audit_events SET seq = -seq WHERE seq IN (2, 3)")
    tamper("UPDATE audit_events SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq < 0")

    result = verify_audit(app)

    assert result.exit_code == 1 and "broken at event 2" in result.output


# --- incremental verification ---------------------------------------------------------------------

def test_verify_walks_only_the_events_after_the_last_checkpoint(app):
    write(5)
    first = verify_audit(app)
    write(3)

    second = verify_audit(app)

    assert "5 checked from the first event" in first.output
    assert second.exit_code == 0, second.output
    assert "8 events (3 checked after the checkpoint at 5)" in second.output
    [older, newer] = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id)).all()
    assert (older.seq, newer.seq) == (5, 8) and newer.hash == chain()[-1].hash


@pytest.mark.parametrize("sql, broken", [
    ("UPDATE audit_events SET kind = 'harmless' WHERE seq = 6", 6),
    ("DELETE FROM audit_events WHERE seq = 5", 5),
    ("DELETE FROM audit_events WHERE seq >= 3", 3),  # cut off below the checkpoint
    ("UPDATE audit_events SET data = '{}' WHERE seq = 4", 4),  # the checkpoint's own event
])
def test_tampering_after_the_checkpoint_is_found_incrementally(app, sql, broken):
    write(4)
    assert cli(app).exit_code == 0  # checkpoint at 4
    write(3)
    tamper(sql)

    result = cli(app)

    assert result.exit_code == 1
    assert f"broken at event {broken}" in result.output


def test_tampering_before_the_checkpoint_is_found_by_a_full_walk(app):
    write(5)
    assert cli(app).exit_code == 0
    tamper("UPDATE audit_events SET kind = 'harmless' WHERE seq = 2")

    incremental, full = cli(app), cli(app, "--full")

    # the incremental run trusts what the checkpoint covers; that is why --full exists
    assert incremental.exit_code == 0 and "0 checked after the checkpoint at 5" in incremental.output
    assert full.exit_code == 1 and "broken at event 2" in full.output


def test_a_checkpoint_forged_without_the_key_is_ignored_and_the_whole_chain_walked(app):
    write(5)
    assert cli(app).exit_code == 0
    tamper("UPDATE audit_events SET data = '{}' WHERE seq = 2")
    later = chain()[-1]
    tamper("UPDATE audit_checkpoints SET mac = :m", m="0" * 64)
    assert later.seq == 5

    result = cli(app)

    assert "does not carry the audit key's MAC" in result.output
    assert result.exit_code == 1 and "broken at event 2" in result.output


def test_incremental_verification_reads_the_new_events_in_bounded_batches(app):
    write(10)
    assert cli(app).exit_code == 0
    write(25)
    walks: list[object] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        if "FROM audit_events" in statement and "audit_events.seq >=" in statement:
            walks.append(parameters)

    sa_event.listen(db.engine, "after_cursor_execute", count)
    try:
        result = audit.verify(batch=10)
    finally:
        sa_event.remove(db.engine, "after_cursor_execute", count)

    assert result.ok and result.events == 35 and result.checked == 25
    # 10 + 10 + 5 rows: three reads, each asking for at most `batch` rows
    assert len(walks) == 3 and all(10 in (p.values() if isinstance(p, dict) else p) for p in walks), walks


def test_run_due_seals_what_an_earlier_commit_left_unsealed(app):
    write(3, sealed=False)

    result = app.test_cli_runner().invoke(args=["portal", "run-due"])

    assert result.exit_code == 0, result.output
    assert [e.seq for e in chain()] == [1, 2, 3]


# --- the sealing thread (PostgreSQL: AUDIT_SEAL_DELAY > 0) -----------------------------------------

@pytest.fixture
def sealing_thread(app):
    """Commits poke the process's sealing thread (as in production) instead of sealing at once."""
    if not postgresql():
        pytest.skip("the sealing thread serves PostgreSQL; SQLite seals after each commit")
    from portal import audit_sealer

    app.config["AUDIT_SEAL_DELAY"] = 0.02
    yield app
    audit_sealer.stop(app)


def sealed_within(seconds: float) -> list[AuditEvent]:
    """The chain once every event is sealed, waiting up to `seconds` for the sealer."""
    deadline = time.monotonic() + seconds
    while any(e.seq is None for e in chain()) and time.monotonic() < deadline:
        db.session.rollback()
        time.sleep(0.02)
    return chain()


def test_the_sealing_thread_chains_many_commits_in_few_runs(sealing_thread, monkeypatch):
    from portal import audit_seal

    runs = []
    seal_once = audit_seal._seal_once
    monkeypatch.setattr(audit_seal, "_seal_once", lambda wait: runs.append(1) or seal_once(wait))
    commits = 40
    for i in range(commits):
        write(1, number_of=i)

    events = sealed_within(10)

    assert [e.seq for e in events] == list(range(1, commits + 1))
    assert 1 <= len(runs) < commits / 2, runs  # the commits of each moment share a run
    assert verify_audit(sealing_thread).exit_code == 0


@pytest.mark.parametrize("outcome", ["commit", "rollback"])
def test_events_waiting_for_a_slower_writer_are_sealed_when_it_ends_without_another_commit(sealing_thread,
                                                                                           outcome):
    wrote, finish = threading.Event(), threading.Event()

    def slow_writer() -> None:
        with sealing_thread.app_context():
            audit.record("slow_event")
            wrote.set()
            finish.wait(10)
            db.session.commit() if outcome == "commit" else db.session.rollback()
            db.session.remove()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert wrote.wait(10)
    write(3)  # ids above the slow writer's: they wait for it
    time.sleep(0.2)
    assert [e.seq for e in chain()] == [None, None, None]  # the slow one is not visible yet

    finish.set()  # a rollback appends nothing and pokes nobody: the thread looks again by itself
    thread.join()
    events = sealed_within(5)

    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len(events) == (4 if outcome == "commit" else 3)


def test_the_sealing_thread_backs_off_while_a_long_writer_holds_the_horizon(sealing_thread, monkeypatch):
    """Events behind a writer that stays open (an import, a session left in a transaction) cannot
    be sealed before it ends: the thread must not look every delay (50 sealing transactions a
    second, each reading pg_stat_activity) for as long as that writer runs."""
    from portal import audit_seal

    runs = []
    seal_once = audit_seal._seal_once
    monkeypatch.setattr(audit_seal, "_seal_once", lambda wait: runs.append(1) or seal_once(wait))
    wrote, finish = threading.Event(), threading.Event()

    def long_writer() -> None:
        with sealing_thread.app_context():
            audit.record("long_event")
            wrote.set()
            finish.wait(10)
            db.session.commit()
            db.session.remove()

    thread = threading.Thread(target=long_writer)
    thread.start()
    assert wrote.wait(10)
    write(1)  # waits for the long writer
    time.sleep(0.3)
    runs.clear()
    time.sleep(1.5)
    looks = len(runs)
    finish.set()
    thread.join()

    assert looks <= 10, looks  # at the pace (20 ms) it would be about 75
    assert [e.seq for e in sealed_within(5)] == [1, 2]
