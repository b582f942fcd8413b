"""Retention per room (issue 17 item 2): the owner sets forever or N months; `run-due` deletes
what has expired through the same steps, one receipt per customer and run, and e-mails a summary."""
from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.customers.models import Recording, Room
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.recordings.retention import add_months, last_expired_start_day
from portal.termination.models import DeletionReceipt
from tests import factories
from tests.recordings.conftest import make_account
from tests.web.world import csrf_token


def csrf(page) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


@pytest.mark.parametrize("today, months, expected", [
    (date(2026, 3, 15), 1, date(2026, 2, 15)),
    (date(2026, 2, 28), 1, date(2026, 1, 31)),  # the last day of February takes January's end
    (date(2026, 3, 30), 1, date(2026, 2, 28)),  # no 30 February: all of February has expired
    (date(2026, 1, 10), 13, date(2024, 12, 10)),
])
def test_the_last_expired_start_day(today, months, expected):
    assert last_expired_start_day(today, months) == expected
    assert add_months(expected, months) <= today
    assert add_months(date.fromordinal(expected.toordinal() + 1), months) > today


def test_the_owner_sets_a_retention_and_sees_when_each_recording_goes(app, account, client, sign_in_as):
    sign_in_as(account.owner)
    room = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    page = client.get(f"/rooms/{room.id}")
    token = csrf(page)

    for bad in ("0", "121", "abc", ""):
        refused = client.post(f"/rooms/{room.id}/retention", data={"csrf_token": token, "keep": "months",
                                                                   "months": bad})
        assert refused.status_code == 422, bad
        assert 'role="alert"' in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Room, room.id).retention_months is None

    answer = client.post(f"/rooms/{room.id}/retention", data={"csrf_token": token, "keep": "months", "months": "6"})

    assert answer.status_code == 303
    db.session.expire_all()
    assert db.session.get(Room, room.id).retention_months == 6
    shown = client.get(f"/rooms/{room.id}").get_data(as_text=True)
    # recordings started on 3 February 2025 (Warsaw) go on 3 August 2025
    assert 'data-expires="2025-08-03"' in shown
    [event] = [e.details for e in db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "room_retention_changed"))]
    assert event["after"] == 6 and event["before"] is None


def test_a_delegate_cannot_change_a_retention(app, account, client, sign_in_as):
    room = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    delegate_client = app.test_client()
    sign_in_as(account.delegate_identity, delegate_client)
    page = delegate_client.get(f"/rooms/{room.id}")
    assert page.status_code == 200 and "/retention" not in page.get_data(as_text=True)
    answer = delegate_client.post(f"/rooms/{room.id}/retention",
                                  data={"csrf_token": csrf_token(app, delegate_client),
                                        "keep": "months", "months": "1"})
    assert answer.status_code == 404
    db.session.expire_all()
    assert db.session.get(Room, room.id).retention_months is None


def test_run_due_deletes_only_what_expired_with_one_receipt_and_an_email(app, account, smtp_server):
    board = db.session.scalar(select(Room).where(Room.customer_id == account.customer.id, Room.name == "Sala zarządu"))
    board.retention_months = 3
    fresh = factories.recording_with_file(board, account.recordings_dir, "Świeże")
    fresh.started_at = datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
    db.session.commit()
    runner = app.test_cli_runner()

    result = runner.invoke(args=["portal", "run-due", "--today", "2025-06-10"])

    assert result.exit_code == 0, result.output
    db.session.expire_all()
    # board recordings of 3 February expired on 3 May; the workshop keeps everything; June's stays
    board_ids = {r.id for r in account.recordings[::2]}
    remaining = set(db.session.scalars(select(Recording.id)))
    assert remaining.isdisjoint(board_ids)
    assert remaining == {r.id for r in account.recordings[1::2]} | {fresh.id}
    receipt = db.session.scalar(select(DeletionReceipt))
    assert receipt.reason == "retention" and receipt.recordings_count == len(board_ids)
    assert sorted(r["id"] for r in json.loads(receipt.document)["recordings"]) == sorted(board_ids)
    [message] = smtp_server.to(account.customer.email)
    assert receipt.document_sha256 in message.get_content()
    assert f"/rooms/receipts/{receipt.id}" in message.get_content()

    again = runner.invoke(args=["portal", "run-due", "--today", "2025-06-10"])
    assert again.exit_code == 0 and "retention: 0 recording(s) deleted" in again.output
    assert db.session.scalar(select(func.count(DeletionReceipt.id))) == 1
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "recordings_expired")) == 1


def test_a_room_kept_forever_loses_nothing(app, account):
    other = make_account(app, recordings=2)
    for room in db.session.scalars(select(Room).where(Room.customer_id == other.customer.id)):
        room.retention_months = 1
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["portal", "run-due", "--today", "2030-01-01"])
    assert result.exit_code == 0, result.output
    assert all(path.exists() for path in account.files())
    assert not any(path.exists() for path in other.files())


def test_two_runs_at_the_same_moment_delete_and_tell_once(app):
    import threading
    from collections import Counter

    from portal.recordings.retention import run_retention
    from tests.support.threads import at_once
    from tests.termination.test_run_due import CountingStore

    accounts = [make_account(app, recordings=4) for _ in range(3)]
    for room in db.session.scalars(select(Room)):
        room.retention_months = 1
    db.session.commit()
    removals, lock = Counter(), threading.Lock()

    def run(start):
        with app.app_context(), app.test_request_context():
            start.wait()
            run_retention(date(2026, 1, 1), CountingStore(app.config["RECORDINGS_DIR"], removals, lock), batch_size=2)
            db.session.remove()

    at_once(run)

    db.session.expire_all()
    everything = [r for a in accounts for r in a.recordings]
    # a file may be asked to go by both runs (the second finds it gone): what counts is the records
    assert set(removals) == {r.file for r in everything}
    assert db.session.scalar(select(func.count(Recording.id))) == 0
    receipts = db.session.scalars(select(DeletionReceipt)).all()
    assert sorted(r.customer_id for r in receipts) == sorted(a.customer.id for a in accounts)
    assert sum(r.recordings_count for r in receipts) == len(everything)
    assert db.session.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "recordings_expired")) == 3
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "recordings_deleted")) == 3
