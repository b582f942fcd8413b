"""Privacy officers: correction requests (masked until a logged reveal) and legal disclosures (SPEC P7, P11)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal import mail
from portal.account.models import CorrectionRequest, LegalDisclosure
from portal.audit import AuditEvent
from portal.customers.models import Customer
from portal.extensions import db
from tests import factories

STAFF_PAGES = [
    ("GET", "/staff/corrections"),
    ("POST", "/staff/corrections/{id}/reveal"),
    ("POST", "/staff/corrections/{id}/approve"),
    ("POST", "/staff/corrections/{id}/reject"),
    ("GET", "/staff/disclosures/new"),
    ("POST", "/staff/disclosures/new"),
]


@pytest.fixture
def request_to_decide(owner):
    request = CorrectionRequest(customer_id=owner.customer_id, field="last_name", requested_value="Nowakowska",
                                note="zmiana nazwiska", requested_by_id=owner.id)
    db.session.add(request)
    db.session.commit()
    return request


@pytest.fixture
def officer_client(app, sign_in_as):
    officer = factories.identity(roles=("privacy_officer",))
    db.session.commit()
    officer_client = app.test_client()
    sign_in_as(officer, officer_client)
    officer_client.identity = officer
    return officer_client


def customer(identity) -> Customer:
    db.session.expire_all()
    return db.session.get(Customer, identity.customer_id)


@pytest.mark.parametrize("method, path", STAFF_PAGES)
@pytest.mark.parametrize("who", ["visitor", "customer", "moderator"])
def test_only_privacy_officers_reach_the_staff_pages(app, owner, request_to_decide, sign_in_as, method, path, who):
    visitor = app.test_client()
    if who == "customer":
        sign_in_as(owner, visitor)
    elif who == "moderator":
        moderator = factories.identity(roles=("moderator",))
        db.session.commit()
        sign_in_as(moderator, visitor)
    url = path.format(id=request_to_decide.id)

    response = visitor.get(url) if method == "GET" else visitor.submit(url, {"note": "x"})

    if who == "visitor":
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    else:
        assert response.status_code == 403
    assert db.session.scalar(select(CorrectionRequest.status)) == "pending"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "customer_data_revealed")) is None


def test_requests_are_masked_until_a_reveal_that_the_customer_sees(officer_client, owner, owner_client,
                                                                   request_to_decide):
    page = officer_client.get("/staff/corrections").get_data(as_text=True)

    card = page.split(f'data-correction="{request_to_decide.id}"')[1].split("</li>")[0]
    assert "W***" in card and "N***" in card and customer(owner).number in card
    assert "Właścicielka" not in card and "Nowakowska" not in card and "zmiana nazwiska" not in card

    revealed = officer_client.submit(f"/staff/corrections/{request_to_decide.id}/reveal").get_data(as_text=True)

    card = revealed.split(f'data-correction="{request_to_decide.id}"')[1].split("</li>")[0]
    assert "Właścicielka" in card and "Nowakowska" in card and "zmiana nazwiska" in card
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "customer_data_revealed"))
    assert (event.actor_identity_id, event.customer_id) == (officer_client.identity.id, owner.customer_id)
    activity = owner_client.get("/account/activity").get_data(as_text=True)
    assert "Odsłonięcie Twoich danych przez pracownika MCX" in activity and "Nazwisko" in activity


def test_approving_applies_the_change_once_and_tells_the_customer(officer_client, owner, owner_client,
                                                                  request_to_decide, smtp_server):
    url = f"/staff/corrections/{request_to_decide.id}/approve"

    response = officer_client.submit(url, {"note": ""})

    assert response.status_code == 303
    assert customer(owner).last_name == "Nowakowska"
    mail.deliver_due()
    [message] = smtp_server.to(customer(owner).email)
    assert message["Subject"] == "Twój wniosek o sprostowanie został zatwierdzony"
    again = officer_client.submit(f"/staff/corrections/{request_to_decide.id}/reject", {"note": "jednak nie"})
    assert again.status_code == 400 and "Ten wniosek został już rozpatrzony." in again.get_data(as_text=True)
    assert customer(owner).last_name == "Nowakowska"
    assert db.session.scalar(select(CorrectionRequest.status)) == "approved"
    assert [e.details["outcome"] for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "correction_decided"))] == ["approved"]
    row = owner_client.get("/account/contact").get_data(as_text=True).split("data-correction=")[1]
    assert "zatwierdzony i wprowadzony" in row.split("</tr>")[0]


def test_rejecting_needs_a_reason_the_customer_reads(officer_client, owner, owner_client, request_to_decide):
    url = f"/staff/corrections/{request_to_decide.id}/reject"

    without = officer_client.submit(url, {"note": " "})
    assert without.status_code == 400 and "Podaj powód odrzucenia" in without.get_data(as_text=True)
    assert db.session.scalar(select(CorrectionRequest.status)) == "pending"

    officer_client.submit(url, {"note": "Prosimy o przesłanie odpisu aktu małżeństwa."})

    assert customer(owner).last_name == "Właścicielka"
    row = owner_client.get("/account/contact").get_data(as_text=True).split("data-correction=")[1].split("</tr>")[0]
    assert "odrzucony (zob. uzasadnienie)" in row and "Prosimy o przesłanie odpisu aktu małżeństwa." in row
    decided = officer_client.get("/staff/corrections?show=decided").get_data(as_text=True)
    assert f'data-correction="{request_to_decide.id}"' in decided


def test_a_privacy_officer_records_a_legal_disclosure_the_customer_sees(officer_client, owner, owner_client):
    number = customer(owner).number
    form = {"customer_number": number, "disclosed_on": "2025-06-02", "recipient": "Sąd Okręgowy w Warszawie",
            "legal_basis": "art. 248 k.p.c., sygn. akt I C 123/25", "data_disclosed": "imię, nazwisko, adres"}

    response = officer_client.submit("/staff/disclosures/new", form)

    assert response.status_code == 303
    disclosure = db.session.scalar(select(LegalDisclosure))
    assert (disclosure.customer_id, disclosure.recorded_by_id, disclosure.disclosed_on) == (
        owner.customer_id, officer_client.identity.id, date(2025, 6, 2))
    activity = owner_client.get("/account/activity").get_data(as_text=True)
    row = activity.split('data-kind="legal_disclosure_recorded"')[1].split("</tr>")[0]
    for text in ("Sąd Okręgowy w Warszawie", "art. 248 k.p.c., sygn. akt I C 123/25", "imię, nazwisko, adres",
                 "2025-06-02", "Pracownik MCX (inspektor ochrony danych)"):
        assert text in row
    data = owner_client.get("/account/data").get_data(as_text=True)
    assert "Udostępnione na podstawie obowiązku prawnego: Sąd Okręgowy w Warszawie." in data


@pytest.mark.parametrize("change, field, message", [
    ({"customer_number": "MCX-999999"}, "customer_number", "Nie ma klienta o tym numerze."),
    ({"disclosed_on": (date.today() + timedelta(days=2)).isoformat()}, "disclosed_on", "zanim nastąpiło"),
    ({"recipient": ""}, "recipient", "To pole jest wymagane."),
])
def test_a_wrong_disclosure_is_refused_next_to_the_field(officer_client, owner, change, field, message):
    form = {"customer_number": customer(owner).number, "disclosed_on": "2025-06-02", "recipient": "Policja",
            "legal_basis": "art. 20c ustawy o Policji", "data_disclosed": "numer telefonu", **change}

    response = officer_client.submit("/staff/disclosures/new", form)

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{field}-error"' in page and message in page
    assert 'value="art. 20c ustawy o Policji"' in page
    assert db.session.scalar(select(LegalDisclosure)) is None
