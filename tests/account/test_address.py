"""The customer corrects their postal address themselves (GDPR art. 16), like their phone:
at once, checked as the import checks it, audited without the values, in the activity log."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from tests.account.test_contact import customer_of

NEW = {"street": "ul. Nowa 5/7", "postal_code": "31-000", "city": "Kraków", "country": "pl"}


def test_the_address_changes_at_once_and_the_activity_log_says_what_changed(owner_client, owner):
    form = owner_client.get("/account/contact").get_data(as_text=True)
    assert 'name="street"' in form and 'name="postal_code"' in form

    response = owner_client.submit("/account/contact/address", NEW)

    assert response.status_code == 303
    customer = customer_of(owner)
    assert (customer.street, customer.postal_code, customer.city, customer.country) == \
        ("ul. Nowa 5/7", "31-000", "Kraków", "PL")
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "contact_address_changed"))
    assert event.customer_id == owner.customer_id and "Kraków" not in event.data and "Nowa" not in event.data
    assert "Adres pocztowy został zmieniony." in owner_client.get("/account/contact").get_data(as_text=True)
    log = owner_client.get("/account/activity").get_data(as_text=True)
    assert "Zmiana adresu pocztowego" in log and "Ulica, Kod pocztowy, Miejscowość" in log
    assert "ul. Nowa 5/7" in owner_client.get("/account/data").get_data(as_text=True)


@pytest.mark.parametrize("field, value, message", [
    ("postal_code", "31000", "NN-NNN"),
    ("country", "Polska", "dwuliterowy"),
    ("street", "", "To pole jest wymagane."),
    ("street", "ul. Nowa 5\u202eBcc: x", "tylko liter, cyfr i znaków interpunkcyjnych"),
    ("city", "K" * 101, "100"),
])
def test_a_wrong_address_is_refused_next_to_the_field_and_nothing_changes(owner_client, owner, field, value,
                                                                          message):
    before = customer_of(owner).street

    response = owner_client.submit("/account/contact/address", {**NEW, field: value})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert customer_of(owner).street == before
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "contact_address_changed")) is None


def test_the_same_address_again_changes_nothing(owner_client, owner):
    owner_client.submit("/account/contact/address", NEW)
    owner_client.submit("/account/contact/address", NEW)

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "contact_address_changed")).all()
    assert len(events) == 1
