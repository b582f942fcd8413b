"""Carrying out a termination against a real S3 server: for good means every version (issue 19)."""
from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from portal.extensions import db
from portal.storage import recording_store
from portal.termination import services
from portal.termination.models import DeletionReceipt, TerminationRequest, TerminationStatus
from tests import factories
from tests.support.s3 import LOCKED_BUCKET
from tests.termination.conftest import EFFECTIVE, make_account, requested_termination

pytestmark = pytest.mark.parametrize("recordings_backend", ["s3"], indirect=True)


def test_older_versions_and_delete_markers_go_too_and_the_receipt_says_how_many(app, s3_server, client,
                                                                              sign_in_as):
    account = make_account(app, recordings=3)
    store = recording_store()
    overwritten, restored, plain = account.recordings
    # uploaded again (a re-encode): the bucket keeps the first upload as an older version
    store.put(overwritten.file, b"re-encoded")
    # deleted by mistake and uploaded again: an older version and a delete marker stay behind
    store.client.delete_object(Bucket=store.bucket, Key=store.object_key(restored.file))
    store.put(restored.file, b"uploaded again")
    termination = requested_termination(account)

    report = services.run_due(today=EFFECTIVE)

    assert [o.status for o in report.outcomes] == ["completed"]
    assert s3_server.all_versions(store.bucket, store.prefix) == []
    receipt = db.session.scalar(select(DeletionReceipt).where(DeletionReceipt.termination_id == termination.id))
    removed = {item["id"]: item["removed"] for item in json.loads(receipt.document)["recordings"]}
    assert removed == {overwritten.id: {"versions": 2, "delete_markers": 0},
                       restored.id: {"versions": 2, "delete_markers": 1},
                       plain.id: {"versions": 1, "delete_markers": 0}}
    sign_in_as(account.owner)
    page = client.get("/account/termination/receipt").get_data(as_text=True)
    rows = {rid: re.search(rf'<tr data-recording-id="{rid}">(.*?)</tr>', page, re.S).group(1)
            for rid in removed}
    assert "Usunięto: 2 zapisane wersje<" in rows[overwritten.id]
    assert "Usunięto: 2 zapisane wersje i 1 znacznik usunięcia" in rows[restored.id]
    assert "Usunięto: 1 zapisaną wersję" in rows[plain.id]


def test_a_deletion_the_store_refuses_leaves_the_termination_in_progress_for_staff_to_see(app, s3_server, client,
                                                                                         sign_in_as):
    app.config["RECORDINGS_URL"] = s3_server.fresh_url(LOCKED_BUCKET)
    account = make_account(app)
    store = recording_store()
    held = account.recordings[0]
    store.client.put_object_legal_hold(Bucket=store.bucket, Key=store.object_key(held.file), LegalHold={"Status": "ON"})
    termination = requested_termination(account)

    report = services.run_due(today=EFFECTIVE)

    assert [o.status for o in report.outcomes] == ["in_progress"]
    db.session.expire_all()
    stored = db.session.get(TerminationRequest, termination.id)
    assert stored.status == TerminationStatus.IN_PROGRESS and "AccessDenied" in stored.last_error
    assert store.exists(held.file) and account.stored().count(True) == 1
    sign_in_as(factories.identity(roles=("privacy_officer",)))
    page = client.get("/staff/terminations").get_data(as_text=True)
    assert "AccessDenied" in page and "W toku" in page

    # the hold lifted, the next run finishes
    store.client.put_object_legal_hold(Bucket=store.bucket, Key=store.object_key(held.file),
                                       LegalHold={"Status": "OFF"})
    assert [o.status for o in services.run_due(today=EFFECTIVE).outcomes] == ["completed"]
    assert s3_server.all_versions(store.bucket, store.prefix) == []
