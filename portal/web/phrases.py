"""How the portal writes moments, days, ages and counts, in the reader's language.

One format for every date a person reads, on pages, in e-mails, in documents: day, month name,
year, and hour:minute without seconds ("30 listopada 2026, 16:40"), always in the portal's time
zone (BABEL_DEFAULT_TIMEZONE, Europe/Warsaw), whatever the server's zone. Counts go through
ngettext, so Polish gets its three forms (1 nagranie, 2 nagrania, 5 nagrań); ages go through
Babel's format_timedelta with a direction, so they need no case ("5 minut temu").
"""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from babel import dates
from flask_babel import format_timedelta, get_locale, get_timezone

from portal.queues import COUNT_CAP, is_over
from portal.web.i18n import _, ngettext

MOMENT = "d MMMM y, HH:mm"
DAY = "d MMMM y"


# A page shows tens of moments and Babel parses the pattern and walks the locale's data for each
# (a tenth of a list page's CPU): the text is a pure function of (moment, language, zone), so it is
# kept per process. Nothing personal is in the key beyond a timestamp; 4096 entries are ~1 MB.
@lru_cache(maxsize=4096)
def _moment_text(value: datetime, locale, tzinfo) -> str:
    return dates.format_datetime(value, MOMENT, tzinfo=tzinfo, locale=locale)


@lru_cache(maxsize=4096)
def _day_text(value: date, locale) -> str:
    return dates.format_date(value, DAY, locale=locale)


def moment(value: datetime | None) -> str:
    """A point in time as people read it: `30 listopada 2026, 16:40` (Europe/Warsaw)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # the database keeps UTC
        value = value.replace(tzinfo=UTC)
    return _moment_text(value, get_locale(), get_timezone())


def day(value: date | datetime | None) -> str:
    """A calendar day: `30 listopada 2026`; a moment gives its day in Europe/Warsaw."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # its day in the portal's zone (what Flask-Babel's format_date does with a moment)
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        timezone = get_timezone()
        value = timezone.normalize(value.astimezone(timezone)).date()
    return _day_text(value, get_locale())


def ago(then: datetime, now: datetime | None = None) -> str:
    """How long ago, in words that need no case: `1 minutę temu`, `3 dni temu`, `5 minutes ago`."""
    now = now or datetime.now(UTC)
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return format_timedelta(min(then - now, timedelta(seconds=-1)), add_direction=True)


# Counts. Each takes the number and returns the whole phrase with the right plural form.

def recordings(n: int) -> str:
    return ngettext("%(num)s recording", "%(num)s recordings", n)


def other_sessions_ended(n: int) -> str:
    return ngettext("%(num)s other session was ended.", "%(num)s other sessions were ended.", n)


def older_sessions_not_listed(n: int) -> str:
    return ngettext("%(num)s older session is not listed; signing out of all other sessions ends it too.",
                    "%(num)s older sessions are not listed; signing out of all other sessions ends them too.", n)


def persons_asking(n: int) -> str:
    return ngettext("%(num)s person asks for access to your rooms.",
                    "%(num)s persons ask for access to your rooms.", n)


def unchanged_paragraphs(n: int) -> str:
    return ngettext("%(num)s unchanged paragraph", "%(num)s unchanged paragraphs", n)


def days_left(n: int) -> str:
    return ngettext("%(num)s day left", "%(num)s days left", n)


def within_hours(n: int) -> str:
    return ngettext("within %(num)s hour", "within %(num)s hours", n)


def pending_requests(n: int) -> str:
    """A queue's bounded count (portal.queues): beyond the cap it says "1000+"."""
    if is_over(n):
        return _("%(cap)s+ requests wait for a decision.", cap=COUNT_CAP)
    return ngettext("%(num)s request waits for a decision.", "%(num)s requests wait for a decision.", n)


def open_terminations(n: int) -> str:
    """The privacy officers' queue's bounded count of open termination requests."""
    if is_over(n):
        return _("%(cap)s+ open requests.", cap=COUNT_CAP)
    return ngettext("%(num)s open request.", "%(num)s open requests.", n)


def overdue_cases(n: int) -> str:
    return ngettext("%(num)s data-subject request is overdue.", "%(num)s data-subject requests are overdue.", n)


def days_overdue(n: int) -> str:
    return ngettext("%(num)s day overdue", "%(num)s days overdue", n)


def sentences(messages) -> str:
    """Messages joined into one text, each ended by a full stop unless it has its own end mark:
    a field's messages come from different validators ("Nieprawidłowa liczba całkowita" and
    "Wybierz od 1 do 120 miesięcy."), and joined by a space they read as one broken sentence."""
    parts = [str(message).strip() for message in messages if str(message).strip()]
    return " ".join(part if part[-1] in ".!?…" else part + "." for part in parts)


COUNTS = {f.__name__: f for f in (recordings, other_sessions_ended, older_sessions_not_listed, persons_asking,
                                   unchanged_paragraphs, days_left, within_hours, pending_requests,
                                   open_terminations, overdue_cases, days_overdue)}


def init_app(app) -> None:
    app.jinja_env.filters.update(moment=moment, day=day, sentences=sentences)
    app.jinja_env.globals.update(ago=ago, **COUNTS)
