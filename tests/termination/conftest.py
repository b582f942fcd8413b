"""Fixtures of the termination tests: a customer with recording files, and their termination."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from portal.auth.models import Identity
from portal.customers.models import ContractStatus, Customer
from portal.db_types import utcnow
from portal.extensions import db
from portal.people.models import Delegate
from portal.storage import recording_store
from portal.termination.models import TerminationRequest, TerminationStatus
from tests import factories

RECEIVED = date(2025, 3, 10)
EFFECTIVE = date(2025, 4, 30)  # one full calendar month's notice from RECEIVED


@dataclass(frozen=True)
class Rec:
    """What a recording was, kept by the test after its row is gone."""

    id: int
    file: str
    title: str
    size_bytes: int
    sha256: str


@dataclass
class Account:
    customer: Customer
    owner: Identity
    delegate: Delegate
    delegate_identity: Identity
    recordings: list[Rec]
    recordings_dir: Path

    def files(self) -> list[Path]:
        return [self.recordings_dir / r.file for r in self.recordings]

    def stored(self) -> list[bool]:
        """Whether each recording is still in the configured store (directory or S3)."""
        store = recording_store()
        return [store.exists(r.file) for r in self.recordings]


def make_account(app, recordings: int = 3, **customer_fields) -> Account:
    recordings_dir = Path(app.config["RECORDINGS_DIR"])
    customer = factories.customer(**customer_fields)
    owner = factories.identity(customer=customer)
    board = factories.room(customer, "Sala zarządu")
    workshop = factories.room(customer, "Pokój projektowy")
    recs = [factories.recording_with_file(board if i % 2 == 0 else workshop, recordings_dir, title=f"Zarząd {i + 1}")
            for i in range(recordings)]
    person = factories.identity()
    delegate = factories.delegate(customer, person, rooms=[board], recordings=True)
    db.session.commit()
    snapshot = [Rec(r.id, r.file, r.title, r.size_bytes, r.sha256) for r in recs]
    return Account(customer, owner, delegate, person, snapshot, recordings_dir)


def requested_termination(account: Account, *, effective_on: date = EFFECTIVE,
                          status: str = TerminationStatus.REQUESTED) -> TerminationRequest:
    """A termination as the request page leaves it (the request itself is tested through the page)."""
    termination = TerminationRequest(customer_id=account.customer.id, status=status,
                                     requested_by_id=account.owner.id, effective_on=effective_on,
                                     confirmation_due_on=RECEIVED + timedelta(days=14),
                                     receipt_acknowledged_at=utcnow())
    db.session.add(termination)
    account.customer.contract.status = ContractStatus.TERMINATING
    db.session.commit()
    return termination


@pytest.fixture
def account(app) -> Account:
    return make_account(app)
