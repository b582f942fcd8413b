"""After termination the customer reads what is still held; the pages that change the account close."""
from __future__ import annotations

import pytest

from portal.extensions import db
from tests import factories


@pytest.fixture
def terminated_owner(client, sign_in_as):
    customer = factories.customer()
    customer.contract.status = "terminated"
    owner = factories.identity(customer=customer)
    db.session.commit()
    sign_in_as(owner)
    return owner


@pytest.mark.parametrize("url", ["/account/consents", "/account/people", "/account/contact"])
def test_account_changing_pages_are_closed(client, terminated_owner, url):
    response = client.get(url)
    assert response.status_code == 410
    assert "Twoja umowa się zakończyła" in response.get_data(as_text=True)


@pytest.mark.parametrize("url", ["/account/", "/account/data", "/account/export.json", "/account/activity",
                                 "/account/sessions", "/account/termination"])
def test_what_is_still_held_stays_readable(client, terminated_owner, url):
    assert client.get(url).status_code == 200


def test_an_active_customer_is_not_affected(client, sign_in_as):
    owner = factories.identity(customer=factories.customer())
    db.session.commit()
    sign_in_as(owner)
    assert client.get("/account/consents").status_code == 200


def test_revoked_session_on_an_htmx_request_navigates_to_sign_in(client, sign_in_as):
    owner = factories.identity(customer=factories.customer())
    db.session.commit()
    record = sign_in_as(owner)
    record.revoked_at = record.created_at
    db.session.commit()

    response = client.get("/account/consents", headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/auth/login")
