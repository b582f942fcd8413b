"""Correcting contact details: phone at once, e-mail after a link sent to it, the rest as requests to staff."""
from __future__ import annotations

import re
import time
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from portal import mail
from portal.account.models import CorrectionRequest
from portal.audit import AuditEvent
from portal.customers.models import Customer
from portal.extensions import db
from tests import factories


def customer_of(identity) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, identity.customer_id)


def kinds() -> list[str]:
    return db.session.scalars(select(AuditEvent.kind).order_by(AuditEvent.seq)).all()


def confirmation_link(smtp_server, address: str) -> str:
    mail.deliver_due()
    [message] = smtp_server.to(address)
    url = re.search(r"http://localhost(/account/contact/email/confirm\?token=\S+)", message.get_content()).group(1)
    return url


# --- phone ---------------------------------------------------------------------------------------

def test_phone_changes_at_once_and_is_audited_without_the_number(owner_client, owner):
    response = owner_client.submit("/account/contact/phone", {"phone": "+48 601 222 333"})

    assert response.status_code == 303
    assert customer_of(owner).phone == "+48 601 222 333"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "contact_phone_changed"))
    # what the event says, but the request id every event carries (random hex)
    said = {key: value for key, value in event.details.items() if key != "http_request_id"}
    assert event.customer_id == owner.customer_id and "601" not in str(said)
    assert "Telefon kontaktowy został zmieniony." in owner_client.get("/account/contact").get_data(as_text=True)


def test_a_wrong_phone_is_refused_next_to_the_field_keeping_what_was_typed(owner_client, owner):
    response = owner_client.submit("/account/contact/phone", {"phone": "zadzwoń do mnie"})

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="phone-error"' in page and "Wpisz numer telefonu" in page
    assert 'value="zadzwoń do mnie"' in page and 'aria-invalid="true"' in page
    assert customer_of(owner).phone == "+48 600 111 222"


def test_an_empty_phone_removes_it(owner_client, owner):
    owner_client.submit("/account/contact/phone", {"phone": ""})

    assert customer_of(owner).phone is None


# --- e-mail ----------------------------------------------------------------------------------------

def test_new_email_takes_effect_only_after_its_link_is_followed(owner_client, owner, smtp_server):
    old = customer_of(owner).email

    response = owner_client.submit("/account/contact/email", {"email": "nowy.adres@example.pl"})

    assert response.status_code == 303
    assert customer_of(owner).email == old
    assert "Wysłaliśmy link na adres nowy.adres@example.pl." in owner_client.get("/account/contact").get_data(as_text=True)
    link = confirmation_link(smtp_server, "nowy.adres@example.pl")

    page = owner_client.get(link).get_data(as_text=True)
    assert "Twoim nowym kontaktowym adresem e-mail będzie nowy.adres@example.pl" in page
    assert customer_of(owner).email == old  # opening the link changes nothing yet
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', page).group(1)
    confirmed = owner_client.submit("/account/contact/email/confirm", {"token": token})

    assert confirmed.status_code == 303
    assert customer_of(owner).email == "nowy.adres@example.pl"
    mail.deliver_due()
    [notice] = smtp_server.to(old)
    assert "nowy.adres@example.pl" in notice.get_content()
    assert [k for k in kinds() if k.startswith("contact_email")] == ["contact_email_change_requested",
                                                                      "contact_email_changed"]
    # the same link again: already used
    again = owner_client.get(link)
    assert again.status_code == 400 and "Ten link został już użyty" in again.get_data(as_text=True)


def test_an_expired_link_changes_nothing(owner_client, owner, smtp_server, monkeypatch):
    owner_client.submit("/account/contact/email", {"email": "spozniony@example.pl"})
    link = confirmation_link(smtp_server, "spozniony@example.pl")
    later = time.time() + 25 * 3600
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)

    response = owner_client.get(link)

    assert response.status_code == 400 and "Ten link wygasł." in response.get_data(as_text=True)
    token = dict(p.split("=", 1) for p in urlsplit(link).query.split("&"))["token"]
    assert owner_client.submit("/account/contact/email/confirm", {"token": token}).status_code == 400
    assert customer_of(owner).email != "spozniony@example.pl"


