"""What the data-subject request tests share: a customer signed in as owner, and privacy officers."""
from __future__ import annotations

import pytest

from portal.extensions import db
from tests import factories


@pytest.fixture
def customer_client(app, sign_in_as):
    """A test client signed in as the owner of a new customer (`.customer`, `.identity`)."""
    customer = factories.customer(preferred_language="en")
    identity = factories.identity(customer=customer)
    db.session.commit()
    client = app.test_client()
    sign_in_as(identity, client)
    client.customer, client.identity = customer, identity
    return client


@pytest.fixture
def officer_client(app, sign_in_as):
    officer = factories.identity(roles=("privacy_officer",))
    db.session.commit()
    client = app.test_client()
    sign_in_as(officer, client)
    client.identity = officer
    return client
