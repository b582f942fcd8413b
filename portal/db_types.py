"""Column types shared by every model, and the portal's clock."""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


def local_today() -> date:
    """Today in the portal's time zone (Europe/Warsaw): the day customers, their expiry dates and
    the law count in — at 00:30 in Warsaw it is already the next day, whatever UTC says."""
    from flask import current_app

    return datetime.now(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])).date()


class UTCDateTime(TypeDecorator):
    """A moment in time, stored as naive UTC and returned as aware UTC.

    SQLite has no time zones and PostgreSQL's `timestamptz` converts on the way out; storing
    naive UTC behaves the same on both, so comparisons never mix aware and naive values.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("UTCDateTime needs an aware datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):
        return None if value is None else value.replace(tzinfo=UTC)