def test_a_link_is_valid_only_for_its_own_customer_and_unaltered(app, owner_client, owner, smtp_server, sign_in_as):
    owner_client.submit("/account/contact/email", {"email": "cudzy@example.pl"})
    link = confirmation_link(smtp_server, "cudzy@example.pl")
    other = factories.identity(customer=factories.customer())
    db.session.commit()
    other_client = app.test_client()
    sign_in_as(other, other_client)

    assert other_client.get(link).status_code == 400
    assert owner_client.get(link[:-3] + "abc").status_code == 400
    assert customer_of(other).email != "cudzy@example.pl" and customer_of(owner).email != "cudzy@example.pl"


def test_a_wrong_or_unchanged_email_is_refused_next_to_the_field(owner_client, owner):
    wrong = owner_client.submit("/account/contact/email", {"email": "to nie adres"})
    same = owner_client.submit("/account/contact/email", {"email": customer_of(owner).email.upper()})

    assert wrong.status_code == same.status_code == 400
    assert 'id="email-error"' in wrong.get_data(as_text=True) and "Wpisz adres e-mail" in wrong.get_data(as_text=True)
    assert "To już jest Twój kontaktowy adres e-mail." in same.get_data(as_text=True)
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind.like("contact_email%"))) is None


# --- corrections through staff -------------------------------------------------------------------------

def test_a_name_change_is_a_request_shown_with_its_status(owner_client, owner):
    response = owner_client.submit("/account/contact/corrections",
                                   {"field": "last_name", "value": "Nowak-Właścicielka", "note": "po ślubie"})

    assert response.status_code == 303
    assert customer_of(owner).last_name == "Właścicielka"
    request = db.session.scalar(select(CorrectionRequest))
    assert (request.field, request.requested_value, request.note, request.status) == (
        "last_name", "Nowak-Właścicielka", "po ślubie", "pending")
    page = owner_client.get("/account/contact").get_data(as_text=True)
    row = page.split(f'data-correction="{request.id}"')[1].split("</tr>")[0]
    assert "Nazwisko" in row and "Nowak-Właścicielka" in row and "czeka na decyzję MCX" in row
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "correction_requested"))
    assert event.customer_id == owner.customer_id and "Nowak" not in event.data


def test_the_same_field_waits_for_its_decision(owner_client):
    owner_client.submit("/account/contact/corrections", {"field": "first_name", "value": "Ala"})

    again = owner_client.submit("/account/contact/corrections", {"field": "first_name", "value": "Alicja Maria"})

    assert again.status_code == 400 and "już czeka na decyzję" in again.get_data(as_text=True)
    assert 'value="Alicja Maria"' in again.get_data(as_text=True)
    assert len(db.session.scalars(select(CorrectionRequest)).all()) == 1


def test_tax_id_must_be_a_valid_nip(owner_client):
    wrong = owner_client.submit("/account/contact/corrections", {"field": "tax_id", "value": "1234567890"})
    right = owner_client.submit("/account/contact/corrections", {"field": "tax_id", "value": "831-921-14-41"})

    assert wrong.status_code == 400 and "To nie jest prawidłowy NIP" in wrong.get_data(as_text=True)
    assert right.status_code == 303
    assert db.session.scalar(select(CorrectionRequest.requested_value)) == "8319211441"


def test_a_private_person_has_no_company_fields(app, client, sign_in_as):
    person = factories.identity(customer=factories.customer(kind="person"))
    db.session.commit()
    sign_in_as(person)

    page = client.get("/account/contact").get_data(as_text=True)
    response = client.submit("/account/contact/corrections", {"field": "company_name", "value": "Moja firma"})

    assert 'value="company_name"' not in page and 'value="last_name"' in page
    assert response.status_code == 400
    assert db.session.scalar(select(CorrectionRequest)) is None


@pytest.mark.parametrize("path, data", [
    ("/account/contact/phone", {"phone": "+48 601 000 000"}),
    ("/account/contact/email", {"email": "x@example.pl"}),
    ("/account/contact/corrections", {"field": "last_name", "value": "X"}),
])
def test_delegates_and_unlinked_identities_cannot_change_anything(app, client, sign_in_as, path, data):
    customer = factories.customer()
    person = factories.identity()
    factories.delegate(customer, person)
    db.session.commit()
    sign_in_as(person)

    assert client.submit(path, data).status_code == 404
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.customer_id == customer.id)) is None
