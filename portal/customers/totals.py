"""Each customer's recording count and total size, kept by the database itself (issue 15).

Counting a customer's recordings and summing their sizes read every one of them (about 94,000
heap pages for a customer with 100,000). Instead, triggers on `recordings` add and subtract in
`customer_recording_totals` as rows are inserted, deleted or change size or room, so the account
home and the termination page read one row, and no code that writes recordings (the import,
deletion, retention) has to remember to keep the figures.

PostgreSQL runs one statement-level trigger per statement (transition tables, so a bulk insert
of 100,000 recordings updates each customer's row once); SQLite runs a row-level trigger.
The same DDL is emitted by migration 0010 and by `metadata.create_all`.
"""
from __future__ import annotations

from sqlalchemy import DDL, BigInteger, ForeignKey, Integer, event, func, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class CustomerRecordingTotals(db.Model):
    """How many recordings a customer has and their total size in bytes, trigger-maintained."""

    __tablename__ = "customer_recording_totals"

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    recordings: Mapped[int] = mapped_column(Integer, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)


def recordings_of(customer_id: int):
    """A scalar SQL expression: (count, bytes) is read by `totals()`; this gives the count alone,
    to embed in another query (0 when the customer never had a recording)."""
    return func.coalesce(select(CustomerRecordingTotals.recordings)
                         .where(CustomerRecordingTotals.customer_id == customer_id).scalar_subquery(), 0)


def totals(customer_id: int) -> tuple[int, int]:
    """(number of recordings, total size in bytes) of the customer; one primary-key read."""
    row = db.session.execute(select(CustomerRecordingTotals.recordings, CustomerRecordingTotals.bytes)
                             .where(CustomerRecordingTotals.customer_id == customer_id)).first()
    return (row.recordings, int(row.bytes)) if row else (0, 0)


# --- the triggers -----------------------------------------------------------------------------------

# PostgreSQL: per statement, the changed rows aggregated per customer; rows of customers seen for
# the first time are inserted, in customer order so that two statements never deadlock.
_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION customer_recording_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        UPDATE customer_recording_totals AS t SET recordings = t.recordings - d.n, bytes = t.bytes - d.b
        FROM (SELECT r.customer_id, count(*) AS n, sum(o.size_bytes) AS b
              FROM old_rows o JOIN rooms r ON r.id = o.room_id GROUP BY r.customer_id) AS d
        WHERE t.customer_id = d.customer_id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO customer_recording_totals AS t (customer_id, recordings, bytes)
        SELECT r.customer_id, count(*), sum(n.size_bytes)
        FROM new_rows n JOIN rooms r ON r.id = n.room_id GROUP BY r.customer_id ORDER BY r.customer_id
        ON CONFLICT (customer_id) DO UPDATE
        SET recordings = t.recordings + EXCLUDED.recordings, bytes = t.bytes + EXCLUDED.bytes;
    END IF;
    RETURN NULL;
END $$
"""
_PG_TRIGGERS = [
    "CREATE TRIGGER recordings_totals_insert AFTER INSERT ON recordings REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_recording_totals_apply()",
    "CREATE TRIGGER recordings_totals_delete AFTER DELETE ON recordings REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_recording_totals_apply()",
    "CREATE TRIGGER recordings_totals_update AFTER UPDATE ON recordings "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION customer_recording_totals_apply()",
]
PG_DROP = [
    "DROP TRIGGER IF EXISTS recordings_totals_insert ON recordings",
    "DROP TRIGGER IF EXISTS recordings_totals_delete ON recordings",
    "DROP TRIGGER IF EXISTS recordings_totals_update ON recordings",
    "DROP FUNCTION IF EXISTS customer_recording_totals_apply()",
]

_SQLITE_ADD = """
    INSERT INTO customer_recording_totals (customer_id, recordings, bytes)
    SELECT customer_id, 1, NEW.size_bytes FROM rooms WHERE id = NEW.room_id
    ON CONFLICT (customer_id) DO UPDATE
    SET recordings = recordings + 1, bytes = bytes + excluded.bytes;"""
_SQLITE_SUBTRACT = """
    UPDATE customer_recording_totals SET recordings = recordings - 1, bytes = bytes - OLD.size_bytes
    WHERE customer_id = (SELECT customer_id FROM rooms WHERE id = OLD.room_id);"""
_SQLITE_TRIGGERS = [
    f"CREATE TRIGGER recordings_totals_insert AFTER INSERT ON recordings BEGIN {_SQLITE_ADD} END",
    f"CREATE TRIGGER recordings_totals_delete AFTER DELETE ON recordings BEGIN {_SQLITE_SUBTRACT} END",
    "CREATE TRIGGER recordings_totals_update AFTER UPDATE OF size_bytes, room_id ON recordings "
    f"BEGIN {_SQLITE_SUBTRACT} {_SQLITE_ADD} END",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS recordings_totals_insert",
    "DROP TRIGGER IF EXISTS recordings_totals_delete",
    "DROP TRIGGER IF EXISTS recordings_totals_update",
]

BACKFILL = """
INSERT INTO customer_recording_totals (customer_id, recordings, bytes)
SELECT r.customer_id, count(*), sum(rec.size_bytes)
FROM recordings rec JOIN rooms r ON r.id = rec.room_id GROUP BY r.customer_id
"""


def create_statements(dialect: str) -> list[str]:
    """The trigger DDL for `dialect` ("postgresql" or "sqlite"), in order."""
    if dialect == "postgresql":
        return [_PG_FUNCTION, *_PG_TRIGGERS]
    if dialect == "sqlite":
        return list(_SQLITE_TRIGGERS)
    raise NotImplementedError(f"recording totals have no triggers for {dialect}")


# create_all (scripts, throwaway databases) builds the triggers too, once every table exists;
# the migration calls create_statements() itself.
for _dialect in ("postgresql", "sqlite"):
    for _statement in create_statements(_dialect):
        event.listen(db.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
