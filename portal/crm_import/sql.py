"""Statements whose text stays the same however many rows a batch has: a set-membership test and a
multi-row write, each one short statement on PostgreSQL."""
from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import contextmanager
from datetime import UTC, date, datetime

from sqlalchemy import any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.extensions import db

ONE_STATEMENT = True  # False: the executemany path on PostgreSQL too (to compare the two)


def within(column, values: Iterable):
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`: one parameter instead of a
    thousand, so the statement's text is the same for every batch and is parsed once."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def fetch(statement) -> list:
    """Every row of a SELECT, fetched at once (the driver's fetchall, not a fetchone per row)."""
    return db.session.execute(statement).all()


def write_many(table, rows: list[dict], keys: list[str] = (), update: tuple[str, ...] = ()) -> None:
    """INSERT `rows` (dicts with the same keys) into `table`; with `keys`, ON CONFLICT (keys) DO
    UPDATE SET each of `update` (or DO NOTHING without `update`).

    On PostgreSQL one `INSERT … SELECT … FROM json_to_recordset(:rows)` per call: one round trip
    and one statement text whatever the number of rows (psycopg prepares it after a few
    batches), instead of an executemany that sends, binds and executes every row on its own
    (most of a first import's time). On SQLite an executemany of `INSERT … ON CONFLICT`, which
    runs in-process. Python-side column defaults are not applied on PostgreSQL: `rows` name
    every column that has one.
    """
    if not rows:
        return
    dialect = db.session.get_bind().dialect
    if dialect.name != "postgresql" or not ONE_STATEMENT:
        insert = (pg_insert if dialect.name == "postgresql" else sqlite_insert)(table)
        if keys:
            insert = (insert.on_conflict_do_update(index_elements=keys, set_={f: insert.excluded[f] for f in update})
                      if update else insert.on_conflict_do_nothing(index_elements=keys))
        db.session.execute(insert, rows)
        return
    columns = list(rows[0])
    # one JSON text for the whole batch: encoded by the json module's C encoder, where psycopg
    # dumps array elements one by one in Python
    names = ", ".join(f'"{c}"' for c in columns)
    fields = ", ".join(f'"{c}" {table.c[c].type.compile(dialect=dialect)}' for c in columns)
    # identifiers are the model's own table and columns; every value goes as the one bound parameter
    sql = (f'INSERT INTO "{table.name}" ({names}) '  # nosec B608
           f'SELECT {names} FROM json_to_recordset(:rows) AS x({fields})')
    if keys:
        sql += " ON CONFLICT ({}) ".format(", ".join(f'"{k}"' for k in keys)) + (
            "DO UPDATE SET "  # nosec B608
            + ", ".join(f'"{f}" = EXCLUDED."{f}"' for f in update) if update else "DO NOTHING")
    db.session.execute(text(sql), {"rows": json.dumps(rows, separators=(",", ":"), default=_json_value)})


def _json_value(value: object) -> str:
    """A date or moment as json_to_recordset reads it into its column: moments as naive UTC, the
    way portal.db_types.UTCDateTime stores them."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"cannot write {type(value).__name__} through JSON")


@contextmanager
def transaction_settings(settings: dict[str, str]):
    """Within the block, PostgreSQL's settings `name → value` hold for this transaction only
    (set_config(…, true)); afterwards each is set back to what it was, so the rest of the
    caller's transaction is as before. Nothing on SQLite. On an error the settings are left:
    the caller rolls the transaction (or its savepoint) back, which restores them."""
    if db.session.get_bind().dialect.name != "postgresql":
        yield
        return
    earlier = {name: db.session.scalar(text("SELECT current_setting(:name, true)"), {"name": name})
               for name in settings}
    for name, value in settings.items():
        db.session.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})
    try:
        yield
    except DBAPIError:
        raise  # the transaction is aborted; its rollback restores them
    except BaseException:
        _set_back(earlier)
        raise
    _set_back(earlier)


def _set_back(earlier: dict[str, str | None]) -> None:
    for name, value in earlier.items():
        db.session.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value or ""})
