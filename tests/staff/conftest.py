"""What the staff console tests share."""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from portal.extensions import db
from tests import factories
from tests.support.sealer import sealer_held


@contextmanager
def counted_statements():
    """Every SQL statement the block's pages send, as text. The audit sealer, which a commit that
    appended events starts in-process (portal.audit_seal), is held back meanwhile: how much it
    seals depends on the writers still running, not on the page."""
    statements = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with sealer_held():
            yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def staff_client(app, sign_in_as, *roles):
    person = factories.identity(roles=roles)
    db.session.commit()
    client = app.test_client()
    sign_in_as(person, client)
    client.identity = person
    return client


@pytest.fixture
def officer(app, sign_in_as):
    return staff_client(app, sign_in_as, "privacy_officer")


@pytest.fixture
def moderator(app, sign_in_as):
    return staff_client(app, sign_in_as, "moderator")
