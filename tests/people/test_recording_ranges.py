"""Recording downloads answer Range, If-Range and HEAD as RFC 9110 §14 says, and each download
or playback is in the owner's activity log exactly once, whichever range serves it (P8)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from portal.extensions import db
from tests import factories
from tests.conftest import both_backends
from tests.people.helpers import events, recording_file, stored_bytes

SIZE = 1024
# every test here runs with recordings in a directory and in an S3 store (issue 19)
pytestmark = both_backends


@pytest.fixture
def recording(app, client, sign_in_as):
    """A 1,024-byte recording of Anna's, Jan (her delegate) signed in; returns (id, bytes, etag, anna)."""
    anna = factories.customer(first_name="Anna", last_name="Kowalska")
    anna_signs_in_as = factories.identity("anna@example.pl", customer=anna)
    board = factories.room(anna, "Sala zarządu")
    rec = recording_file(board, "Posiedzenie", size=SIZE)
    jan = factories.identity("jan@example.pl")
    factories.delegate(anna, jan, rooms=[board], recordings=True)
    db.session.commit()
    sign_in_as(jan)
    content = stored_bytes(rec.file)
    assert len(content) == SIZE
    return type("Recording", (), {"id": rec.id, "content": content, "etag": f'"{rec.sha256}"',
                                     "owner": anna_signs_in_as, "jan": jan})


def logged() -> int:
    db.session.expire_all()
    return len(events("recording_downloaded"))


WHOLE = (200, None, (0, SIZE))
# Range header → (status, Content-Range, served slice), and whether it is logged (it serves bytes)
CASES = {
    "no Range": (None, WHOLE, True),
    "unknown unit items=0-10": ("items=0-10", WHOLE, True),
    "two ranges on 1,024 bytes": ("bytes=0-99,200-299", WHOLE, True),
    "garbage": ("garbage", WHOLE, True),
    "not numbers": ("bytes=a-b", WHOLE, True),
    "last before first": ("bytes=500-100", WHOLE, True),
    "a 5,000-digit position": ("bytes=" + "9" * 5000 + "-", (416, f"bytes */{SIZE}", None), False),
    "first 100 bytes": ("bytes=0-99", (206, f"bytes 0-99/{SIZE}", (0, 100)), True),
    "from 0, open": ("bytes=0-", (206, f"bytes 0-1023/{SIZE}", (0, SIZE)), True),
    "a later range": ("bytes=100-199", (206, f"bytes 100-199/{SIZE}", (100, 200)), True),
    "last past the end": ("bytes=1000-5000", (206, f"bytes 1000-1023/{SIZE}", (1000, SIZE)), True),
    "suffix": ("bytes=-24", (206, f"bytes 1000-1023/{SIZE}", (1000, SIZE)), True),
    "suffix longer than the file": ("bytes=-2000", (206, f"bytes 0-1023/{SIZE}", (0, SIZE)), True),
    "beyond the end bytes=2000-": ("bytes=2000-", (416, f"bytes */{SIZE}", None), False),
    "empty suffix bytes=-0": ("bytes=-0", (416, f"bytes */{SIZE}", None), False),
    "two ranges, none satisfiable": ("bytes=2000-,3000-3100", (416, f"bytes */{SIZE}", None), False),
}


@pytest.mark.parametrize("endpoint", ["", "/media"])
@pytest.mark.parametrize("case", CASES)
def test_range_forms(client, recording, endpoint, case):
    header, (status, content_range, served), starts = CASES[case]

    response = client.get(f"/rooms/recordings/{recording.id}{endpoint}",
                          headers={"Range": header} if header else {})

    assert response.status_code == status
    assert response.headers.get("Content-Range") == content_range
    if served is None:
        assert recording.content[:64] not in response.data
    else:
        assert response.data == recording.content[served[0]:served[1]]
        assert response.headers["Content-Length"] == str(served[1] - served[0])
        assert response.headers["Accept-Ranges"] == "bytes"
    assert logged() == (1 if starts else 0)


IF_RANGE = {
    # If-Range kind → (status, served slice, logged) for Range: bytes=100-199
    "the current ETag": ("etag", 206, (100, 200), 1),
    "another ETag": ('"0123abcd"', 200, (0, SIZE), 1),
    "a weak copy of the ETag": ("weak", 200, (0, SIZE), 1),
    "a date (the recording has no Last-Modified)": ("Tue, 01 Jan 2030 00:00:00 GMT", 200, (0, SIZE), 1),
}


@pytest.mark.parametrize("case", IF_RANGE)
def test_if_range_serves_the_range_only_for_the_same_file(client, recording, case):
    value, status, (start, end), logged_count = IF_RANGE[case]
    value = {"etag": recording.etag, "weak": f"W/{recording.etag}"}.get(value, value)

    response = client.get(f"/rooms/recordings/{recording.id}", headers={"Range": "bytes=100-199", "If-Range": value})

    assert response.status_code == status
    assert response.data == recording.content[start:end]
    assert logged() == logged_count


def test_a_changed_file_is_served_whole_even_for_an_unsatisfiable_range(client, recording):
    response = client.get(f"/rooms/recordings/{recording.id}",
                          headers={"Range": "bytes=2000-", "If-Range": '"0123abcd"'})

    assert response.status_code == 200 and response.data == recording.content
    assert logged() == 1


