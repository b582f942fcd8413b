"""Four eyes: no staff member decides a request, correction or case that concerns themselves
(SPEC "Four eyes"). The queue says another staff member decides, and the service refuses even
when the page is bypassed."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import current_app
from flask_babel import force_locale
from sqlalchemy import func, select

from portal.account import services as account_services
from portal.account.models import CorrectionRequest, LegalDisclosure
from portal.auth.models import StaffRole
from portal.extensions import db
from portal.people import services as people_services
from portal.people.models import AccessRequest
from portal.termination import services as termination_services
from portal.termination.models import TerminationRequest
from tests import factories

OTHER_MODERATOR = "another moderator must decide it"
OTHER_OFFICER = "another privacy officer must decide it"


def pending_request(customer, *, email="jan.nowak@example.pl", person=None, requester=None, origin="customer"):
    delegate = factories.delegate(customer, person, rooms=[], status="pending")
    delegate.email = email if person is None else person.email
    access_request = AccessRequest(customer_id=customer.id, delegate_id=delegate.id, origin=origin,
                                   status="pending", requester_identity_id=requester.id if requester else None)
    db.session.add(access_request)
    db.session.commit()
    return access_request


@pytest.fixture
def moderator(app):
    # the role was granted to a work address; the provider asserts a private one
    person = factories.identity("ewa.prywatna@example.pl", roles=())
    db.session.add(StaffRole(email="ewa@mcx.pl", role="moderator", identity_id=person.id))
    db.session.commit()
    return person


@pytest.fixture
def customer(app):
    owner = factories.customer()
    factories.identity(customer=owner)
    db.session.commit()
    return owner


@pytest.mark.parametrize("case", ["added by e-mail", "added by role e-mail", "added by identity",
                                  "asking", "owns the account", "owns by contact e-mail", "acts for the account"])
def test_a_moderator_cannot_decide_a_request_that_concerns_them(client, sign_in_as, moderator, customer, case):
    requester = None
    person = None
    email = "jan.nowak@example.pl"
    target = customer
    if case == "added by e-mail":
        email = "EWA.Prywatna@example.pl"
    elif case == "added by role e-mail":
        email = "ewa@mcx.pl"
    elif case == "added by identity":
        person = moderator
    elif case == "asking":
        requester = moderator
    elif case == "owns the account":
        target = factories.customer()
        moderator.customer_id = target.id
    elif case == "owns by contact e-mail":
        target = factories.customer(email="ewa@mcx.pl")
    elif case == "acts for the account":
        factories.delegate(customer, moderator, rooms=[], status="active")
    access_request = pending_request(target, email=email, person=person, requester=requester,
                                     origin="person" if requester else "customer")
    sign_in_as(moderator)

    card = client.get(f"/staff/requests/{access_request.id}").get_data(as_text=True)
    answer = client.submit(f"/staff/requests/{access_request.id}/approve", {"note": ""}, follow_redirects=True)

    assert "inny moderator" in card and f'action="/staff/requests/{access_request.id}/approve"' not in card
    assert "inny moderator" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(AccessRequest, access_request.id).status == "pending"
    with current_app.test_request_context(), force_locale("en"):
        with pytest.raises(people_services.PeopleError, match=OTHER_MODERATOR):
            people_services.decide(db.session.get(AccessRequest, access_request.id), moderator, approve=False,
                                   note="bez powodu")


def test_another_moderator_decides_it(client, sign_in_as, moderator, customer):
    access_request = pending_request(customer, email="ewa@mcx.pl")
    colleague = factories.identity(roles=("moderator",))
    sign_in_as(colleague)

    card = client.get(f"/staff/requests/{access_request.id}").get_data(as_text=True)
    client.submit(f"/staff/requests/{access_request.id}/approve", {"note": ""})

    assert "inny moderator" not in card
    assert db.session.get(AccessRequest, access_request.id).status == "approved"


@pytest.mark.parametrize("status", ["pending", "rejected", "removed"])
def test_listing_a_moderator_who_does_not_act_for_the_account_keeps_them_off_only_that_request(
        client, sign_in_as, moderator, customer, status):
    # the customer lists the moderator's address (waiting, refused or removed): that alone must not
    # let a customer choose which moderator never sees the account's other requests
    listed = pending_request(customer, email="Ewa@mcx.pl")
    listed.delegate.status = status
    db.session.commit()
    other = pending_request(customer, email="jan.nowak@example.pl")
    sign_in_as(moderator)

    card = client.get(f"/staff/requests/{other.id}").get_data(as_text=True)
    client.submit(f"/staff/requests/{other.id}/approve", {"note": ""})

    assert "inny moderator" not in card
    assert db.session.get(AccessRequest, other.id).status == "approved"
    if status == "pending":
        assert "inny moderator" in client.get(f"/staff/requests/{listed.id}").get_data(as_text=True)


@pytest.fixture
def officer(app):
    person = factories.identity("iod@mcx.pl", roles=("privacy_officer",))
    db.session.commit()
    return person


def own_or_delegated(officer, how: str):
    if how == "owns":
        account = factories.customer()
        officer.customer_id = account.id
    elif how == "owns by contact e-mail":
        account = factories.customer(email="IOD@mcx.pl")
    else:
        account = factories.customer()
        factories.delegate(account, officer, rooms=[], status="active" if how == "acts for" else "invited")
    db.session.commit()
    return account


HOW = ["owns", "owns by contact e-mail", "acts for", "invited to act for"]


@pytest.mark.parametrize("how", HOW)
def test_a_privacy_officer_cannot_decide_a_correction_of_an_account_they_own_or_act_for(
        client, sign_in_as, officer, how):
    account = own_or_delegated(officer, how)
    correction = CorrectionRequest(customer_id=account.id, field="last_name", requested_value="Nowakowska",
                                   requested_by_id=officer.id)
    db.session.add(correction)
    db.session.commit()
    sign_in_as(officer)

    queue = client.get("/staff/corrections").get_data(as_text=True)
    answer = client.submit(f"/staff/corrections/{correction.id}/approve", {"note": ""})

    assert "inny inspektor ochrony danych" in queue
    assert f'/staff/corrections/{correction.id}/approve' not in queue
    assert answer.status_code == 400 and "inny inspektor ochrony danych" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(CorrectionRequest, correction.id).status == "pending"
    assert db.session.get(type(account), account.id).last_name != "Nowakowska"
    with current_app.test_request_context(), force_locale("en"):
        with pytest.raises(account_services.AccountError, match=OTHER_OFFICER):
            account_services.decide_correction(db.session.get(CorrectionRequest, correction.id), officer, True, None)


@pytest.mark.parametrize("how", HOW)
def test_a_privacy_officer_cannot_confirm_the_termination_of_their_own_account(client, sign_in_as, officer, how):
    account = own_or_delegated(officer, how)
    termination = TerminationRequest(customer_id=account.id, requested_by_id=officer.id,
                                     effective_on=date.today() + timedelta(days=30),
                                     confirmation_due_on=date.today() + timedelta(days=14))
    db.session.add(termination)
    db.session.commit()
    sign_in_as(officer)

    queue = client.get("/staff/terminations").get_data(as_text=True)
    answer = client.submit(f"/staff/terminations/{termination.id}/confirm", follow_redirects=True)

    assert "inny inspektor ochrony danych" in queue
    assert f"/staff/terminations/{termination.id}/confirm" not in queue
    assert "inny inspektor ochrony danych" in answer.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(TerminationRequest, termination.id).confirmed_at is None
    with current_app.test_request_context(), force_locale("en"):
        with pytest.raises(termination_services.TerminationError, match=OTHER_OFFICER):
            termination_services.confirm_termination(termination.id, officer)


def test_a_privacy_officer_cannot_record_a_disclosure_about_their_own_account(client, sign_in_as, officer):
    account = own_or_delegated(officer, "owns")
    sign_in_as(officer)

    answer = client.submit("/staff/disclosures/new", {
        "customer_number": account.number, "disclosed_on": date.today().isoformat(), "recipient": "Sąd Rejonowy",
        "legal_basis": "art. 15 k.p.k.", "data_disclosed": "dane kontaktowe"})

    assert answer.status_code == 400 and "inny inspektor ochrony danych" in answer.get_data(as_text=True)
    assert db.session.scalar(select(func.count(LegalDisclosure.id))) == 0


def test_another_privacy_officer_decides_the_correction(client, sign_in_as, officer):
    account = own_or_delegated(officer, "owns")
    correction = CorrectionRequest(customer_id=account.id, field="last_name", requested_value="Nowakowska",
                                   requested_by_id=officer.id)
    db.session.add(correction)
    colleague = factories.identity(roles=("privacy_officer",))
    db.session.commit()
    sign_in_as(colleague)

    queue = client.get("/staff/corrections").get_data(as_text=True)
    answer = client.submit(f"/staff/corrections/{correction.id}/approve", {"note": ""})

    assert "inny inspektor ochrony danych" not in queue
    assert answer.status_code == 303
    assert db.session.get(CorrectionRequest, correction.id).status == "approved"
