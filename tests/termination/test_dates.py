"""The end date follows from the notice period: the end of a calendar month."""
from __future__ import annotations

from datetime import date

import pytest

from portal import config
from portal.termination.services import effective_date


@pytest.mark.parametrize(("received", "months", "end"), [
    (date(2025, 3, 10), 1, date(2025, 4, 30)),
    (date(2025, 3, 31), 1, date(2025, 4, 30)),
    (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 1, 15), 1, date(2024, 2, 29)),
    (date(2025, 12, 1), 1, date(2026, 1, 31)),
    (date(2025, 3, 10), 0, date(2025, 3, 31)),
    (date(2025, 11, 10), 3, date(2026, 2, 28)),
])
def test_end_of_the_calendar_month_after_the_notice_period(received, months, end):
    assert effective_date(received, months) == end


def test_notice_period_comes_from_the_environment(tmp_path):
    assert config.load(str(tmp_path), {})["TERMINATION_NOTICE_MONTHS"] == 1
    assert config.load(str(tmp_path), {"PORTAL_TERMINATION_NOTICE_MONTHS": "3"})["TERMINATION_NOTICE_MONTHS"] == 3
    with pytest.raises(config.ConfigError, match="PORTAL_TERMINATION_NOTICE_MONTHS"):
        config.load(str(tmp_path), {"PORTAL_TERMINATION_NOTICE_MONTHS": "one"})
