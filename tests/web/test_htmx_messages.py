"""With JavaScript (htmx), a refused submit replaces the page's message area: the previous
answer's "… was added." must not stay above the new errors as if this submit had succeeded too.
Every fragment answering an error either puts its own message into #messages or empties it."""
from __future__ import annotations

import re

import pytest

from portal.extensions import db
from tests import factories

PEOPLE = {"HX-Request": "true", "HX-Target": "people-section", "HX-Current-URL": "http://localhost/account/people"}


@pytest.fixture
def anna(app, client, sign_in_as):
    customer = factories.customer(first_name="Anna", last_name="Kowalska")
    customer.board = factories.room(customer, "Sala zarządu")
    identity = factories.identity("anna@example.pl", customer=customer)
    db.session.commit()
    sign_in_as(identity)
    return customer


def _messages_swap(fragment: str) -> str | None:
    match = re.search(r'<div hx-swap-oob="innerHTML:#messages">(.*?)</div>', fragment, re.S)
    return match.group(1) if match else None


def test_a_refused_person_after_an_added_one_empties_the_success_message(client, anna):
    form = {"name": "Jan Nowak", "email": "jan@example.pl", "rooms": [str(anna.board.id)], "recordings": "y",
            "expires_on": ""}
    added = client.submit("/account/people", form, headers=PEOPLE)
    assert "Jan Nowak" in (_messages_swap(added.get_data(as_text=True)) or "")

    refused = client.submit("/account/people", {**form, "name": "", "email": "nie-adres"}, headers=PEOPLE)

    assert refused.status_code >= 400
    swap = _messages_swap(refused.get_data(as_text=True))
    assert swap is not None, "the message area is left as it was"
    assert "Jan Nowak" not in swap


def test_a_refused_retention_empties_the_message_area(client, anna):
    refused = client.submit(f"/rooms/{anna.board.id}/retention", {"keep": "months", "months": "0"},
                            headers={"HX-Request": "true", "HX-Target": "retention"})

    assert refused.status_code == 422
    assert _messages_swap(refused.get_data(as_text=True)) is not None
