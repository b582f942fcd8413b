"""The one-month deadline of GDPR art. 12(3), counted in the Warsaw calendar, and its one extension."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from portal.dsar import deadlines


@pytest.mark.parametrize("received, due, extended", [
    (datetime(2026, 3, 10, 9, 0, tzinfo=UTC), date(2026, 4, 10), date(2026, 6, 10)),
    # the last day of a shorter month
    (datetime(2026, 1, 31, 9, 0, tzinfo=UTC), date(2026, 2, 28), date(2026, 4, 30)),
    (datetime(2028, 1, 31, 9, 0, tzinfo=UTC), date(2028, 2, 29), date(2028, 4, 30)),
    (datetime(2026, 8, 31, 9, 0, tzinfo=UTC), date(2026, 9, 30), date(2026, 11, 30)),
    # over the year's end
    (datetime(2026, 12, 15, 9, 0, tzinfo=UTC), date(2027, 1, 15), date(2027, 3, 15)),
    # 23:30 UTC on 31 March is already 1 April in Warsaw (summer time, UTC+2)
    (datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2026, 5, 1), date(2026, 7, 1)),
    # 23:30 UTC on 31 December is 1 January in Warsaw (winter time, UTC+1)
    (datetime(2026, 12, 31, 23, 30, tzinfo=UTC), date(2027, 2, 1), date(2027, 4, 1)),
])
def test_due_one_month_after_the_warsaw_day_of_receipt(received, due, extended):
    assert deadlines.due_on(received) == due
    assert deadlines.extended_due_on(received) == extended
