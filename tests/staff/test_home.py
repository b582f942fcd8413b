"""The staff home: each role sees its queues, with bounded counts and the oldest waiting age, and
the number of overdue data-subject requests."""
from __future__ import annotations

import re
from datetime import timedelta

from portal.db_types import local_today
from portal.dsar import services
from portal.extensions import db
from portal.staff import home
from tests import factories
from tests.staff.conftest import counted_statements


def queues(page: str) -> dict[str, str]:
    return dict(re.findall(r'data-queue="(\w+)".*?data-count="(\d+)"', page, re.S))


def filed(n: int, overdue: int = 0):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    cases = [services.file_request(customer, owner, "access", "Copy of my data, please.") for _ in range(n)]
    for case in cases[:overdue]:
        case.due_on = local_today() - timedelta(days=1)
    db.session.commit()


def test_each_role_sees_its_queues(app, officer, moderator):
    filed(2, overdue=1)
    officer_page = officer.get("/staff").get_data(as_text=True)
    assert queues(officer_page) == {"dsar": "2", "terminations": "0", "corrections": "0", "undelivered_mail": "0"}
    assert 'data-overdue="1"' in officer_page
    moderator_page = moderator.get("/staff").get_data(as_text=True)
    assert queues(moderator_page) == {"moderation": "0"} and "data-overdue" not in moderator_page


def test_counts_stop_at_the_cap(app, officer, monkeypatch):
    monkeypatch.setattr(home, "CAP", 3)
    filed(5, overdue=5)
    page = officer.get("/staff").get_data(as_text=True)
    assert 'data-count="4"' in page and "3+" in page


def test_people_without_a_staff_role_get_403(app, sign_in_as):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    db.session.commit()
    client = app.test_client()
    sign_in_as(owner, client)
    assert client.get("/staff").status_code == 403
    assert app.test_client().get("/staff").status_code == 302


def test_statements_do_not_grow_with_the_queues(app, officer):
    counts = []
    for n in (1, 10):
        filed(n, overdue=n)
        with counted_statements() as statements:
            assert officer.get("/staff").status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
