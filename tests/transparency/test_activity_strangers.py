"""The customer's activity log and export hold only what concerns their data: a person whose
request the customer declined or a moderator rejected never had access, is never called an
authorized person, and their later sign-ins are none of the customer's log (GDPR art. 15)."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from portal.auth.models import Identity
from portal.extensions import db
from portal.people.models import AccessRequest
from tests import factories


@pytest.fixture
def customer(app):
    customer = factories.customer(kind="company", company_name="Firma Testowa Sp. z o.o.")
    customer.board = factories.room(customer, "Sala zarządu")
    customer.identity = factories.identity(customer=customer)
    db.session.commit()
    return customer


def ask(app, sign_in_via_provider, customer, sub: str, name: str) -> tuple[Identity, AccessRequest]:
    """A person signs in through the real provider and asks the customer for access."""
    person = app.test_client()
    sign_in_via_provider({"sub": sub, "email": f"{sub}@obcy.example.pl", "email_verified": True, "name": name},
                         test_client=person)
    person.submit("/access/request", {"number": customer.number, "message": "Proszę o dostęp"})
    identity = db.session.scalar(select(Identity).where(Identity.subject == sub))
    request = db.session.scalar(select(AccessRequest).where(AccessRequest.requester_identity_id == identity.id))
    return identity, request


def decide_three(app, sign_in_via_provider, sign_in_as, customer):
    """Three persons ask for access: the customer declines one, a moderator rejects one and approves
    one. Returns the owner's signed-in client and {"declined"|"rejected"|"approved": (identity, request)}."""
    owner = app.test_client()
    sign_in_as(customer.identity, owner)
    moderator = app.test_client()
    sign_in_as(factories.identity(roles=("moderator",)), moderator)
    db.session.commit()
    asked = {"declined": ask(app, sign_in_via_provider, customer, "obcy-1", "Zenon Odrzucony"),
             "rejected": ask(app, sign_in_via_provider, customer, "obcy-2", "Rafał Niezatwierdzony"),
             "approved": ask(app, sign_in_via_provider, customer, "znajomy-3", "Jan Zatwierdzony")}
    owner.submit(f"/account/people/requests/{asked['declined'][1].id}/decline")
    for key in ("rejected", "approved"):
        owner.submit(f"/account/people/requests/{asked[key][1].id}/endorse", {"rooms": [str(customer.board.id)]})
    moderator.submit(f"/staff/requests/{asked['rejected'][1].id}/reject", {"reason": "Nie znamy tej osoby"})
    moderator.submit(f"/staff/requests/{asked['approved'][1].id}/approve", {"note": ""})
    return owner, asked


def signs_in_again(app, sign_in_via_provider, identity: Identity) -> None:
    sign_in_via_provider({"sub": identity.subject, "email": identity.email, "email_verified": True,
                          "name": identity.name}, test_client=app.test_client())


def test_declined_and_rejected_strangers_are_not_authorized_persons_and_their_sign_ins_stay_out(
        app, sign_in_via_provider, sign_in_as, customer):
    owner, asked = decide_three(app, sign_in_via_provider, sign_in_as, customer)
    (declined, declined_request), (rejected, rejected_request), (approved, approved_request) = (
        asked["declined"], asked["rejected"], asked["approved"])
    assert [db.session.get(AccessRequest, r.id).status for r in (declined_request, rejected_request,
                                                                  approved_request)] == ["declined", "rejected",
                                                                                         "approved"]
    for person in (declined, rejected, approved):
        signs_in_again(app, sign_in_via_provider, person)

    page = owner.get("/account/activity").get_data(as_text=True)
    export = json.loads(owner.get("/account/export.json").get_data(as_text=True))

    assert "Jan Zatwierdzony (osoba upoważniona)" in page  # a person with access is named as one
    assert "Zenon Odrzucony" not in page and "Rafał Niezatwierdzony" not in page
    assert "osoba upoważniona" not in page.replace("Jan Zatwierdzony (osoba upoważniona)", "")
    log = export["data"]["activity_log"]
    sign_ins = [entry for entry in log if entry["kind"] == "sign_in"]
    # the owner's own sign-in (fast path: none) and the approved person's sign-in after approval
    assert [entry["who"] for entry in sign_ins] == ["authorized_person"]
    # what the strangers did to this account (asking) is the customer's business, but not as authorized persons
    asked = [entry for entry in log if entry["kind"] == "access_requested"]
    assert len(asked) == 3 and [entry["who"] for entry in asked].count("authorized_person") == 1


def test_declined_and_rejected_strangers_are_access_requests_not_authorized_persons_in_the_export_and_data_page(
        app, sign_in_via_provider, sign_in_as, customer):
    owner, _asked = decide_three(app, sign_in_via_provider, sign_in_as, customer)
    export = json.loads(owner.get("/account/export.json").get_data(as_text=True))["data"]
    section = owner.get("/account/data?section=authorized_persons",
                        headers={"HX-Request": "true"}).get_data(as_text=True)

    assert [person["name"] for person in export["authorized_persons"]] == ["Jan Zatwierdzony"]
    # what they are: access requests that were declined or rejected
    assert sorted((entry["person"], entry["status"]) for entry in export["access_requests"]) == [
        ("Jan Zatwierdzony", "approved"), ("Rafał Niezatwierdzony", "rejected"), ("Zenon Odrzucony", "declined")]
    assert "Jan Zatwierdzony" in section
    assert "Zenon Odrzucony" not in section and "Rafał Niezatwierdzony" not in section


def test_a_sign_in_before_the_approval_is_none_of_the_customers_log(app, customer):
    """Access starts when the request is approved: the person's sign-in while they were still waiting
    is not in the log, the one after the approval is (even though later events exist)."""
    from datetime import timedelta

    from sqlalchemy import update

    from portal import audit
    from portal.audit import AuditEvent
    from portal.db_types import utcnow
    from portal.people.models import AccessRequestStatus, DelegateStatus
    from portal.transparency import services

    now = utcnow()
    person = factories.identity()
    delegate = factories.delegate(customer, person, rooms=[customer.board], status=DelegateStatus.ACTIVE)
    delegate.created_at = now - timedelta(hours=3)
    db.session.add(AccessRequest(customer_id=customer.id, delegate_id=delegate.id, origin="person",
                                 status=AccessRequestStatus.APPROVED, created_at=now - timedelta(hours=3),
                                 decided_at=now - timedelta(hours=1)))
    waiting = audit.record("sign_in", actor_id=person.id, provider="mcx")
    db.session.execute(update(AuditEvent).where(AuditEvent.id == waiting.id).values(at=now - timedelta(hours=2)))
    approved = audit.record("sign_in", actor_id=person.id, provider="mcx")
    db.session.commit()

    shown = [e.id for e in services.activity_page(customer.id, None, None).events]
    assert approved.id in shown and waiting.id not in shown
