"""Staff recognise customers (issue 14 item 4): a legal entity's name is not personal data and
is shown whole, a person's and a sole trader's stay masked; after a decision on the queue page
the queue's count follows in place."""
from __future__ import annotations

import re

from portal.extensions import db
from tests import factories
from tests.people.test_moderation import anna, ewa, moderator_client, page_text, pending_request  # noqa: F401


def test_a_company_is_named_and_a_sole_trader_is_masked_in_the_staff_queue(moderator_client):
    company = factories.customer(kind="company", company_name="Przykład Sp. z o.o.", first_name="Anna",
                                 last_name="Kowalska", email="anna@przyklad.pl")
    trader = factories.customer(kind="company", company_name="Jan Nowak Usługi Informatyczne",
                                first_name="Jan", last_name="Nowak", email="jan@nowak-it.pl")
    private = factories.customer(first_name="Ewa", last_name="Lis", email="ewa.lis@example.pl")
    for customer in (company, trader, private):
        pending_request(customer, email=f"osoba@{customer.email.split('@')[1]}")
    db.session.commit()

    page = page_text(moderator_client.get("/staff/requests"))

    assert "Przykład Sp. z o.o." in page and "P. o***" not in page
    assert "Jan Nowak Usługi Informatyczne" not in page and "J. I***" in page
    assert "Ewa Lis" not in page and "E. L***" in page


def test_the_termination_queue_names_a_company_too(app, client, sign_in_as):
    from tests.termination.conftest import make_account, requested_termination

    account = make_account(app, recordings=0, kind="company", company_name="Przykład Sp. z o.o.")
    requested_termination(account)
    officer = factories.identity("iod@mcx.pl", roles=("privacy_officer",))
    db.session.commit()
    sign_in_as(officer)

    page = page_text(client.get("/staff/terminations"))

    assert "Przykład Sp. z o.o." in page and "P. o***" not in page


def test_after_a_decision_on_the_queue_page_its_count_follows_in_place(moderator_client, anna):  # noqa: F811
    first = pending_request(anna, email="a@example.pl")
    pending_request(anna, email="b@example.pl")
    db.session.commit()
    queue = page_text(moderator_client.get("/staff/requests"))
    assert re.search(r'id="queue-count"[^>]*>2 wnioski czekają na decyzję\.<', queue)

    fragment = moderator_client.submit(
        f"/staff/requests/{first.id}/approve", {"note": ""},
        headers={"HX-Request": "true", "HX-Target": f"request-{first.id}",
                 "HX-Current-URL": "http://localhost/staff/requests?origin=customer"})

    page = page_text(fragment)
    assert page.startswith("<article")
    assert re.search(r'<p class="count" id="queue-count" role="status" hx-swap-oob="true">'
                     r'1 wniosek czeka na decyzję\.</p>', page)


def test_a_decision_on_the_request_page_sends_no_count(moderator_client, anna):  # noqa: F811
    first = pending_request(anna, email="a@example.pl")
    db.session.commit()

    fragment = moderator_client.submit(
        f"/staff/requests/{first.id}/reject", {"reason": "Nieznana osoba."},
        headers={"HX-Request": "true", "HX-Target": f"request-{first.id}",
                 "HX-Current-URL": f"http://localhost/staff/requests/{first.id}"})

    assert "queue-count" not in page_text(fragment)
