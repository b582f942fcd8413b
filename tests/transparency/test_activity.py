"""/account/activity: everything that touched the customer's data, in plain words, newest first."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal import audit
from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.extensions import db
from tests import factories
from tests.account.conftest import counted_statements


def rows(page: str) -> list[str]:
    return re.findall(r'<tr data-kind="([a-z_]+)">', page)


def test_the_log_names_who_did_what_in_polish(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    person = factories.identity()
    factories.delegate(customer, person).name = "Jan Nowak"
    officer = factories.identity(roles=("privacy_officer",))
    officer.name = "Piotr Wiśniewski"
    db.session.commit()
    audit.record("sign_in", actor_id=owner.id, customer_id=customer.id, provider="mcx", ip="198.51.100.7")
    audit.record("sign_in", actor_id=person.id, customer_id=None, provider="partner", ip="203.0.113.9")
    audit.record("customer_data_revealed", actor_id=officer.id, customer_id=customer.id, fields=["tax_id"],
                 reason="correction request")
    audit.record("legal_disclosure_recorded", actor_id=officer.id, customer_id=customer.id,
                 recipient="Prokuratura Rejonowa Gdańsk", legal_basis="art. 180c Prawa telekomunikacyjnego",
                 disclosed_on="2025-06-02", data_disclosed="dane kontaktowe i numer umowy")
    db.session.commit()

    page = owner_client.get("/account/activity").get_data(as_text=True)

    assert rows(page) == ["legal_disclosure_recorded", "customer_data_revealed", "sign_in", "sign_in"]
    disclosure = page.split('data-kind="legal_disclosure_recorded"')[1].split("</tr>")[0]
    for text in ("Udostępnienie danych na podstawie obowiązku prawnego", "Pracownik MCX (inspektor ochrony danych)",
                 "Prokuratura Rejonowa Gdańsk", "art. 180c Prawa telekomunikacyjnego", "2025-06-02",
                 "dane kontaktowe i numer umowy"):
        assert text in disclosure
    reveal = page.split('data-kind="customer_data_revealed"')[1].split("</tr>")[0]
    assert "Odsłonięcie Twoich danych przez pracownika MCX" in reveal and "NIP" in reveal
    sign_ins = page.split('data-kind="sign_in"')
    assert "Jan Nowak (osoba upoważniona)" in sign_ins[1] and ">Ty<" in sign_ins[2]
    assert "Partner SSO" in sign_ins[1] and "<dd>MCX</dd>" in sign_ins[2]  # the provider as the sign-in page names it
    # the sessions page shows addresses; the activity log never shows a delegate's
    assert "203.0.113.9" not in page and "Piotr" not in page


def test_the_log_holds_nothing_of_other_customers_or_of_a_delegate_before_they_were_one(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    stranger = factories.customer()
    person = factories.identity()
    db.session.commit()
    audit.record("sign_in", actor_id=person.id, customer_id=None, provider="mcx")  # before the delegation
    audit.record("customer_imported", customer_id=stranger.id, number=stranger.number)
    db.session.commit()
    delegation = factories.delegate(customer, person)
    delegation.created_at = datetime.now(UTC) + timedelta(seconds=1)
    db.session.commit()

    page = owner_client.get("/account/activity").get_data(as_text=True)

    assert rows(page) == []
    assert "Nie ma nic do pokazania." in page


def test_filter_by_kind_with_and_without_htmx(owner_client, owner):
    for kind in ("sign_in", "data_exported", "contact_phone_changed", "legal_disclosure_recorded"):
        audit.record(kind, actor_id=owner.id, customer_id=owner.customer_id)
    db.session.commit()

    page = owner_client.get("/account/activity?kind=sign_ins").get_data(as_text=True)
    assert rows(page) == ["sign_in"]
    assert '<option value="sign_ins" selected>' in page

    fragment = owner_client.get("/account/activity?kind=disclosures", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and rows(body) == ["legal_disclosure_recorded"]

    assert rows(owner_client.get("/account/activity?kind=nonsense").get_data(as_text=True)) == [
        "legal_disclosure_recorded", "contact_phone_changed", "data_exported", "sign_in"]


def test_pages_newest_first_with_a_keyset(owner_client, owner):
    for n in range(45):
        audit.record("contact_phone_changed", actor_id=owner.id, customer_id=owner.customer_id, n=n)
    db.session.commit()
    ids = db.session.scalars(select(AuditEvent.id).where(AuditEvent.kind == "contact_phone_changed")
                              .order_by(AuditEvent.id.desc())).all()

    first = owner_client.get("/account/activity").get_data(as_text=True)
    assert len(rows(first)) == 20
    older = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert f"before={ids[19]}" in older

    second = owner_client.get(older).get_data(as_text=True)
    third = owner_client.get(re.search(r'rel="next" href="([^"]+)"', second).group(1).replace("&amp;", "&"))
    assert len(rows(second)) == 20 and len(rows(third.get_data(as_text=True))) == 5
    assert 'rel="next"' not in third.get_data(as_text=True)
    assert "Starsze zdarzenia" in first and "Najnowsze zdarzenia" in second


def _delegate_signs_in(customer) -> None:
    person = factories.identity()
    factories.delegate(customer, person)
    db.session.flush()
    audit.record("sign_in", actor_id=person.id, customer_id=None, provider="mcx")


def test_the_log_issues_the_same_queries_for_few_and_many_events_and_actors(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    _delegate_signs_in(customer)
    db.session.commit()
    owner_client.get("/account/activity")
    with counted_statements() as few:
        owner_client.get("/account/activity")
    for _ in range(60):
        _delegate_signs_in(customer)
    db.session.commit()

    with counted_statements() as many:
        page = owner_client.get("/account/activity").get_data(as_text=True)

    assert len(rows(page)) == 20
    assert len(many) == len(few)


def test_an_event_kind_nobody_described_still_shows(owner_client, owner):
    audit.record("something_new_happened", actor_id=owner.id, customer_id=owner.customer_id, detail="x")
    db.session.commit()

    page = owner_client.get("/account/activity?kind=other").get_data(as_text=True)

    assert rows(page) == ["something_new_happened"] and "something new happened" in page


def test_english_activity_log(owner_client, owner):
    audit.record("data_exported", actor_id=owner.id, customer_id=owner.customer_id, format="json")
    db.session.commit()
    owner_client.submit("/language", {"lang": "en", "next": "/"})

    page = owner_client.get("/account/activity").get_data(as_text=True)

    assert "Data export" in page and ">You<" in page and "JSON" in page
