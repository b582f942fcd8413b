"""PORTAL_RECORDINGS_SERVE=redirect: the portal hands a download to the object store through a
short-lived presigned URL; the Range goes straight to the store, and the download is logged once."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from portal.extensions import db
from tests import factories
from tests.people.helpers import events, recording_file

pytestmark = pytest.mark.parametrize("recordings_backend", ["s3"], indirect=True)


@pytest.fixture
def jan_and_recording(app, client, sign_in_as):
    app.config["RECORDINGS_SERVE"] = "redirect"
    anna = factories.customer()
    board = factories.room(anna, "Sala zarządu")
    rec = recording_file(board, "Zarząd — luty", size=4096)
    jan = factories.identity("jan@example.pl")
    factories.delegate(anna, jan, rooms=[board], recordings=True)
    db.session.commit()
    sign_in_as(jan)
    return rec


def test_a_download_redirects_to_a_presigned_url_that_answers_the_range(app, client, jan_and_recording):
    rec = jan_and_recording
    before = time.time()

    response = client.get(f"/rooms/recordings/{rec.id}")

    assert response.status_code == 302 and response.headers["Cache-Control"] == "private, no-store"
    url = response.headers["Location"]
    query = parse_qs(urlsplit(url).query)
    assert int(query["X-Amz-Expires"][0]) == 60
    assert query["response-content-disposition"][0].startswith('attachment; filename="Zarz_d _ luty.mp4"')
    served = requests.get(url, headers={"Range": "bytes=4000-"}, timeout=10)
    assert served.status_code == 206 and len(served.content) == 96
    assert served.headers["Content-Disposition"].startswith("attachment;")
    assert time.time() - before < 60
    assert len(events("recording_downloaded")) == 1


def test_the_ranges_of_one_redirected_download_are_logged_once_and_head_never(app, client, jan_and_recording):
    rec = jan_and_recording

    assert client.head(f"/rooms/recordings/{rec.id}").status_code == 302
    db.session.expire_all()
    assert events("recording_downloaded") == []
    for _ in range(3):
        assert client.get(f"/rooms/recordings/{rec.id}/media").status_code == 302
    db.session.expire_all()
    assert [e.details["mode"] for e in events("recording_downloaded")] == ["playback"]
