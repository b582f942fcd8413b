"""What a delegate (and the owner) sees under /rooms, and the recordings they may stream (P5, P8).

Everything outside a person's scope answers 404, decided by the data-layer getters."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from portal import db_types
from portal.db_types import local_today
from portal.extensions import db
from tests import factories
from tests.people.helpers import count_statements, events, page_text, recording_file


@pytest.fixture
def world(app):
    """Anna owns two rooms (one recorded, with a recording out of Jan's scope in a third room);
    Jan may use the board room and its recordings; Olga is another customer with her own."""
    anna = factories.customer(first_name="Anna", last_name="Kowalska")
    board = factories.room(anna, "Sala zarządu")
    training = factories.room(anna, "Sala szkoleniowa", kind="video_room")
    project = factories.room(anna, "Pokój projektowy")
    olga = factories.customer(first_name="Olga", last_name="Obca")
    foreign_room = factories.room(olga, "Obca sala")
    w = type("World", (), {})()
    w.anna, w.olga, w.board, w.training, w.project, w.foreign_room = anna, olga, board, training, project, foreign_room
    w.board_rec = recording_file(board, "Posiedzenie zarządu — luty", size=1000)
    w.project_rec = recording_file(project, "Warsztat projektowy")
    w.foreign_rec = recording_file(foreign_room, "Obce nagranie")
    w.anna_id = factories.identity("anna@example.pl", customer=anna)
    w.olga_id = factories.identity("olga@example.pl", customer=olga)
    w.jan = factories.identity("jan@example.pl")
    w.jan_delegate = factories.delegate(anna, w.jan, rooms=[board], recordings=True)
    db.session.commit()
    return w


def rooms_on_page(page: str) -> set[str]:
    return set(re.findall(r'<h3 id="room-\d+-heading">([^<]+)</h3>', page))


def recording_urls(recording) -> list[str]:
    return [f"/rooms/recordings/{recording.id}", f"/rooms/recordings/{recording.id}/play",
            f"/rooms/recordings/{recording.id}/media"]


def test_delegate_sees_exactly_the_rooms_in_scope_with_their_recordings(client, world, sign_in_as):
    sign_in_as(world.jan)

    page = page_text(client.get("/rooms"))

    assert "Pokoje i nagrania" in page  # Polish by default
    assert rooms_on_page(page) == {"Sala zarządu"}
    assert "Posiedzenie zarządu — luty" in page
    assert "Warsztat projektowy" not in page and "Obce nagranie" not in page
    row = re.search(rf'<tr data-recording="{world.board_rec.id}">(.*?)</tr>', page, re.S).group(1)
    assert "0:01:00" not in row and "1:00" in row  # 60 s
    assert "1000 B" in row
    assert "3 lutego 2025" in row  # the recording's date, Polish format
    # the customer's personal data is not on the page
    assert world.anna.email not in page and world.anna.phone not in page


def test_delegate_without_recordings_sees_the_rooms_but_no_recording(client, world, sign_in_as):
    world.jan_delegate.recordings = False
    db.session.commit()
    sign_in_as(world.jan)

    page = page_text(client.get("/rooms"))

    assert rooms_on_page(page) == {"Sala zarządu"}
    assert "Posiedzenie zarządu — luty" not in page
    for url in recording_urls(world.board_rec):
        assert client.get(url).status_code == 404, url


def test_owner_sees_all_their_rooms_and_recordings(client, world, sign_in_as):
    sign_in_as(world.anna_id)

    page = page_text(client.get("/rooms"))

    assert rooms_on_page(page) == {"Sala zarządu", "Sala szkoleniowa", "Pokój projektowy"}
    assert "Posiedzenie zarządu — luty" in page and "Warsztat projektowy" in page
    assert "Obce nagranie" not in page
    assert client.get(f"/rooms/recordings/{world.project_rec.id}").status_code == 200


def test_a_person_who_is_owner_and_delegate_sees_both_accounts(client, world, sign_in_as):
    # Olga is a customer herself and Anna's delegate for the training room
    factories.delegate(world.anna, world.olga_id, rooms=[world.training])
    db.session.commit()
    sign_in_as(world.olga_id)

    page = page_text(client.get("/rooms"))

    assert rooms_on_page(page) == {"Obca sala", "Sala szkoleniowa"}
    assert f'id="rooms-{world.olga.number}"' in page and f'id="rooms-{world.anna.number}"' in page


@pytest.mark.parametrize("which", ["another customer's", "the owner's, outside the scope", "nonexistent"])
@pytest.mark.parametrize("kind", ["download", "play", "media"])
def test_delegate_gets_404_for_every_recording_outside_the_scope(client, world, sign_in_as, which, kind):
    recording = {"another customer's": world.foreign_rec, "the owner's, outside the scope": world.project_rec,
                 "nonexistent": None}[which]
    recording_id = recording.id if recording else 999999
    url = {"download": f"/rooms/recordings/{recording_id}", "play": f"/rooms/recordings/{recording_id}/play",
           "media": f"/rooms/recordings/{recording_id}/media"}[kind]
    sign_in_as(world.jan)

    response = client.get(url)

    assert response.status_code == 404
    assert "Nie znaleziono" in page_text(response)
    assert events("recording_downloaded") == []


@pytest.mark.parametrize("kind", ["download", "play", "media"])
def test_owner_gets_404_for_another_customers_recording(client, world, sign_in_as, kind):
    sign_in_as(world.anna_id)
    url = dict(zip(["download", "play", "media"], recording_urls(world.foreign_rec)))[kind]

    assert client.get(url).status_code == 404


def test_delegate_cannot_reach_the_customers_people_page(client, world, sign_in_as):
    sign_in_as(world.jan)
    assert client.get("/account/people").status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(client, world):
    for url in ["/rooms", *recording_urls(world.board_rec)]:
        response = client.get(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


@pytest.mark.parametrize("days_left, sees", [(-1, False), (0, True), (None, True)])
def test_access_ends_after_the_expiry_date_without_any_job(client, world, sign_in_as, days_left, sees):
    world.jan_delegate.expires_on = None if days_left is None else local_today() + timedelta(days=days_left)
    db.session.commit()
    sign_in_as(world.jan)

    page = page_text(client.get("/rooms"))
    download = client.get(f"/rooms/recordings/{world.board_rec.id}")

    assert (rooms_on_page(page) == {"Sala zarządu"}) is sees
    assert ("Posiedzenie zarządu — luty" in page) is sees
    assert download.status_code == (200 if sees else 404)
    if not sees:
        assert rooms_on_page(page) == set() and "Nie masz jeszcze pokoi" in page
        assert client.get(f"/rooms/recordings/{world.board_rec.id}/play").status_code == 404


@pytest.mark.parametrize("expires_on, sees", [(date(2026, 3, 31), False), (date(2026, 4, 1), True)])
def test_an_expiry_date_ends_at_midnight_in_warsaw_not_in_utc(client, world, sign_in_as, monkeypatch,
                                                              expires_on, sees):
    """At 22:30 UTC on 31 March it is already 00:30 on 1 April in Warsaw: access "until 31 March"
    is over, access "until 1 April" is not."""
    class HalfPastMidnightInWarsaw(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2026, 3, 31, 22, 30, tzinfo=UTC).astimezone(tz)

    world.jan_delegate.expires_on = expires_on
    db.session.commit()
    sign_in_as(world.jan)
    monkeypatch.setattr(db_types, "datetime", HalfPastMidnightInWarsaw)

    assert (rooms_on_page(page_text(client.get("/rooms"))) == {"Sala zarządu"}) is sees


@pytest.mark.parametrize("status", ["pending", "invited", "rejected", "removed"])
def test_only_an_active_delegation_gives_access(client, world, sign_in_as, status):
    world.jan_delegate.status = status
    db.session.commit()
    sign_in_as(world.jan)

    assert rooms_on_page(page_text(client.get("/rooms"))) == set()
    assert client.get(f"/rooms/recordings/{world.board_rec.id}").status_code == 404


def test_download_streams_the_file_and_is_logged_for_the_owner(app, client, world, sign_in_as):
    sign_in_as(world.jan)

    response = client.get(f"/rooms/recordings/{world.board_rec.id}")

    on_disk = (Path(app.config["RECORDINGS_DIR"]) / world.board_rec.file).read_bytes()
    assert response.status_code == 200
    assert response.data == on_disk
    assert response.headers["Content-Type"] == "video/mp4"
    assert response.headers["Accept-Ranges"] == "bytes"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response.headers["Cache-Control"]
    [event] = events("recording_downloaded")
    assert event.customer_id == world.anna.id  # in Anna's activity log
    assert event.actor_identity_id == world.jan.id
    assert event.details["recording_id"] == world.board_rec.id and event.details["mode"] == "download"
    assert event.details["delegate_id"] == world.jan_delegate.id


def test_a_range_request_answers_206_with_exactly_those_bytes(app, client, world, sign_in_as):
    sign_in_as(world.jan)
    on_disk = (Path(app.config["RECORDINGS_DIR"]) / world.board_rec.file).read_bytes()

    first = client.get(f"/rooms/recordings/{world.board_rec.id}", headers={"Range": "bytes=0-99"})
    rest = client.get(f"/rooms/recordings/{world.board_rec.id}/media", headers={"Range": "bytes=900-"})
    beyond = client.get(f"/rooms/recordings/{world.board_rec.id}", headers={"Range": "bytes=5000-"})

    assert first.status_code == 206
    assert len(first.data) == 100 and first.data == on_disk[:100]
    assert first.headers["Content-Range"] == "bytes 0-99/1000"
    assert first.headers["Content-Length"] == "100"
    assert rest.status_code == 206 and rest.data == on_disk[900:]
    assert rest.headers["Content-Range"] == "bytes 900-999/1000"
    assert rest.headers["Content-Disposition"].startswith("inline")
    assert beyond.status_code == 416
    # the download and the playback each serve bytes: each is logged once; the 416 serves none
    assert [e.details["mode"] for e in events("recording_downloaded")] == ["download", "playback"]


def test_playback_page_uses_our_own_media_url(client, world, sign_in_as):
    sign_in_as(world.jan)

    page = page_text(client.get(f"/rooms/recordings/{world.board_rec.id}/play"))
    started = client.get(f"/rooms/recordings/{world.board_rec.id}/media", headers={"Range": "bytes=0-"})

    assert re.search(rf'<video[^>]*\scontrols[^>]*\ssrc="/rooms/recordings/{world.board_rec.id}/media"', page)
    assert started.status_code == 206
    [event] = events("recording_downloaded")
    assert event.details["mode"] == "playback" and event.customer_id == world.anna.id


def test_owners_own_downloads_are_logged_too(client, world, sign_in_as):
    sign_in_as(world.anna_id)

    client.get(f"/rooms/recordings/{world.board_rec.id}")

    [event] = events("recording_downloaded")
    assert event.actor_identity_id == world.anna_id.id and event.details["delegate_id"] is None


def test_a_missing_file_is_a_404_not_an_error(app, client, world, sign_in_as):
    (Path(app.config["RECORDINGS_DIR"]) / world.board_rec.file).unlink()
    sign_in_as(world.jan)

    assert client.get(f"/rooms/recordings/{world.board_rec.id}").status_code == 404
    assert events("recording_downloaded") == []


def test_a_removed_delegates_open_session_is_refused_on_its_next_request(app, client, world, sign_in_as):
    sign_in_as(world.jan)
    assert client.get("/rooms").status_code == 200
    owner = app.test_client()
    sign_in_as(world.anna_id, owner)

    removed = owner.submit(f"/account/people/{world.jan_delegate.id}/remove")

    assert removed.status_code == 303
    refused = client.get("/rooms")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    assert client.get(f"/rooms/recordings/{world.board_rec.id}").status_code == 302


def test_rooms_page_queries_stay_constant_as_rooms_and_recordings_grow(client, world, sign_in_as):
    sign_in_as(world.anna_id)
    before = count_statements(lambda: client.get("/rooms"))
    for n in range(10):
        extra = factories.room(world.anna, f"Sala {n}")
        recording_file(extra, f"Nagranie {n}", size=10)
        recording_file(extra, f"Nagranie {n}b", size=10)
    db.session.commit()

    after = count_statements(lambda: client.get("/rooms"))

    assert after == before
