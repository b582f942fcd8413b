"""The recordings pages issue the same number of SQL statements whatever the data: rooms with 1 or
40 recordings, several rooms, a long access history (never one query per row)."""
from __future__ import annotations

import re

from sqlalchemy import event, select

from portal.customers.models import Room
from portal.extensions import db
from portal.recordings import deletion
from portal.storage import recording_store
from tests import factories
from tests.recordings.conftest import make_account


def statements_of(client, urls: list[str]) -> dict[str, int]:
    counted: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        counted.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        out = {}
        for url in urls:
            counted.clear()
            assert client.get(url).status_code == 200, url
            out[re.sub(r"\d+", "N", url)] = len(counted)
        return out
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def world(app, recordings: int, rooms: int, downloads: int):
    account = make_account(app, recordings=2)
    for i in range(rooms):
        room = factories.room(account.customer, f"Sala {i}")
        for _ in range(recordings):
            factories.recording(room, "Nagranie")
    db.session.commit()
    first = account.recordings[0]
    browser = app.test_client()
    factories.signed_in(browser, account.owner)
    for _ in range(downloads):
        other = app.test_client()
        factories.signed_in(other, account.owner)
        other.get(f"/rooms/recordings/{first.id}")
    receipt_id = deletion.delete_now(account.customer.id, account.owner.id, [account.recordings[1].id],
                                     recording_store())
    room_id = db.session.scalar(select(Room.id).where(Room.customer_id == account.customer.id).order_by(Room.id))
    return browser, ["/rooms", f"/rooms/{room_id}", "/rooms/receipts", f"/rooms/receipts/{receipt_id}",
                     f"/rooms/delete?recording={first.id}", f"/rooms/recordings/{first.id}/play"]


def test_the_same_statements_for_little_and_much_data(app):
    small = statements_of(*world(app, recordings=1, rooms=1, downloads=1))
    large = statements_of(*world(app, recordings=40, rooms=4, downloads=30))
    assert small == large
