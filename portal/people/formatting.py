"""How the people domain's pages show durations, sizes and times (in the page's language)."""
from __future__ import annotations

from flask_babel import format_decimal

from portal.db_types import local_today, utcnow
from portal.people.models import LIVE_DELEGATE_STATUSES

UNITS = ("B", "KB", "MB", "GB", "TB")


def duration(seconds: int) -> str:
    """5400 → `1:30:00`; under an hour `12:05`."""
    hours, rest = divmod(max(int(seconds), 0), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def file_size(size: int) -> str:
    """1536 → `1,5 KB` in Polish, `1.5 KB` in English (units of 1024)."""
    value, unit = float(size), 0
    while value >= 1024 and unit < len(UNITS) - 1:
        value /= 1024
        unit += 1
    if unit == 0:
        return f"{int(value)} {UNITS[0]}"
    return f"{format_decimal(round(value, 1), format='#,##0.#')} {UNITS[unit]}"


def template_helpers() -> dict:
    return {"duration": duration, "file_size": file_size, "now": utcnow(), "today": local_today(),
            "live_statuses": [status.value for status in LIVE_DELEGATE_STATUSES]}
