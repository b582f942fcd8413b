"""Fixtures of the account tests: an owner with a signed-in client, and counting SQL statements."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests import factories


@pytest.fixture
def owner(app):
    """A company customer and the identity that owns it."""
    customer = factories.customer(kind="company", company_name="Firma Testowa Sp. z o.o.", tax_id="5260250995",
                                  first_name="Alicja", last_name="Właścicielka", phone="+48 600 111 222")
    identity = factories.identity(customer=customer)
    db.session.commit()
    return identity


@pytest.fixture
def owner_client(client, owner, sign_in_as):
    sign_in_as(owner)
    return client


@contextmanager
def counted_statements():
    """Collect every SQL statement the engine runs inside the block."""
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
