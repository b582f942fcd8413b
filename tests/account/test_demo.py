"""`flask portal demo`: realistic demo data, loaded through the real import, safe to run twice."""
from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import func, select

from portal.auth.models import Identity, StaffRole
from portal.consents.models import ConsentEvent
from portal.customers.models import Customer, Recording, Room
from portal.demo.identities import DEMO_IDENTITIES, DEMO_STAFF
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus


def load_demo(app):
    result = app.test_cli_runner().invoke(args=["portal", "demo"])
    assert result.exit_code == 0, result.output
    return result


def przyklad() -> Customer:
    return db.session.scalar(select(Customer).where(Customer.number == "MCX-000123"))


def current_consents(customer: Customer) -> dict[str, bool]:
    """Each channel's state as the portal derives it: the newest event wins."""
    events = db.session.scalars(select(ConsentEvent).where(ConsentEvent.customer_id == customer.id)
                                .order_by(ConsentEvent.at))
    return {event.channel: event.granted for event in events}


def counts() -> dict[str, int]:
    return {model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Customer, Room, Recording, Delegate, ConsentEvent, StaffRole)}


def test_demo_customer_matches_the_demo_identities(app):
    load_demo(app)

    customer = przyklad()
    assert (customer.kind, customer.company_name, customer.tax_id) == ("company", "Przykład Sp. z o.o.", "5260250995")
    assert customer.email == "anna.kowalska@przyklad.pl"
    kinds = [room.kind for room in customer.rooms]
    assert {"recorded_video_room", "video_room", "teleconference_room"} <= set(kinds)
    assert any(len(room.recordings) == 3 for room in customer.rooms if room.kind == "recorded_video_room")

    jan = db.session.scalar(select(Delegate).where(Delegate.email == "jan.nowak@przyklad.pl"))
    assert (jan.customer_id, jan.name, jan.status, jan.recordings) == (
        customer.id, "Jan Nowak", DelegateStatus.ACTIVE, True)
    assert [room.kind for room in jan.rooms].count("recorded_video_room") == 1
    assert current_consents(customer) == {"email": True, "sms": False, "phone": False}


def test_every_verified_demo_identity_has_something_to_sign_in_to(app):
    load_demo(app)

    for ident in (i for i in DEMO_IDENTITIES if i["email_verified"]):
        email = ident["email"]
        linked = (db.session.scalar(select(func.count(Customer.id)).where(Customer.email == email))
                  + db.session.scalar(select(func.count(Delegate.id)).where(Delegate.email == email))
                  + db.session.scalar(select(func.count(StaffRole.id)).where(StaffRole.email == email)))
        assert linked == 1, email
    assert {(r.email, r.role) for r in db.session.scalars(select(StaffRole))} == set(DEMO_STAFF)


def test_demo_has_more_customers_including_a_person(app):
    load_demo(app)

    customers = db.session.scalars(select(Customer).order_by(Customer.number)).all()
    assert len(customers) >= 3
    assert "person" in {c.kind for c in customers}
    assert len({c.email for c in customers}) == len(customers)
    assert all(c.contract is not None and c.contract.services for c in customers)


def test_demo_recording_files_exist_and_match_their_checksums(app):
    load_demo(app)
    root = Path(app.config["RECORDINGS_DIR"])

    recordings = db.session.scalars(select(Recording)).all()
    assert len(recordings) >= 3
    for recording in recordings:
        content = (root / recording.file).read_bytes()
        assert 0 < len(content) == recording.size_bytes
        assert hashlib.sha256(content).hexdigest() == recording.sha256
        assert recording.file.endswith(".mp4")


def test_loading_the_demo_twice_changes_nothing(app):
    load_demo(app)
    before = counts()
    receipts = set(db.session.scalars(select(ConsentEvent.receipt_id)))

    again = load_demo(app)

    assert "customers: 0 created, 0 updated, 4 unchanged" in again.stdout
    assert counts() == before
    assert set(db.session.scalars(select(ConsentEvent.receipt_id))) == receipts


def test_demo_anna_signs_in_as_the_owner_of_the_demo_customer(app, sign_in_via_provider):
    load_demo(app)
    anna = next(i for i in DEMO_IDENTITIES if i["sub"] == "anna.kowalska")

    sign_in_via_provider({k: v for k, v in anna.items() if k != "role"})

    identity = db.session.scalar(select(Identity).where(Identity.subject == "anna.kowalska"))
    assert identity.customer_id == przyklad().id


def test_demo_refuses_to_run_in_production(app):
    app.config["PORTAL_ENV"] = "production"

    result = app.test_cli_runner().invoke(args=["portal", "demo"])

    assert result.exit_code != 0
    assert "PORTAL_ENV=production" in result.output
    assert counts() == {name: 0 for name in counts()}


def test_a_person_authorized_during_the_demo_can_sign_in_at_the_local_provider(app, client, sign_in_via_provider):
    from portal.devserver import demo_people
    from tests import factories

    load_demo(app)
    customer = przyklad()
    marta = factories.delegate(customer, None, rooms=list(customer.rooms), status=DelegateStatus.INVITED)
    marta.email, marta.name = "marta.wisniewska@przyklad.pl", "Marta Wiśniewska"
    db.session.commit()

    new = demo_people({ident["email"] for ident in DEMO_IDENTITIES})

    # every authorized person of the demo can sign in: those of the demo data and the one just added
    every_delegate = set(db.session.scalars(select(Delegate.email)))
    assert {c["email"] for c in new} | {i["email"] for i in DEMO_IDENTITIES} >= every_delegate
    [claims] = [c for c in new if c["email"] == "marta.wisniewska@przyklad.pl"]
    assert claims["sub"] == "marta.wisniewska@przyklad.pl" and claims["email_verified"] is True
    sign_in_via_provider(claims)
    db.session.expire_all()
    assert db.session.get(Delegate, marta.id).identity_id is not None  # the invitation was taken up
