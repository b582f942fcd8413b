"""A set-membership test that stays one short statement on PostgreSQL, however many values."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

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
