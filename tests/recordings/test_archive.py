"""The ZIP of recordings (issue 17 item 3): streamed, sized, with manifest.json; logged once;
a delegate gets exactly their scope."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile

from sqlalchemy import select

from portal.audit import AuditEvent
from portal.customers.models import Room
from portal.extensions import db
from portal.people.models import RecordingAccessEvent


def archive_events() -> list[dict]:
    return [e.details for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "recordings_archive_downloaded"))]


def opened(answer) -> tuple[zipfile.ZipFile, dict]:
    body = answer.get_data()
    assert int(answer.headers["Content-Length"]) == len(body)
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert archive.testzip() is None
    return archive, json.loads(archive.read("manifest.json"))


def test_the_owner_takes_everything_with_a_manifest_and_it_is_logged_once(app, account, client, sign_in_as):
    sign_in_as(account.owner)

    answer = client.get("/rooms/recordings.zip")

    assert answer.status_code == 200 and answer.mimetype == "application/zip"
    assert answer.headers["Accept-Ranges"] == "none"
    archive, manifest = opened(answer)
    listed = {entry["id"]: entry for entry in manifest["recordings"]}
    assert set(listed) == {r.id for r in account.recordings}
    for recording in account.recordings:
        entry = listed[recording.id]
        content = archive.read(entry["path"])
        assert hashlib.sha256(content).hexdigest() == recording.sha256 == entry["sha256"]
        assert entry["size_bytes"] == len(content) and entry["title"] == recording.title
        assert entry["room"] in ("Sala zarządu", "Pokój projektowy") and entry["started_at"] and entry["duration_s"] == 60
    [event] = archive_events()
    assert event["recordings"] == len(account.recordings)
    # each recording's access history shows the download
    assert {row.recording_id for row in db.session.scalars(select(RecordingAccessEvent))} == set(listed)


def test_a_delegate_gets_exactly_their_scope(app, account, sign_in_as):
    delegate_client = app.test_client()
    sign_in_as(account.delegate_identity, delegate_client)
    board = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    workshop = db.session.scalar(select(Room).where(Room.name == "Pokój projektowy"))

    everything = delegate_client.get(f"/rooms/recordings.zip?of={account.customer.number}")

    _archive, manifest = opened(everything)
    assert {e["id"] for e in manifest["recordings"]} == {r.id for r in account.recordings[::2]}  # the board room's
    assert delegate_client.get("/rooms/recordings.zip").status_code == 404  # they own nothing
    assert delegate_client.get(f"/rooms/{workshop.id}/recordings.zip").status_code == 404
    assert opened(delegate_client.get(f"/rooms/{board.id}/recordings.zip"))[1]["recordings"]
    assert [e["delegate_id"] for e in archive_events()] == [account.delegate.id, account.delegate.id]


def test_a_room_zip_holds_that_room_only_and_head_logs_nothing(app, account, client, sign_in_as):
    sign_in_as(account.owner)
    workshop = db.session.scalar(select(Room).where(Room.name == "Pokój projektowy"))
    head = client.head(f"/rooms/{workshop.id}/recordings.zip")
    assert head.status_code == 200 and int(head.headers["Content-Length"]) > 0
    assert archive_events() == []
    _archive, manifest = opened(client.get(f"/rooms/{workshop.id}/recordings.zip"))
    assert {e["id"] for e in manifest["recordings"]} == {r.id for r in account.recordings[1::2]}


def test_member_names_give_the_start_in_warsaw_time_as_the_pages_do(app, account, client, sign_in_as):
    # 10:00 UTC on 3 February 2025 is 11:00 in Warsaw (CET): the rooms page says 11:00, so must the file name
    sign_in_as(account.owner)

    archive, manifest = opened(client.get("/rooms/recordings.zip"))

    names = [entry["path"].split("/", 1)[1] for entry in manifest["recordings"]]
    assert names and all(name.startswith("2025-02-03 11.00 ") for name in names)
    assert set(archive.namelist()) - {"manifest.json"} == {entry["path"] for entry in manifest["recordings"]}


def test_a_recording_the_store_cannot_read_refuses_the_whole_zip_before_its_first_byte(app, account, client,
                                                                                       sign_in_as):
    """The ZIP's length is promised up front, so a missing file cannot be skipped half-way: the
    person is told at once instead of getting a download that breaks, and nothing is logged."""
    from portal.storage import recording_store

    sign_in_as(account.owner)
    recording_store().delete(account.recordings[0].file)

    answer = client.get("/rooms/recordings.zip")

    assert answer.status_code == 503 and answer.mimetype == "text/html"
    assert "Archiwum jest chwilowo niedostępne" in answer.get_data(as_text=True)
    assert archive_events() == []
