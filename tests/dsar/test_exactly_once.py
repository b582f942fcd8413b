"""Decisions on a data-subject request happen exactly once, even when two officers decide at the
same moment (a conditional UPDATE, as in the other queues)."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.db_types import local_today
from portal.dsar import digest, services
from portal.dsar.models import DataSubjectRequest, DsarDigest
from portal.extensions import db
from portal.mail import OutboxMessage
from tests import factories
from tests.support.threads import at_once


@pytest.fixture
def case(app):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    filed = services.file_request(customer, owner, "erasure", "Please erase my old address.")
    db.session.commit()
    return filed


@pytest.mark.parametrize("decision", ["extend", "close"])
def test_two_officers_deciding_at_once_decide_once(app, case, decision):
    officers = [factories.identity(roles=("privacy_officer",)).id for _ in range(2)]
    case_id = case.id
    db.session.commit()
    outcomes = []

    def decide(start):
        officer = officers.pop()
        with app.test_request_context():
            mine = db.session.get(DataSubjectRequest, case_id)
            me = db.session.get(Identity, officer)
            start.wait()
            try:
                if decision == "extend":
                    services.extend(mine, me, "Complex request.")
                else:
                    services.close(mine, me, "done", None)
                db.session.commit()
                outcomes.append("decided")
            except services.DsarError:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                db.session.remove()

    at_once(decide)

    assert sorted(outcomes) == ["decided", "refused"]
    kind = "dsar_extended" if decision == "extend" else "dsar_closed"
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.kind == kind)) == 1
    mail_kind = "dsar_extended" if decision == "extend" else "dsar_done"
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)
                             .where(OutboxMessage.kind == mail_kind)) == 1


def test_the_daily_digest_lists_cases_due_within_five_days_once_a_day(app, case):
    officer = factories.identity(roles=("privacy_officer",))
    later = services.file_request(case.customer, db.session.get(Identity, case.filed_by_id), "other", "A question.")
    db.session.commit()
    today = local_today()
    case.due_on = today + timedelta(days=5)
    later.due_on = today + timedelta(days=6)
    db.session.commit()

    assert digest.send_digest(today) == 1
    db.session.commit()
    assert digest.send_digest(today) is None  # a second run the same day sends nothing
    db.session.commit()
    [sent] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "dsar_digest")).all()
    assert sent.to_address == officer.email
    assert case.case_number in sent.body and later.case_number not in sent.body
    assert digest.send_digest(today + timedelta(days=1)) == 2  # the next day, both are within 5 days
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(DsarDigest)) == 2


def test_run_due_sends_the_digest(app, case):
    factories.identity(roles=("privacy_officer",))
    case.due_on = local_today()
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "run-due"])
    assert result.exit_code == 0, result.output
    assert "digest of 1 data-subject request(s)" in result.output
    again = app.test_cli_runner().invoke(args=["portal", "run-due"])
    assert "digest" not in again.output
