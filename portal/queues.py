"""What every staff queue shares: bounded counts and the SQL spelling of its open statuses (issue 15).

A queue shows how many rows wait, but counting 200,000 pending requests on every page costs more
than the page itself; a count stops at COUNT_CAP + 1 rows and the page says "1000+".
The open statuses are written as SQL literals, exactly as the partial indexes' predicates are
(portal/indexes.py): PostgreSQL uses a partial index only when it can prove the query's condition
implies the predicate, which it cannot for a bound parameter in a cached generic plan.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, literal_column, select

from portal.extensions import db

COUNT_CAP = 1000


def sql_literal(value: str) -> ColumnElement:
    """A constant status code as an SQL literal; refuses anything but letters, digits and `_`
    (never pass a value from a request)."""
    if not value.replace("_", "").isalnum():
        raise ValueError(f"not a status code: {value!r}")
    return literal_column(f"'{value}'")


def status_is(column, *statuses: str) -> ColumnElement:
    """`column = 'a'` or `column IN ('a', 'b')`, spelled as the partial index predicate is."""
    if len(statuses) == 1:
        return column == sql_literal(str(statuses[0]))
    return column.in_([sql_literal(str(s)) for s in statuses])


def bounded_count(query: Select, cap: int = COUNT_CAP) -> int:
    """How many rows `query` selects, counting at most `cap + 1` of them; more than `cap` means
    "cap+" (see `is_over`). One statement; reads at most cap + 1 index entries."""
    limited = query.limit(cap + 1).subquery()
    return db.session.scalar(select(func.count()).select_from(limited))


def is_over(count: int, cap: int = COUNT_CAP) -> bool:
    return count > cap
