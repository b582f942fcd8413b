"""The staff queues count what waits only up to 1000 (issue 15): past that, the page says "1000+"
instead of counting 200,000 rows on every view; below it, the exact number."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from portal.extensions import db
from portal.people.models import AccessRequest, Delegate
from tests import factories
from tests.people.test_moderation import anna, ewa, moderator_client, page_text  # noqa: F401


def many_pending(customer, n: int) -> None:
    """`n` requests waiting for a moderator, written in two statements."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.execute(insert(Delegate), [
        {"customer_id": customer.id, "name": f"Osoba {i}", "email": f"osoba{i}@example.pl", "recordings": False,
         "status": "pending", "source": "portal", "created_at": start} for i in range(n)])
    ids = db.session.scalars(select(Delegate.id).where(Delegate.customer_id == customer.id).order_by(Delegate.id)).all()
    db.session.execute(insert(AccessRequest), [
        {"customer_id": customer.id, "delegate_id": ident, "origin": "customer", "status": "pending",
         "created_at": start + timedelta(seconds=i)} for i, ident in enumerate(ids)])
    db.session.commit()


def test_more_than_1000_waiting_requests_show_as_1000_plus(moderator_client, anna):  # noqa: F811
    many_pending(anna, 1001)
    queue = page_text(moderator_client.get("/staff/requests"))
    assert re.search(r'id="queue-count"[^>]*>1000\+ wniosków czeka na decyzję\.<', queue)


def test_exactly_1000_waiting_requests_are_counted_exactly(moderator_client, anna):  # noqa: F811
    many_pending(anna, 1000)
    queue = page_text(moderator_client.get("/staff/requests"))
    assert re.search(r'id="queue-count"[^>]*>1000 wniosków czeka na decyzję\.<', queue)


def test_the_termination_queue_counts_open_requests(app, client, sign_in_as):
    from tests.termination.conftest import make_account, requested_termination

    for n in range(3):
        requested_termination(make_account(app, recordings=0))
    officer = factories.identity("iod@mcx.pl", roles=("privacy_officer",))
    db.session.commit()
    sign_in_as(officer)

    page = page_text(client.get("/staff/terminations"))
    assert re.search(r'id="open-count"[^>]*>3 otwarte wypowiedzenia\.<', page)
    assert 'id="open-count"' not in page_text(client.get("/staff/terminations?show=closed"))
