"""An approved person's invitation binds at their first sign-in with a verified e-mail, through
any configured provider, to exactly that (issuer, subject)."""
from __future__ import annotations

import re

from sqlalchemy import select

from portal.auth.models import Identity
from portal.extensions import db
from portal.people.models import Delegate
from tests import factories
from tests.people.helpers import page_text


def invited(customer, room, email="jan.nowak@firma.example.pl"):
    delegate = factories.delegate(customer, rooms=[room], recordings=True, status="invited")
    delegate.name, delegate.email = "Jan Nowak", email
    db.session.commit()
    return delegate


def test_invitation_binds_at_first_sign_in_through_the_employers_provider(client, partner_provider,
                                                                         sign_in_via_provider):
    anna = factories.customer(kind="company", company_name="Przykład Sp. z o.o.")
    board = factories.room(anna, "Sala zarządu")
    delegate = invited(anna, board, email="Jan.Nowak@firma.example.pl")

    sign_in_via_provider({"sub": "jn-42", "email": "jan.nowak@firma.example.pl", "email_verified": True,
                          "name": "Jan Nowak"}, provider_name="partner")

    stored = db.session.get(Delegate, delegate.id)
    identity = db.session.get(Identity, stored.identity_id)
    assert stored.status == "active"
    assert (identity.issuer, identity.subject) == (partner_provider.issuer, "jn-42")
    home = page_text(client.get("/account/"))
    assert f'data-delegate-of="{anna.number}"' in home
    assert f'href="/rooms#rooms-{anna.number}"' in home  # the account home leads to the rooms
    rooms = page_text(client.get("/rooms"))
    assert "Pokoje klienta Przykład Sp. z o.o." in rooms
    assert re.findall(r'<h3 id="room-\d+-heading">([^<]+)</h3>', rooms) == ["Sala zarządu"]


def test_an_unverified_email_binds_no_invitation(client, sign_in_via_provider):
    anna = factories.customer()
    delegate = invited(anna, factories.room(anna))

    sign_in_via_provider({"sub": "jn-unverified", "email": "jan.nowak@firma.example.pl", "email_verified": False})

    stored = db.session.get(Delegate, delegate.id)
    assert stored.status == "invited" and stored.identity_id is None
    assert "Nie masz jeszcze pokoi" in page_text(client.get("/rooms"))


def test_after_binding_only_the_pair_counts(app, client, sign_in_via_provider):
    anna = factories.customer()
    delegate = invited(anna, factories.room(anna, "Sala zarządu"))
    sign_in_via_provider({"sub": "jn-1", "email": "jan.nowak@firma.example.pl", "email_verified": True})
    impostor = app.test_client()

    # another subject asserting the same e-mail later gets nothing: the invitation is taken
    sign_in_via_provider({"sub": "jn-2", "email": "jan.nowak@firma.example.pl", "email_verified": True},
                         test_client=impostor)

    assert "Sala zarządu" not in page_text(impostor.get("/rooms"))
    bound = db.session.scalar(select(Identity.subject).where(Identity.id == db.session.get(Delegate, delegate.id).identity_id))
    assert bound == "jn-1"


def test_a_delegate_of_two_customers_who_is_a_customer_too_sees_all_three(client, sign_in_via_provider):
    own = factories.customer(email="jan.nowak@firma.example.pl", kind="company", company_name="Firma Jana")
    factories.room(own, "Mój pokój")
    first = factories.customer(kind="company", company_name="Pierwsza Sp. z o.o.")
    second = factories.customer()  # a private person: the delegate learns only the number
    invited(first, factories.room(first, "Sala A"))
    invited(second, factories.room(second, "Sala B"))

    sign_in_via_provider({"sub": "jn-3", "email": "jan.nowak@firma.example.pl", "email_verified": True})

    rooms = page_text(client.get("/rooms"))
    assert re.findall(r'<h3 id="room-\d+-heading">([^<]+)</h3>', rooms) == ["Mój pokój", "Sala A", "Sala B"]
    assert "Pierwsza Sp. z o.o." in rooms and f"Pokoje klienta {second.number}" in rooms
    assert second.first_name + " " + second.last_name not in rooms
