"""Deleting recordings now (issue 17 item 1): owner only, after a recent sign-in and a
confirmation that names what goes; the same crash-safe steps and receipt as a termination."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.auth.models import UserSession
from portal.customers.models import Recording
from portal.db_types import utcnow
from portal.extensions import db
from portal.recordings import deletion, retention
from portal.storage import recording_store
from portal.termination.models import DeletedRecording, DeletionReceipt
from tests.recordings.conftest import make_account
from tests.termination.test_run_due import CrashingStore


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(kind: str) -> list[dict]:
    return [e.details for e in db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind))]


def test_the_confirmation_names_what_goes_and_confirming_deletes_it_with_a_receipt(app, account, client, sign_in_as):
    sign_in_as(account.owner)
    first, second = account.recordings[0], account.recordings[1]

    page = client.get(f"/rooms/delete?recording={first.id}&recording={second.id}")

    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert first.title in text and second.title in text
    assert "Sala zarządu" in text and "Pokój projektowy" in text
    # nothing is gone before the owner confirms
    assert all(path.exists() for path in account.files())

    token = factories_csrf(client, page)
    answer = client.post("/rooms/delete", data={"csrf_token": token, "recording": [str(first.id), str(second.id)]})

    assert answer.status_code == 303
    receipt_url = answer.headers["Location"]
    assert not (account.recordings_dir / first.file).exists()
    assert not (account.recordings_dir / second.file).exists()
    assert (account.recordings_dir / account.recordings[2].file).exists()
    assert count(Recording) == 2
    receipt_page = client.get(receipt_url)
    assert receipt_page.status_code == 200
    assert first.sha256 in receipt_page.get_data(as_text=True)
    receipt = db.session.scalar(select(DeletionReceipt))
    document = json.loads(client.get(f"/rooms/receipts/{receipt.id}.json").get_data(as_text=True))
    assert [(r["id"], r["title"], r["size_bytes"], r["sha256"]) for r in document["recordings"]] == [
        (r.id, r.title, r.size_bytes, r.sha256) for r in (first, second)]
    assert document["requested_by"] == "owner" and document["reason"] == "on_request"
    assert [e["recordings"] for e in events("recordings_deleted")] == [2]
    log = client.get("/account/activity").get_data(as_text=True)
    assert "Recordings deleted for good" in log or "Nagrania usunięte na zawsze" in log


def factories_csrf(client, page) -> str:
    import re

    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_the_confirmation_offers_a_copy_of_each_recording_before_it_goes(app, account, client, sign_in_as):
    # the page says "download the recordings before you delete them": it must give the way to do so
    sign_in_as(account.owner)
    first, second = account.recordings[0], account.recordings[1]

    text = client.get(f"/rooms/delete?recording={first.id}&recording={second.id}").get_data(as_text=True)

    for recording in (first, second):
        assert f'href="/rooms/recordings/{recording.id}"' in text
        assert client.get(f"/rooms/recordings/{recording.id}").status_code == 200


def test_a_delegate_can_never_delete_and_loses_access_at_their_next_request(app, account, client, sign_in_as):
    board_recording = account.recordings[0]  # in the delegate's scope
    delegate_client = app.test_client()
    sign_in_as(account.delegate_identity, delegate_client)
    # a download in progress: the first range was served
    first_range = delegate_client.get(f"/rooms/recordings/{board_recording.id}", headers={"Range": "bytes=0-3"})
    assert first_range.status_code == 206
    assert delegate_client.get(f"/rooms/delete?recording={board_recording.id}").status_code == 404

    deletion.delete_now(account.customer.id, account.owner.id, [board_recording.id],
                        recording_store())

    assert delegate_client.get(f"/rooms/recordings/{board_recording.id}",
                               headers={"Range": "bytes=4-"}).status_code == 404
    assert delegate_client.get(f"/rooms/recordings/{board_recording.id}/play").status_code == 404


def test_a_recording_of_another_customer_is_never_deleted(app, account, client, sign_in_as):
    other = make_account(app, recordings=1)
    sign_in_as(account.owner)
    answer = client.get(f"/rooms/delete?recording={other.recordings[0].id}")
    assert answer.status_code == 303  # back to the rooms: nothing of theirs was chosen
    assert deletion.delete_now(account.customer.id, account.owner.id, [other.recordings[0].id],
                               recording_store()) is None
    assert all(path.exists() for path in other.files())
    assert count(DeletionReceipt) == 0


def test_a_stale_sign_in_signs_in_again_before_anything_is_deleted(app, account, client, sign_in_as):
    record = sign_in_as(account.owner)
    db.session.get(UserSession, record.id).auth_time = utcnow() - timedelta(days=1)
    db.session.commit()
    answer = client.get(f"/rooms/delete?recording={account.recordings[0].id}")
    assert answer.status_code == 302 and "/auth/login" in answer.headers["Location"]
    assert all(path.exists() for path in account.files())


@pytest.mark.parametrize("k", [1, 3])
def test_killed_in_the_middle_the_next_run_finishes_and_counts_nothing_twice(app, k):
    account = make_account(app, recordings=5)
    ids = [r.id for r in account.recordings]
    with pytest.raises(KeyboardInterrupt):
        deletion.delete_now(account.customer.id, account.owner.id, ids,
                            CrashingStore(recording_store(), k))
    db.session.rollback()
    db.session.expire_all()
    assert sum(not path.exists() for path in account.files()) == k
    recorded_before = count(DeletedRecording)
    assert recorded_before <= k  # a row is only written for a file that is gone
    # already hidden from everybody
    assert count(Recording, Recording.deletion_receipt_id.is_(None)) == 0

    report = retention.run_retention(utcnow().date(), recording_store(),
                                     batch_size=2)
    again = retention.run_retention(utcnow().date(), recording_store())

    # the run recorded exactly what the crashed call had not, nothing twice
    assert report.deleted == 5 - recorded_before
    assert again.deleted == 0
    assert not any(path.exists() for path in account.files())
    assert count(DeletedRecording) == 5 and count(Recording) == 0
    receipt = db.session.scalar(select(DeletionReceipt))
    document = json.loads(receipt.document)
    assert sorted(r["id"] for r in document["recordings"]) == sorted(ids)
    assert document["totals"]["recordings"] == 5 == receipt.recordings_count
    assert len(events("recordings_deleted")) == 1
