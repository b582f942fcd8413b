"""The deadline of a data-subject request: one month after receipt, extendable once by two further
months (GDPR art. 12(3)), counted in the calendar of Europe/Warsaw.

A month later is the same day of the next month; a day that month lacks (31 January → February)
becomes its last day (the rule of Regulation 1182/71 art. 3(2)(c) for periods in months).
"""
from __future__ import annotations

import calendar
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

WARSAW = ZoneInfo("Europe/Warsaw")
FIRST_PERIOD_MONTHS = 1
EXTENSION_MONTHS = 2


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def received_on(received_at: datetime) -> date:
    """The calendar day of receipt in Warsaw (a request at 23:30 UTC on 31 March is received on 1 April)."""
    if received_at.tzinfo is None:
        received_at = received_at.replace(tzinfo=UTC)
    return received_at.astimezone(WARSAW).date()


def due_on(received_at: datetime) -> date:
    """The day the answer is due: one month after the day of receipt (art. 12(3))."""
    return add_months(received_on(received_at), FIRST_PERIOD_MONTHS)


def extended_due_on(received_at: datetime) -> date:
    """The due day after the one extension: three months after receipt, counted from the receipt
    (not from the first due day, so 31 January gives 30 April, not 28 April)."""
    return add_months(received_on(received_at), FIRST_PERIOD_MONTHS + EXTENSION_MONTHS)
