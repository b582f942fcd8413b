"""Hostile input against the recordings' ZIP, deletion and retention (security review)."""
from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.customers.models import Recording, Room
from portal.extensions import db
from tests import factories


def _members(answer) -> list[str]:
    assert answer.status_code == 200
    return zipfile.ZipFile(io.BytesIO(answer.get_data())).namelist()


@pytest.mark.parametrize("title, room_name", [
    ("../../../etc/passwd", "../../.."),
    ("/abs/olute", "/root"),
    ("a\x01b\r\nc\x1b[31m", "C:\\Windows\\System32"),
    ("\u202eevil\u202dmp4.exe", "\u200f\u202e"),
    ("x" * 300, "y" * 200),
    ("..", "."),
])
def test_hostile_titles_and_room_names_never_leave_the_archive_folder(app, account, client, sign_in_as,
                                                                     title, room_name):
    room = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    room.name = room_name
    for recording in db.session.scalars(select(Recording).where(Recording.room_id == room.id)):
        recording.title = title
    db.session.commit()
    sign_in_as(account.owner)

    names = _members(client.get("/rooms/recordings.zip"))
    for name in names:
        parts = name.split("/")
        assert not name.startswith("/") and ".." not in parts and "\\" not in name, name
        assert all(part.strip() for part in parts), name
        assert not any(ord(c) < 32 or 0x202a <= ord(c) <= 0x202e or c in "\u200e\u200f\u2066\u2067\u2068\u2069"
                       for c in name), name
        assert len(name.encode()) < 512


def test_a_file_name_suffix_from_the_import_cannot_smuggle_characters_into_the_archive(app, account, client,
                                                                                         sign_in_as):
    recordings_dir = Path(app.config["RECORDINGS_DIR"])
    room = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    recording = factories.recording_with_file(room, recordings_dir, title="ok")
    hostile = os.path.dirname(recording.file) + "/rec.m\n\x1b\u202ep4"
    os.replace(recordings_dir / recording.file, recordings_dir / hostile)
    recording.file = hostile
    db.session.commit()
    sign_in_as(account.owner)

    names = _members(client.get(f"/rooms/{room.id}/recordings.zip"))
    assert not any(ord(c) < 32 or c == "\u202e" for name in names for c in name), names


def test_another_customers_number_in_of_gives_nothing(app, account, client, sign_in_as):
    other = factories.customer()
    other_room = factories.room(other, "Obcy")
    factories.recording_with_file(other_room, Path(app.config["RECORDINGS_DIR"]), title="cudze")
    db.session.commit()
    sign_in_as(account.owner)

    assert client.get(f"/rooms/recordings.zip?of={other.number}").status_code == 404
    assert client.get(f"/rooms/{other_room.id}/recordings.zip").status_code == 404
    assert client.get(f"/rooms/{other_room.id}").status_code == 404


def test_a_delegate_without_recordings_in_scope_gets_no_zip(app, account, sign_in_as):
    account.delegate.recordings = False
    db.session.commit()
    delegate_client = app.test_client()
    sign_in_as(account.delegate_identity, delegate_client)
    board = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))

    assert delegate_client.get(f"/rooms/recordings.zip?of={account.customer.number}").status_code == 404
    assert delegate_client.get(f"/rooms/{board.id}/recordings.zip").status_code == 404


@pytest.mark.parametrize("months", ["0", "-1", "121", "99999999999999999999999", "1e3", "١٢", "12\x00", " ", "nan"])
def test_retention_refuses_hostile_months(app, account, client, sign_in_as, months):
    sign_in_as(account.owner)
    board = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    page = client.get(f"/rooms/{board.id}")
    token = page.get_data(as_text=True).split('name="csrf_token" type="hidden" value="')[1].split('"')[0]

    answer = client.post(f"/rooms/{board.id}/retention", data={"csrf_token": token, "keep": "months",
                                                               "months": months})
    db.session.expire_all()
    room = db.session.get(Room, board.id)
    assert answer.status_code in (400, 422) or (months == "١٢" and room.retention_months == 12), answer.status_code
    assert room.retention_months in (None, 12)


def test_retention_of_the_delegate_or_without_csrf_changes_nothing(app, account, client, sign_in_as):
    board = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    delegate_client = app.test_client()
    sign_in_as(account.delegate_identity, delegate_client)
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        assert delegate_client.post(f"/rooms/{board.id}/retention",
                                    data={"keep": "months", "months": "1"}).status_code == 404
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    sign_in_as(account.owner)
    assert client.post(f"/rooms/{board.id}/retention", data={"keep": "months", "months": "1"}).status_code in (400, 422)
    db.session.expire_all()
    assert db.session.get(Room, board.id).retention_months is None


def test_the_manifest_is_json_whatever_the_titles(app, account, client, sign_in_as):
    room = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    for recording in db.session.scalars(select(Recording).where(Recording.room_id == room.id)):
        recording.title = '"}], "x": 1, "\ud7ff \u2028 \x7f'
    db.session.commit()
    sign_in_as(account.owner)
    body = client.get("/rooms/recordings.zip").get_data()
    manifest = json.loads(zipfile.ZipFile(io.BytesIO(body)).read("manifest.json"))
    assert set(manifest) == {"schema", "customer_number", "recordings"}


def test_a_second_confirmation_racing_the_first_does_not_fail(app, account, client, sign_in_as, monkeypatch):
    """A double click: both requests pass the selection check, the first marks the recordings, the
    second marks none and must answer like any confirmed deletion, not with an error page."""
    from portal.db_types import utcnow
    from portal.recordings import deletion, routes
    from portal.termination.models import DeletionReceipt
    from tests.recordings.test_delete_now import factories_csrf

    sign_in_as(account.owner)
    first = account.recordings[0]
    page = client.get(f"/rooms/delete?recording={first.id}")
    token = factories_csrf(client, page)
    real = deletion.owned_selection

    def raced(customer_id, ids):
        selected = real(customer_id, ids)
        # the first request commits its marking right after this one's check
        receipt = DeletionReceipt(customer_id=customer_id, reason="on_request", created_at=utcnow())
        db.session.add(receipt)
        db.session.flush()
        db.session.get(Recording, first.id).deletion_receipt_id = receipt.id
        db.session.commit()
        return selected

    monkeypatch.setattr(routes.deletion, "owned_selection", raced)
    answer = client.post("/rooms/delete", data={"csrf_token": token, "recording": [str(first.id)]})

    assert answer.status_code == 303, answer.status_code
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "already being deleted" in shown or "już usuwane" in shown
