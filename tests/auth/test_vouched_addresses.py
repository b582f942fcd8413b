"""An e-mail counts only as its provider may vouch for it, and only exactly as written.

- An address a provider may not vouch for (outside its domains, or a kind of record it may not
  link) counts as unverified everywhere: no access request under it (SPEC "Trust per identity
  provider").
- Linking compares addresses by portal.addresses.matching_key: a Unicode look-alike of an ASCII
  address (KELVIN SIGN, dotted capital I, fullwidth letters) links nothing.
Every sign-in goes through a real provider process over HTTP.
"""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.auth.models import Identity, StaffRole
from portal.extensions import db
from portal.people.models import AccessRequest, Delegate, DelegateStatus
from tests import factories
from tests.conftest import PARTNER_DOMAIN


def asked(client, number: str):
    return client.submit("/access/request", {"number": number, "message": "Proszę o dostęp"})


@pytest.mark.parametrize("lang, words", [("pl", "nie może potwierdzić adresu"), ("en", "may not confirm the address")])
def test_a_partner_provider_cannot_ask_for_access_under_an_address_outside_its_domains(
        client, sign_in_via_provider, lang, words):
    customer = factories.customer()
    db.session.commit()
    sign_in_via_provider({"sub": "fake-ceo", "email": "ceo@przyklad.pl", "email_verified": True},
                         provider_name="partner")
    with client.session_transaction() as sess:
        sess["lang"] = lang

    form = client.get("/access/request").get_data(as_text=True)
    response = asked(client, customer.number)

    assert "data-blocked" in form and words in form  # the form says why before anything is typed
    assert response.status_code == 422 and words in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Delegate)) == 0
    assert db.session.scalar(select(func.count()).select_from(AccessRequest)) == 0


def test_a_partner_provider_asks_for_access_under_an_address_of_its_domain(client, sign_in_via_provider):
    customer = factories.customer()
    db.session.commit()
    sign_in_via_provider({"sub": "worker", "email": f"jan@{PARTNER_DOMAIN.upper()}", "email_verified": True},
                         provider_name="partner")

    assert "data-blocked" not in client.get("/access/request").get_data(as_text=True)
    assert asked(client, customer.number).status_code == 303
    assert db.session.scalar(select(AccessRequest.customer_id)) == customer.id


LOOKALIKES = [
    "anna.\u212aowalska@przyklad.pl",  # KELVIN SIGN, lower() gives "k"
    "\u0130za.nowak@przyklad.pl",  # LATIN CAPITAL I WITH DOT ABOVE
    "\uff41nna.kowalska@przyklad.pl",  # FULLWIDTH a
]
VICTIMS = {LOOKALIKES[0]: "anna.kowalska@przyklad.pl", LOOKALIKES[1]: "i\u0307za.nowak@przyklad.pl",
           LOOKALIKES[2]: "anna.kowalska@przyklad.pl"}


@pytest.mark.parametrize("lookalike", LOOKALIKES)
def test_a_lookalike_address_links_no_customer_delegate_or_role(client, sign_in_via_provider, lookalike):
    victim = "anna.kowalska@przyklad.pl" if "\u0130" not in lookalike else "iza.nowak@przyklad.pl"
    customer = factories.customer(email=victim)
    other = factories.customer()
    db.session.add(Delegate(customer_id=other.id, name="Anna", email=victim, recordings=False,
                            status=DelegateStatus.INVITED, source="portal"))
    db.session.add(StaffRole(email=victim, role="moderator"))
    db.session.commit()

    sign_in_via_provider({"sub": "mimic", "email": lookalike, "email_verified": True})

    mimic = db.session.scalar(select(Identity).where(Identity.subject == "mimic"))
    assert mimic.customer_id is None
    assert db.session.scalar(select(Delegate.identity_id)) is None
    assert db.session.scalar(select(StaffRole.identity_id)) is None
    assert client.get("/account/export.json").status_code != 200
    assert f'data-customer="{customer.number}"' not in client.get("/account/").get_data(as_text=True)


def test_an_address_in_other_ascii_case_still_links(client, sign_in_via_provider):
    customer = factories.customer(email="anna.kowalska@przyklad.pl")
    db.session.add(StaffRole(email="anna.kowalska@przyklad.pl", role="moderator"))
    db.session.commit()

    sign_in_via_provider({"sub": "anna", "email": "Anna.KOWALSKA@Przyklad.PL", "email_verified": True})

    anna = db.session.scalar(select(Identity).where(Identity.subject == "anna"))
    assert anna.customer_id == customer.id
    assert db.session.scalar(select(StaffRole.identity_id)) == anna.id
