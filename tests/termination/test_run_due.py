"""`flask portal run-due`: on the effective date every recording goes, for good, exactly once."""
from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.auth.models import UserSession
from portal.customers.models import Contract, ContractStatus, Recording
from portal.db_types import utcnow
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.people.models import Delegate, DelegateStatus
from portal.storage import Removal, StorageError, recording_store
from portal.termination import services
from portal.termination.models import DeletedRecording, DeletionReceipt, TerminationRequest, TerminationStatus
from tests import factories
from tests.conftest import both_backends
from tests.support.threads import at_once
from tests.termination.conftest import EFFECTIVE, make_account, requested_termination


# every test here runs with recordings in a directory and in a versioned S3 bucket (issue 19)
pytestmark = both_backends


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def expected_items(account) -> list[dict]:
    return [{"id": r.id, "title": r.title, "size_bytes": r.size_bytes, "sha256": r.sha256}
            for r in sorted(account.recordings, key=lambda r: r.id)]


def receipt_of(termination_id: int) -> dict:
    receipt = db.session.scalar(select(DeletionReceipt).where(DeletionReceipt.termination_id == termination_id))
    document = json.loads(receipt.document)
    assert hashlib.sha256(receipt.document.encode()).hexdigest() == receipt.document_sha256
    return document


def listed(document: dict) -> list[dict]:
    return [{k: item[k] for k in ("id", "title", "size_bytes", "sha256")} for item in document["recordings"]]