@pytest.mark.parametrize("range_header", [None, "bytes=0-99", "bytes=2000-"])
def test_a_cached_copy_is_confirmed_with_304_and_not_logged(client, recording, range_header):
    # RFC 9110 §13.2.2: If-None-Match is evaluated before Range, so a matching tag is a 304 either way
    headers = {"If-None-Match": recording.etag} | ({"Range": range_header} if range_header else {})
    response = client.get(f"/rooms/recordings/{recording.id}", headers=headers)

    assert response.status_code == 304 and response.data == b""
    assert logged() == 0


@pytest.mark.parametrize("header", [None, "bytes=0-99", "bytes=100-199", "items=0-10", "bytes=2000-", "bytes=-0"])
@pytest.mark.parametrize("endpoint", ["", "/media"])
def test_head_answers_with_the_headers_of_get_and_is_never_logged(client, recording, header, endpoint):
    url = f"/rooms/recordings/{recording.id}{endpoint}"
    headers = {"Range": header} if header else {}

    head = client.head(url, headers=headers)

    assert logged() == 0
    assert head.data == b""
    get = client.get(url, headers=headers)
    assert head.status_code == get.status_code
    # every request has an id of its own (X-Request-ID)
    assert {k: v for k, v in head.headers.items() if k not in ("Date", "Set-Cookie", "X-Request-ID")} == \
           {k: v for k, v in get.headers.items() if k not in ("Date", "Set-Cookie", "X-Request-ID")}



def owners_log_count(app, owner) -> int:
    """How many downloads or playbacks the owner's own activity log shows her."""
    owner_client = app.test_client()
    factories.signed_in(owner_client, owner)
    page = owner_client.get("/account/activity?kind=access").get_data(as_text=True)
    return page.count("Pobrano lub odtworzono nagranie")


@pytest.mark.parametrize("header", ["bytes=1-", "bytes=-1023", "bytes=-1", "bytes=0-", None])
def test_a_response_serving_bytes_is_logged_whatever_its_range(app, client, recording, header):
    response = client.get(f"/rooms/recordings/{recording.id}", headers={"Range": header} if header else {})

    assert response.status_code in (200, 206) and len(response.data) > 0
    assert logged() == 1
    assert owners_log_count(app, recording.owner) == 1


@pytest.mark.parametrize("ranges", [
    [{"Range": "bytes=0-511"}, {"Range": "bytes=512-", "If-Range": "<etag>"}],  # a resumed download
    [{"Range": "bytes=1-"}, {"Range": "bytes=0-0"}],  # all but the first byte, then the first byte
    [{"Range": "bytes=0-99"}, {"Range": "bytes=100-"}],  # a player's follow-up range
], ids=["resumed", "first-byte-last", "player"])
def test_the_ranges_of_one_download_are_logged_once(app, client, recording, ranges):
    url = f"/rooms/recordings/{recording.id}"

    parts = [client.get(url, headers={k: recording.etag if v == "<etag>" else v for k, v in headers.items()})
             for headers in ranges]

    assert b"".join(sorted((p.data for p in parts), key=lambda d: recording.content.index(d))) == recording.content
    assert logged() == 1
    assert owners_log_count(app, recording.owner) == 1


def test_no_bytes_served_nothing_logged(app, client, recording):
    url = f"/rooms/recordings/{recording.id}"

    head = client.head(url, headers={"Range": "bytes=1-"})
    unsatisfiable = client.get(url, headers={"Range": "bytes=5000-"})
    cached = client.get(url, headers={"If-None-Match": recording.etag})

    assert (head.status_code, unsatisfiable.status_code, cached.status_code) == (206, 416, 304)
    assert logged() == 0
    assert owners_log_count(app, recording.owner) == 0


def test_two_sessions_are_two_downloads(app, client, recording):
    other_browser = app.test_client()
    factories.signed_in(other_browser, recording.jan)
    url = f"/rooms/recordings/{recording.id}"

    client.get(url, headers={"Range": "bytes=1-"})
    other_browser.get(url, headers={"Range": "bytes=1-"})
    client.get(url, headers={"Range": "bytes=0-0"})

    assert logged() == 2
    assert owners_log_count(app, recording.owner) == 2


def test_the_same_session_later_is_another_download(client, recording, monkeypatch):
    from portal.people import downloads

    url = f"/rooms/recordings/{recording.id}"
    client.get(url, headers={"Range": "bytes=1-"})
    monkeypatch.setattr(downloads, "SAME_DOWNLOAD_WINDOW", timedelta(0))
    client.get(url, headers={"Range": "bytes=1-"})

    assert logged() == 2


def test_a_range_is_read_from_the_store_and_nothing_more(app, client, recording, monkeypatch):
    """Range passes through to the store: a range at the end of a recording never pulls its start."""
    from portal import storage

    asked = []
    store_class = type(storage.recording_store())
    original = store_class.open

    def recording_open(self, key, start=0, end=None):
        asked.append((start, end))
        return original(self, key, start, end)

    monkeypatch.setattr(store_class, "open", recording_open)
    response = client.get(f"/rooms/recordings/{recording.id}", headers={"Range": "bytes=1000-1009"})

    assert response.status_code == 206 and response.data == recording.content[1000:1010]
    assert asked == [(1000, 1010)]
