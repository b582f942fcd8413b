"""Bulk-loading helpers for scripts/scale_load.py: load tables bare, then build what they need.

Inserting 10 M recordings and 20 M audit events into tables that keep nine indexes, check
foreign keys row by row and run the recording-totals trigger costs far more than the rows
themselves (at --scale 0.1 the audit step alone took 375 s). `bare_tables` therefore takes the
tables' indexes, primary/unique keys and foreign keys off (remembering their exact DDL from the
catalog, so the migrations stay the only source of the schema), disables the totals triggers,
and afterwards computes the totals in one statement and puts every index and constraint back:
indexes are built once, sorted, with a large maintenance_work_mem, and each foreign key is
validated by one join over the whole table instead of one look-up per row. Nothing is skipped:
a row that breaks a key or a foreign key makes the rebuild fail.
"""
from __future__ import annotations

import time
from contextlib import contextmanager

import psycopg

_CONSTRAINTS = """
SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid JOIN pg_namespace n ON n.oid = t.relnamespace
WHERE n.nspname = 'public' AND c.contype IN ('p', 'u', 'f')
  AND (t.relname = ANY(%(tables)s) OR c.confrelid::regclass::text = ANY(%(tables)s))
ORDER BY c.contype = 'f' DESC, c.conrelid::regclass::text, c.conname"""
_INDEXES = """
SELECT i.tablename, i.indexname, i.indexdef FROM pg_indexes i
WHERE i.schemaname = 'public' AND i.tablename = ANY(%(tables)s)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname AND c.contype IN ('p', 'u'))
ORDER BY i.tablename, i.indexname"""
TRIGGER_TABLE = "recordings"  # its user triggers keep customer_recording_totals
TOTALS = """
INSERT INTO customer_recording_totals (customer_id, recordings, bytes)
SELECT r.customer_id, count(*), sum(x.size_bytes) FROM recordings x JOIN rooms r ON r.id = x.room_id
GROUP BY r.customer_id"""


def _timed(label: str, began: float, at_least: float = 0.0) -> None:
    took = time.perf_counter() - began
    if took >= at_least:
        print(f"  {label:45} … {took:8.1f} s", flush=True)


@contextmanager
def bare_tables(url: str, tables: list[str], session_settings: list[str]):
    """Drop the keys, foreign keys and indexes of `tables` (and foreign keys pointing at them),
    disable the recordings' totals triggers; on exit compute the totals and rebuild everything.

    `session_settings` are SET statements for the rebuilding sessions (maintenance_work_mem, …).
    Raises psycopg errors when a rebuilt key or foreign key does not hold.
    """
    with psycopg.connect(url, autocommit=True) as conn:
        constraints = conn.execute(_CONSTRAINTS, {"tables": tables}).fetchall()
        indexes = conn.execute(_INDEXES, {"tables": tables}).fetchall()
        with conn.transaction():
            for table, name, kind, _ in constraints:  # foreign keys first (the query's order)
                conn.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
            for table, name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            conn.execute(f'ALTER TABLE "{TRIGGER_TABLE}" DISABLE TRIGGER USER')
    yield
    with psycopg.connect(url, autocommit=True) as conn:
        for setting in session_settings:
            conn.execute(setting)
        began = time.perf_counter()
        conn.execute(TOTALS)
        conn.execute(f'ALTER TABLE "{TRIGGER_TABLE}" ENABLE TRIGGER USER')
        _timed("recording totals (one statement)", began)
        rebuilt = time.perf_counter()
        keys = [(t, n, d) for t, n, k, d in constraints if k in "pu"]
        for table, name, definition in keys:
            began = time.perf_counter()
            conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
            _timed(f"key {name}"[:45], began, 2.0)
        for table, name, definition in indexes:
            began = time.perf_counter()
            conn.execute(definition)
            _timed(f"index {name}"[:45], began, 2.0)
        for table, name, kind, definition in constraints:
            if kind == "f":
                began = time.perf_counter()
                conn.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
                _timed(f"foreign key {name}"[:45], began, 2.0)
        _timed(f"keys, indexes, foreign keys ({len(constraints) + len(indexes)})", rebuilt)
