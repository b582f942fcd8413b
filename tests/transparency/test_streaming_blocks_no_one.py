"""A long streamed response (the data export, a recording) left half-read by a slow client blocks
no one else: another person signs in (a write) and reads their pages meanwhile, on SQLite and
PostgreSQL alike. The slow reader is the response's body iterator, suspended after its first piece."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from portal.auth.models import Identity
from portal.consents.models import PRODUCT_NOTIFICATIONS, ConsentEvent
from portal.extensions import db
from tests import factories
from tests.people.helpers import recording_file


@pytest.fixture
def people(app):
    anna = factories.customer(first_name="Anna")
    room = factories.room(anna, "Sala")
    recording = recording_file(room, "Nagranie", size=2 * 1024 * 1024)
    # enough rows (over 1 MB of export) that a half-read export is in the middle of reading them
    moment = datetime(2025, 1, 1, tzinfo=UTC)
    db.session.add_all([ConsentEvent(receipt_id=str(uuid.uuid4()), customer_id=anna.id, purpose=PRODUCT_NOTIFICATIONS,
                                     channel="email", granted=n % 2 == 0, at=moment + timedelta(minutes=n),
                                     source="portal", collection_method="portal_form") for n in range(5000)])
    anna_id = factories.identity(customer=anna)
    olga_id = factories.identity(customer=factories.customer(first_name="Olga"))
    db.session.commit()
    return anna_id, olga_id.id, recording.id


def someone_else_meanwhile(app, identity_id: int) -> dict:
    """Olga signs in (a new session row: a write) and opens two pages, in another thread."""
    outcome: dict = {}

    def run():
        with app.app_context():
            client = app.test_client()
            begun = time.monotonic()
            try:
                factories.signed_in(client, db.session.get(Identity, identity_id))
                outcome["statuses"] = [client.get(path).status_code for path in ("/account/", "/account/consents")]
            except Exception as error:  # the failure is the finding: report it, not a thread traceback
                outcome["error"] = repr(error)
            outcome["seconds"] = time.monotonic() - begun
            db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    return outcome


@pytest.mark.parametrize("url", ["/account/export.json", "/account/export", "/rooms/recordings/{id}"])
def test_a_half_read_stream_blocks_no_one(app, client, sign_in_as, people, url):
    anna_id, olga_identity_id, recording_id = people
    sign_in_as(anna_id)
    response = client.get(url.format(id=recording_id), buffered=False)
    assert response.status_code == 200
    body = iter(response.response)
    first = b""
    while len(first) < 256 * 1024:  # well into the stream; then the client reads no further for now
        first += next(body)

    outcome = someone_else_meanwhile(app, olga_identity_id)

    rest = b"".join(body)
    response.close()
    assert outcome.get("error") is None, outcome
    assert outcome["statuses"] == [200, 200] and outcome["seconds"] < 2, outcome
    whole = first + rest
    if url.endswith(".json"):
        assert json.loads(whole) and "Anna" in whole.decode()
    elif url.startswith("/rooms"):
        assert len(whole) == 2 * 1024 * 1024
