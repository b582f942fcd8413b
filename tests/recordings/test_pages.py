"""The rooms pages paginate by keyset (started_at desc, id desc) for the owner and the delegate,
and the play page shows the owner who played and downloaded the recording."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.customers.models import Room
from portal.extensions import db
from tests import factories


def shown_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr data-recording="(\d+)"', html)]


def older_link(html: str) -> str | None:
    match = re.search(r'<a rel="next" href="([^"]+)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def test_every_recording_appears_once_in_order_page_after_page(app, account, client, sign_in_as):
    board = db.session.scalar(select(Room).where(Room.name == "Sala zarządu"))
    start = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
    for i in range(120):
        recording = factories.recording(board, f"Spotkanie {i}")
        # pairs share a start time: the id decides between them
        recording.started_at = start + timedelta(hours=i // 2)
    db.session.commit()
    expected = [row.id for row in db.session.execute(
        select(factories.Recording.id, factories.Recording.started_at).where(factories.Recording.room_id == board.id)
        .order_by(factories.Recording.started_at.desc(), factories.Recording.id.desc()))]

    for who in (account.owner, account.delegate_identity):
        browser = app.test_client()
        sign_in_as(who, browser)
        index = browser.get("/rooms").get_data(as_text=True)
        section = index.split(f'data-room="{board.id}"')[1].split("</article>")[0]
        assert shown_ids(section) == expected[:10]
        seen, url = [], older_link(section)
        while url:
            page = browser.get(url).get_data(as_text=True)
            seen += shown_ids(page)
            url = older_link(page)
        # the room's pages go on from where the preview stops: every recording once, in order
        assert expected[:10] + seen == expected


def test_the_owner_sees_who_played_and_downloaded_a_recording(app, account, client, sign_in_as):
    recording = account.recordings[0]  # in the delegate's scope
    delegate_client = app.test_client()
    sign_in_as(account.delegate_identity, delegate_client)
    assert delegate_client.get(f"/rooms/recordings/{recording.id}").status_code == 200
    sign_in_as(account.owner)
    assert client.get(f"/rooms/recordings/{recording.id}/media", headers={"Range": "bytes=0-1"}).status_code == 206

    page = client.get(f"/rooms/recordings/{recording.id}/play").get_data(as_text=True)

    rows = re.findall(r'data-who="(\w+)"', page)
    assert rows == ["owner", "delegate"]  # newest first
    assert account.delegate.name in page
    # an authorized person does not see the history
    assert "data-who" not in delegate_client.get(f"/rooms/recordings/{recording.id}/play").get_data(as_text=True)


def test_the_access_history_pages_by_keyset(app, account, client, sign_in_as):
    recording = account.recordings[1]
    for _ in range(25):
        browser = app.test_client()
        sign_in_as(account.owner, browser)  # each a new session: each a download of its own
        assert browser.get(f"/rooms/recordings/{recording.id}").status_code == 200
    sign_in_as(account.owner)
    first = client.get(f"/rooms/recordings/{recording.id}/play").get_data(as_text=True)
    ids = [int(i) for i in re.findall(r'data-access="(\d+)"', first)]
    later = client.get(older_link(first)).get_data(as_text=True)
    more = [int(i) for i in re.findall(r'data-access="(\d+)"', later)]
    assert len(ids) == 20 and len(more) == 5
    assert ids + more == sorted(ids + more, reverse=True) and not set(ids) & set(more)