class WrappedStore:
    """The configured store (directory or S3), with one behaviour changed by a subclass."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def delete_many(self, keys):
        return self.remove_many(keys).failures


class CrashingStore(WrappedStore):
    """Deletes files for real, but the process "dies" right after the k-th file is gone."""

    def __init__(self, inner, k: int):
        super().__init__(inner)
        self.left = k

    def remove_many(self, keys):
        for key in keys:
            self.inner.remove_many([key])
            self.left -= 1
            if self.left == 0:
                raise KeyboardInterrupt("killed after a file was removed")
        return Removal()


class UndeletableStore(WrappedStore):
    """One file cannot be removed: the disk answers with an I/O error."""

    def __init__(self, inner, bad_key: str):
        super().__init__(inner)
        self.bad_key = bad_key

    def remove_many(self, keys):
        keys = list(keys)
        result = self.inner.remove_many(k for k in keys if k != self.bad_key)
        if self.bad_key in keys:
            result.failures[self.bad_key] = StorageError(f"{self.bad_key}: Input/output error")
        return result


def test_not_due_before_the_effective_date(app, account):
    termination = requested_termination(account)

    report = services.run_due(today=EFFECTIVE - timedelta(days=1))

    assert report.outcomes == []
    assert all(account.stored())
    assert db.session.get(TerminationRequest, termination.id).status == TerminationStatus.REQUESTED


def test_on_the_effective_date_everything_goes_and_a_receipt_is_issued(app, account):
    termination = requested_termination(account)
    session = factories.signed_in(app.test_client(), account.delegate_identity)

    report = services.run_due(today=EFFECTIVE)

    assert [(o.termination_id, o.status, o.deleted) for o in report.outcomes] == [(termination.id, "completed", 3)]
    db.session.expire_all()
    assert not any(account.stored())
    assert count(Recording) == 0
    stored = db.session.get(TerminationRequest, termination.id)
    assert stored.status == TerminationStatus.COMPLETED and stored.completed_at and stored.last_error is None
    assert db.session.get(Contract, account.customer.contract.id).status == ContractStatus.TERMINATED
    # the delegate lost access, and the session they had open ended
    delegate = db.session.get(Delegate, account.delegate.id)
    assert delegate.status == DelegateStatus.REMOVED and delegate.removed_at is not None
    assert db.session.get(UserSession, session.id).revoked_at is not None
    document = receipt_of(termination.id)
    assert listed(document) == expected_items(account)
    # the receipt says what went: the one stored version of each, no delete marker
    assert [item["removed"] for item in document["recordings"]] == [{"versions": 1, "delete_markers": 0}] * 3
    assert document["totals"] == {"recordings": 3, "size_bytes": sum(r.size_bytes for r in account.recordings)}
    assert document["customer_number"] == account.customer.number
    assert [m.kind for m in db.session.scalars(select(OutboxMessage))] == ["termination_completed"]
    assert count(AuditEvent, AuditEvent.kind == "termination_completed") == 1


def test_other_customers_recordings_are_untouched(app, account):
    other = make_account(app, recordings=2)
    requested_termination(account)

    services.run_due(today=EFFECTIVE)

    assert all(other.stored())
    assert count(Recording) == 2
    assert db.session.get(Delegate, other.delegate.id).status == DelegateStatus.ACTIVE


def test_withdrawn_termination_is_never_carried_out(app, account):
    requested_termination(account, status=TerminationStatus.WITHDRAWN)

    assert services.run_due(today=EFFECTIVE + timedelta(days=30)).outcomes == []
    assert all(account.stored())


def test_running_again_after_completion_changes_nothing(app, account):
    termination = requested_termination(account)
    services.run_due(today=EFFECTIVE)
    receipt = receipt_of(termination.id)

    assert services.run_due(today=EFFECTIVE + timedelta(days=1)).outcomes == []
    assert receipt_of(termination.id) == receipt
    assert count(OutboxMessage) == 1


@pytest.mark.parametrize("k", [1, 3, 5])
def test_killed_after_the_kth_file_the_next_run_finishes_with_an_exact_receipt(app, k):
    account = make_account(app, recordings=5)
    termination = requested_termination(account)

    with pytest.raises(KeyboardInterrupt):
        services.run_due(today=EFFECTIVE, store=CrashingStore(recording_store(), k), batch_size=2)

    db.session.expire_all()
    assert account.stored().count(False) == k
    # a row is only written for a file that is gone
    assert count(DeletedRecording) <= k
    assert db.session.get(TerminationRequest, termination.id).status == TerminationStatus.IN_PROGRESS

    # started again at once, the dead run's claim still holds: nothing happens twice
    assert [o.status for o in services.run_due(today=EFFECTIVE).outcomes] == ["skipped"]

    later = utcnow() + services.CLAIM_LEASE + timedelta(seconds=1)
    report = services.run_due(today=EFFECTIVE, now=later)

    assert [o.status for o in report.outcomes] == ["completed"]
    db.session.expire_all()
    assert not any(account.stored())
    document = receipt_of(termination.id)
    assert listed(document) == expected_items(account)
    assert document["totals"]["recordings"] == 5
    assert count(DeletedRecording) == 5
    assert count(OutboxMessage, OutboxMessage.kind == "termination_completed") == 1


def test_an_undeletable_file_keeps_the_termination_in_progress_with_the_error_for_staff(app, account, client, sign_in_as):
    termination = requested_termination(account)
    bad = account.recordings[1]

    report = services.run_due(today=EFFECTIVE, store=UndeletableStore(recording_store(), bad.file))

    assert [o.status for o in report.outcomes] == ["in_progress"]
    db.session.expire_all()
    stored = db.session.get(TerminationRequest, termination.id)
    assert stored.status == TerminationStatus.IN_PROGRESS and stored.completed_at is None
    assert "Input/output error" in stored.last_error
    assert db.session.get(Contract, account.customer.contract.id).status != ContractStatus.TERMINATED
    assert db.session.get(DeletionReceipt, stored.receipt.id).document is None
    # the others went; the bad one is still recorded as held, never as deleted
    assert [r.id for r in db.session.scalars(select(Recording))] == [bad.id]
    assert bad.id not in db.session.scalars(select(DeletedRecording.recording_id)).all()
    assert count(OutboxMessage, OutboxMessage.kind == "termination_completed") == 0

    sign_in_as(factories.identity(roles=("privacy_officer",)))
    page = client.get("/staff/terminations").get_data(as_text=True)
    assert "Input/output error" in page and "W toku" in page

    # once the disk is repaired, the next run finishes
    report = services.run_due(today=EFFECTIVE)
    assert [o.status for o in report.outcomes] == ["completed"]
    db.session.expire_all()
    assert listed(receipt_of(termination.id)) == expected_items(account)
    assert db.session.get(TerminationRequest, termination.id).last_error is None


def test_a_store_that_claims_deletion_but_keeps_the_file_never_completes(app, account):
    termination = requested_termination(account)

    class LyingStore(WrappedStore):
        def remove_many(self, keys):
            return Removal()

    report = services.run_due(today=EFFECTIVE, store=LyingStore(recording_store()))

    assert [o.status for o in report.outcomes] == ["in_progress"]
    assert "still there" in db.session.get(TerminationRequest, termination.id).last_error
    assert count(DeletedRecording) == 0


class CountingStore(WrappedStore):
    """Counts every removal across threads, and is slow enough for two runs to overlap."""

    def __init__(self, inner, counter: Counter, lock: threading.Lock):
        super().__init__(inner)
        self.counter, self.lock = counter, lock

    def remove_many(self, keys):
        keys = list(keys)
        with self.lock:
            self.counter.update(keys)
        time.sleep(0.05)
        return self.inner.remove_many(keys)


def test_two_runs_at_the_same_moment_process_each_termination_once(app):
    accounts = [make_account(app, recordings=4) for _ in range(4)]
    terminations = [requested_termination(a) for a in accounts]
    removals, lock = Counter(), threading.Lock()
    reports = []

    def run(start):
        with app.app_context():
            start.wait()
            reports.append(services.run_due(
                today=EFFECTIVE, store=CountingStore(recording_store(), removals, lock), batch_size=2))
            db.session.remove()

    at_once(run)

    completed = Counter(o.termination_id for r in reports for o in r.outcomes if o.status == "completed")
    assert completed == Counter({t.id: 1 for t in terminations})
    all_recordings = [r for a in accounts for r in a.recordings]
    assert removals == Counter({r.file: 1 for r in all_recordings})
    db.session.expire_all()
    assert count(DeletedRecording) == len(all_recordings)
    assert count(OutboxMessage, OutboxMessage.kind == "termination_completed") == len(accounts)
    assert count(AuditEvent, AuditEvent.kind == "termination_completed") == len(accounts)
    for account, termination in zip(accounts, terminations, strict=True):
        assert listed(receipt_of(termination.id)) == expected_items(account)


def test_run_due_command_takes_the_date_and_reports(app, account, smtp_server):
    termination = requested_termination(account)
    runner = app.test_cli_runner()

    early = runner.invoke(args=["portal", "run-due", "--today", "2025-04-29"])
    assert early.exit_code == 0 and "0 completed" in early.output

    result = runner.invoke(args=["portal", "run-due", "--today", EFFECTIVE.isoformat()])

    assert result.exit_code == 0, result.output
    assert f"termination {termination.id} ({account.customer.number}): completed" in result.output
    db.session.expire_all()
    assert not any(account.stored())
    # the receipt e-mail goes out with the run, in the customer's language
    [message] = smtp_server.to(account.customer.email)
    assert message["Subject"] == "Twoja umowa wygasła: potwierdzenie usunięcia"
    document = db.session.scalar(select(DeletionReceipt.document_sha256))
    assert document in message.get_content()


def test_run_due_command_exits_1_when_a_termination_is_left_unfinished(app, account, monkeypatch):
    requested_termination(account)
    bad = account.recordings[0].file
    store = UndeletableStore(recording_store(), bad)
    monkeypatch.setattr(services, "recording_store", lambda: store)

    result = app.test_cli_runner().invoke(args=["portal", "run-due", "--today", EFFECTIVE.isoformat()])

    assert result.exit_code == 1
    assert "NOT completed" in result.output and "Input/output error" in result.output
