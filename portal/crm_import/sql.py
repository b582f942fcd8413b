"""Statements whose text stays the same however many rows a batch has: a set-membership test and a
multi-row write, each one short statement on PostgreSQL."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import any_, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from portal.extensions import db


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

    On PostgreSQL one `INSERT … SELECT * FROM unnest(:column arrays)` per call: one round trip
    and one statement text whatever the number of rows (psycopg prepares it after a few
    batches), instead of an executemany that sends, binds and executes every row on its own
    (most of a first import's time). On SQLite an executemany of `INSERT … ON CONFLICT`, which
    runs in-process. Python-side column defaults are not applied on PostgreSQL: `rows` name
    every column that has one.
    """
    if not rows:
        return
    dialect = db.session.get_bind().dialect
    if dialect.name != "postgresql":
        insert = sqlite_insert(table)
        if keys:
            insert = (insert.on_conflict_do_update(index_elements=keys, set_={f: insert.excluded[f] for f in update})
                      if update else insert.on_conflict_do_nothing(index_elements=keys))
        db.session.execute(insert, rows)
        return
    columns = list(rows[0])
    arrays = ", ".join(f"CAST(:p{i} AS {table.c[c].type.compile(dialect=dialect)}[])" for i, c in enumerate(columns))
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
    if keys:
        sql += f" ON CONFLICT ({', '.join(keys)}) " + (
            "DO UPDATE SET " + ", ".join(f"{f} = EXCLUDED.{f}" for f in update) if update else "DO NOTHING")
    statement = text(sql).bindparams(*(bindparam(f"p{i}", type_=ARRAY(table.c[c].type)) for i, c in enumerate(columns)))
    db.session.execute(statement, {f"p{i}": [row[c] for row in rows] for i, c in enumerate(columns)})
