"""The customer look-up: exact matches only on normalised values, a masked overview, reveals by
deliberate POST that the customer sees, every look-up audited and rate-limited (SPEC P11)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from tests import factories
from tests.staff.conftest import counted_statements


@pytest.fixture
def customer(app):
    found = factories.customer("Anna.Kowalska@Przyklad.pl", first_name="Anna", last_name="Kowalska",
                               tax_id="526-000-12-46", phone="+48 600 100 200")
    owner = factories.identity(customer=found)
    db.session.commit()
    found.owner = owner
    return found


def found(client, by, value) -> str | None:
    page = client.get("/staff/customers", query_string={"by": by, "value": value}).get_data(as_text=True)
    marker = 'data-customer="'
    return page.split(marker)[1].split('"')[0] if marker in page else None


@pytest.mark.parametrize("by, value", [
    ("number", "{number}"), ("number", " {lower} "),
    ("email", "anna.kowalska@przyklad.pl"), ("email", "ANNA.KOWALSKA@PRZYKLAD.PL"),
    ("phone", "600100200"), ("phone", "+48 600-100-200"), ("phone", "48600100200"),
    ("nip", "5260001246"), ("nip", "PL 526 000 12 46"),
])
def test_exact_normalised_values_find_the_customer(moderator, customer, by, value):
    assert found(moderator, by, value.format(number=customer.number, lower=customer.number.lower())) == customer.number


@pytest.mark.parametrize("by, value", [
    ("number", "MCX-"), ("email", "anna.kowalska"), ("email", "przyklad.pl"), ("phone", "100200"),
    ("phone", "600"), ("nip", "526"), ("email", "%"), ("number", "%"),
])
def test_no_partial_search(moderator, customer, by, value):
    assert found(moderator, by, value) is None


def test_the_overview_is_masked_until_a_logged_reveal_the_customer_sees(app, moderator, customer, sign_in_as):
    page = moderator.get("/staff/customers", query_string={"by": "number", "value": customer.number}).get_data(as_text=True)
    assert "Anna.Kowalska@Przyklad.pl" not in page and "600 100 200" not in page and "Kowalska" not in page
    assert "A***@Przyklad.pl" in page
    revealed = moderator.submit(f"/staff/customers/{customer.id}/reveal/email")
    assert revealed.status_code == 200 and "Anna.Kowalska@Przyklad.pl" in revealed.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "customer_data_revealed")).one()
    assert event.customer_id == customer.id and event.actor_identity_id == moderator.identity.id
    owner_client = app.test_client()
    sign_in_as(customer.owner, owner_client)
    log = owner_client.get("/account/activity").get_data(as_text=True)
    assert 'data-kind="customer_data_revealed"' in log and 'data-kind="customer_looked_up"' in log


def test_a_reveal_needs_a_post(moderator, customer):
    assert moderator.get(f"/staff/customers/{customer.id}/reveal/email").status_code == 405
    assert moderator.submit(f"/staff/customers/{customer.id}/reveal/password").status_code == 404


def test_every_look_up_is_audited_without_the_value_typed(moderator, customer):
    found(moderator, "email", "someone.else@example.pl")
    found(moderator, "number", customer.number)
    events = list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "customer_looked_up")
                                     .order_by(AuditEvent.id)))
    assert [(e.customer_id, {k: e.details[k] for k in ("by", "found")}) for e in events] == [
        (None, {"by": "email", "found": False}), (customer.id, {"by": "number", "found": True})]
    assert all("someone.else" not in e.data for e in events)


def test_look_ups_are_rate_limited(app, moderator, customer):
    app.config["STAFF_LOOKUP_RATE_LIMIT"] = "3 per hour"
    answers = [moderator.get("/staff/customers", query_string={"by": "number", "value": customer.number}).status_code
               for _ in range(4)]
    assert answers == [200, 200, 200, 429]


def test_customers_and_anonymous_visitors_cannot_look_up(app, customer, sign_in_as):
    client = app.test_client()
    assert client.get("/staff/customers").status_code == 302
    sign_in_as(customer.owner, client)
    assert client.get("/staff/customers").status_code == 403


def test_statements_per_look_up_do_not_grow_with_the_customer(app, moderator, customer):
    counts = []
    for rooms in (1, 15):
        while len(customer.rooms) < rooms:
            factories.room(customer, f"Sala {len(customer.rooms)}")
            factories.delegate(customer, None, rooms=[], status="active")
            db.session.refresh(customer)
        db.session.commit()
        with counted_statements() as statements:
            assert found(moderator, "number", customer.number) == customer.number
        counts.append(len(statements))
    assert counts[0] == counts[1]
