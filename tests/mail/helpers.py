"""What the mail tests share."""
from __future__ import annotations

from portal.extensions import db
from tests import factories


def signed_in_owner(app, sign_in_as):
    """A new customer with a board room, and a test client signed in as its owner (`.customer`)."""
    customer = factories.customer()
    customer.board = factories.room(customer, "Sala zarządu")
    identity = factories.identity(customer=customer)
    db.session.commit()
    client = app.test_client()
    sign_in_as(identity, client)
    client.customer = customer
    return client
