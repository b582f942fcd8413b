"""`flask portal audience --channel CH`: who may receive product notifications right now (SPEC P4)."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event

from portal.extensions import db
from tests import factories

JAN = datetime(2025, 1, 15, 9, tzinfo=UTC)
MAR = datetime(2025, 3, 10, 14, tzinfo=UTC)
MAY = datetime(2025, 5, 5, 8, tzinfo=UTC)


def audience(app, channel: str) -> list[list[str]]:
    result = app.test_cli_runner().invoke(args=["portal", "audience", "--channel", channel])
    assert result.exit_code == 0, result.output
    return list(csv.reader(io.StringIO(result.stdout)))


def person(number: str, **fields):
    return factories.customer(number=number, first_name="Jan", last_name=f"Klient {number[-1]}", **fields)


def test_email_audience_is_the_customers_whose_newest_event_grants(app):
    granted = person("MCX-100001", email="a@example.pl")
    factories.consent_event(granted, "email", True, at=JAN)
    withdrawn = person("MCX-100002", email="b@example.pl")
    factories.consent_event(withdrawn, "email", True, at=JAN)
    factories.consent_event(withdrawn, "email", False, at=MAR, source="portal")
    regranted = person("MCX-100003", email="c@example.pl")
    factories.consent_event(regranted, "email", False, at=JAN)
    factories.consent_event(regranted, "email", True, at=MAY, source="portal")
    # an older event recorded later (e.g. a late import) does not override the newer one
    late_import = person("MCX-100004", email="d@example.pl")
    factories.consent_event(late_import, "email", True, at=MAY, source="portal")
    factories.consent_event(late_import, "email", False, at=JAN)
    terminated = person("MCX-100005", email="e@example.pl")
    terminated.contract.status = "terminated"
    factories.consent_event(terminated, "email", True, at=JAN)
    terminating = person("MCX-100006", email="f@example.pl")
    terminating.contract.status = "terminating"  # still a customer until the effective date
    factories.consent_event(terminating, "email", True, at=JAN)
    other_channel = person("MCX-100007", email="g@example.pl")
    factories.consent_event(other_channel, "sms", True, at=JAN)
    person("MCX-100008", email="h@example.pl")  # never asked: no consent
    db.session.commit()

    rows = audience(app, "email")

    assert rows == [
        ["customer_number", "name", "email"],
        ["MCX-100001", "Jan Klient 1", "a@example.pl"],
        ["MCX-100003", "Jan Klient 3", "c@example.pl"],
        ["MCX-100004", "Jan Klient 4", "d@example.pl"],
        ["MCX-100006", "Jan Klient 6", "f@example.pl"],
    ]


@pytest.mark.parametrize("channel", ["sms", "phone"])
def test_sms_and_phone_audiences_list_phone_numbers_of_those_who_have_one(app, channel):
    with_phone = person("MCX-200001", phone="+48 601 000 001")
    factories.consent_event(with_phone, channel, True, at=JAN)
    without_phone = person("MCX-200002", phone=None)
    factories.consent_event(without_phone, channel, True, at=JAN)
    email_only = person("MCX-200003")
    factories.consent_event(email_only, "email", True, at=JAN)
    db.session.commit()

    assert audience(app, channel) == [["customer_number", "name", "phone"], ["MCX-200001", "Jan Klient 1", "+48 601 000 001"]]


def test_the_audience_is_one_sql_statement(app):
    for n in range(5):
        factories.consent_event(person(f"MCX-30000{n}"), "email", n % 2 == 0, at=JAN)
    db.session.commit()
    statements = []

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", remember)
    try:
        rows = audience(app, "email")
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", remember)

    assert len(rows) == 1 + 3
    assert len(statements) == 1 and "NOT (EXISTS" in statements[0]


def test_unknown_channel_is_refused(app):
    result = app.test_cli_runner().invoke(args=["portal", "audience", "--channel", "fax"])
    assert result.exit_code != 0 and "fax" in result.output
