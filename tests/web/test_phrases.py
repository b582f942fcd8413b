"""Counts, ages and dates as a native speaker writes them, in Polish and in English (issue 14
item 3, issue 12 item 8): every count phrase and every age for 1, 2, 5, 22 and 25, one date
format, always the Europe/Warsaw day and time."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from flask_babel import force_locale

from portal.web import phrases
from tests import factories

NUMBERS = (1, 2, 5, 22, 25)
# the Polish word each count phrase must use: one, a few (2-4, 22-24), many (5-21, 25-...)
POLISH_FORMS = {
    "recordings": ("nagranie", "nagrania", "nagrań", "nagrania", "nagrań"),
    "other_sessions_ended": ("inną sesję", "inne sesje", "innych sesji", "inne sesje", "innych sesji"),
    "older_sessions_not_listed": ("starsza sesja nie jest", "starsze sesje nie są", "starszych sesji nie jest",
                                  "starsze sesje nie są", "starszych sesji nie jest"),
    "persons_asking": ("osoba prosi", "osoby proszą", "osób prosi", "osoby proszą", "osób prosi"),
    "unchanged_paragraphs": ("niezmieniony akapit", "niezmienione akapity", "niezmienionych akapitów",
                             "niezmienione akapity", "niezmienionych akapitów"),
    "days_left": ("został 1 dzień", "zostały 2 dni", "zostało 5 dni", "zostały 22 dni", "zostało 25 dni"),
    "within_hours": ("godziny", "godzin", "godzin", "godzin", "godzin"),
    "pending_requests": ("wniosek czeka", "wnioski czekają", "wniosków czeka", "wnioski czekają", "wniosków czeka"),
    "open_terminations": ("otwarte wypowiedzenie", "otwarte wypowiedzenia", "otwartych wypowiedzeń",
                          "otwarte wypowiedzenia", "otwartych wypowiedzeń"),
    "overdue_cases": ("wniosek RODO jest", "wnioski RODO są", "wniosków RODO jest", "wnioski RODO są",
                      "wniosków RODO jest"),
    "days_overdue": ("1 dzień po terminie", "2 dni po terminie", "5 dni po terminie", "22 dni po terminie",
                     "25 dni po terminie"),
}
ENGLISH_SINGULAR = re.compile(r"\b1 (recording|other session was|older session is|person asks|unchanged paragraph"
                              r"|day left|hour|request waits|open request|data-subject request is|day overdue)\b")


def test_every_count_phrase_is_known_to_this_test():
    assert set(phrases.COUNTS) == set(POLISH_FORMS)


@pytest.mark.parametrize("name", sorted(POLISH_FORMS))
def test_every_count_phrase_takes_the_right_plural_form(app, name):
    phrase = phrases.COUNTS[name]
    with app.test_request_context():
        for n, form in zip(NUMBERS, POLISH_FORMS[name]):
            with force_locale("pl"):
                polish = phrase(n)
            with force_locale("en"):
                english = phrase(n)
            assert f"{n} " in polish and form in polish, (n, polish)
            assert f"{n} " in english and (ENGLISH_SINGULAR.search(english) is not None) == (n == 1), (n, english)


@pytest.mark.parametrize("unit, polish, english", [
    ("seconds", ("1 sekundę temu", "2 sekundy temu", "5 sekund temu", "22 sekundy temu", "25 sekund temu"),
     ("1 second ago", "2 seconds ago", "5 seconds ago", "22 seconds ago", "25 seconds ago")),
    ("minutes", ("1 minutę temu", "2 minuty temu", "5 minut temu", "22 minuty temu", "25 minut temu"),
     ("1 minute ago", "2 minutes ago", "5 minutes ago", "22 minutes ago", "25 minutes ago")),
    # Babel rounds 22 hours up to a day, and 22 days to three weeks
    ("hours", ("1 godzinę temu", "2 godziny temu", "5 godzin temu", "1 dzień temu", "1 dzień temu"),
     ("1 hour ago", "2 hours ago", "5 hours ago", "1 day ago", "1 day ago")),
    ("days", ("1 dzień temu", "2 dni temu", "5 dni temu", "3 tygodnie temu", "4 tygodnie temu"),
     ("1 day ago", "2 days ago", "5 days ago", "3 weeks ago", "4 weeks ago")),
])
def test_every_age_reads_without_a_case_error(app, unit, polish, english):
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with app.test_request_context():
        for n, pl, en in zip(NUMBERS, polish, english):
            then = now - timedelta(**{unit: n})
            with force_locale("pl"):
                assert phrases.ago(then, now) == pl
            with force_locale("en"):
                assert phrases.ago(then, now) == en


def test_one_date_format_in_warsaw_time(app):
    # 23:30 UTC on 31 December is already New Year's Day in Warsaw
    late = datetime(2025, 12, 31, 23, 30, 59, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("pl"):
            assert phrases.moment(late) == "1 stycznia 2026, 00:30"
            assert phrases.day(late) == "1 stycznia 2026"
            assert phrases.day(date(2026, 7, 3)) == "3 lipca 2026"
            assert phrases.moment(datetime(2026, 7, 3, 8, 5)) == "3 lipca 2026, 10:05"  # naive = UTC, summer time
        with force_locale("en"):
            assert phrases.moment(late) == "1 January 2026, 00:30"


def test_pages_show_ages_and_dates_in_words_and_no_internal_codes(app, client, sign_in_as):
    anna = factories.customer(email="anna@example.pl")
    factories.consent_event(anna, "email", True, at=datetime(2025, 12, 31, 23, 30, tzinfo=UTC))
    factories.consent_event(anna, "sms", False, at=datetime(2025, 6, 1, 10, 0, tzinfo=UTC), source="staff")
    owner = factories.identity(anna.email, customer=anna, issuer=app.config["OIDC_PROVIDERS"][0].issuer)
    sign_in_as(owner)

    consents = client.get("/account/consents").get_data(as_text=True)
    data = client.get("/account/data").get_data(as_text=True)
    home = client.get("/account/").get_data(as_text=True)

    assert "1 stycznia 2026, 00:30" in consents
    assert "Ta zgoda nigdy nie została wyrażona." in consents  # phone: no event at all
    assert "Wycofana lub odmówiona: 1 czerwca 2025, 12:00." in consents  # sms
    assert not re.search(r"\d{2}:\d{2}:\d{2}", consents + data)  # no seconds anywhere
    assert "order_form_import" not in data and "staff_import" not in data
    assert "podpisany formularz zamówienia" in data
    assert "MCX" == re.search(r"Dostawca tożsamości</dt><dd>([^<]*)<", home).group(1)
    assert "http" not in re.search(r"Dostawca tożsamości</dt><dd>([^<]*)<", home).group(1)


def test_the_export_file_is_named_by_the_warsaw_day(app):
    from portal.transparency.export import filename

    anna = factories.customer()
    assert filename(anna, datetime(2025, 12, 31, 23, 30, tzinfo=UTC)).endswith("-2026-01-01.json")


@pytest.mark.parametrize("name, polish, english", [
    ("pending_requests", "1000+ wniosków czeka na decyzję.", "1000+ requests wait for a decision."),
    ("open_terminations", "1000+ otwartych wypowiedzeń.", "1000+ open requests."),
])
def test_a_queue_count_beyond_the_cap_says_1000_plus(app, name, polish, english):
    """Queue counts stop at 1001 rows (portal.queues.bounded_count); the page does not pretend to know more."""
    phrase = phrases.COUNTS[name]
    with app.test_request_context():
        with force_locale("pl"):
            assert phrase(1001) == polish
            assert "1000 " in phrase(1000)
        with force_locale("en"):
            assert phrase(1001) == english
