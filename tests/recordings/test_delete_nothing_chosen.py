"""Deleting with no recording ticked keeps the owner on the page they sent the form from (a room's
page, or the rooms list), with the error shown there; it sent them to the rooms list before."""
from __future__ import annotations

import re

import pytest

from portal.extensions import db
from tests import factories


@pytest.fixture
def owner(app, client, sign_in_as):
    customer = factories.customer()
    room = factories.room(customer, "Sala zarządu")
    factories.recording(room, "Zebranie")
    identity = factories.identity(customer=customer)
    db.session.commit()
    sign_in_as(identity)
    return room


def _deletion_form_fields(page: str) -> dict:
    form = re.search(r'<form method="get" action="/rooms/delete".*?</form>', page, re.S).group(0)
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


@pytest.mark.parametrize("page_of", [lambda room: f"/rooms/{room.id}", lambda room: "/rooms"])
def test_nothing_chosen_stays_on_the_page_with_the_error(client, owner, page_of):
    page = page_of(owner)
    fields = _deletion_form_fields(client.get(page).get_data(as_text=True))

    answer = client.get("/rooms/delete", query_string=fields)

    assert answer.status_code == 303 and answer.headers["Location"] == page
    shown = client.get(page).get_data(as_text=True)
    assert "Zaznacz co najmniej jedno nagranie do usunięcia." in shown


def test_a_foreign_back_address_is_not_followed(client, owner):
    answer = client.get("/rooms/delete", query_string={"back": "https://evil.example/"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/rooms"



@pytest.mark.parametrize("back", ["/rooms\r\nX-Injected: 1", "/\t/evil.example/", "/rooms\x7f"])
def test_a_back_address_with_control_characters_is_not_followed(client, owner, back):
    answer = client.submit("/rooms/delete", {"back": back})

    assert answer.status_code == 303 and answer.headers["Location"] == "/rooms"
