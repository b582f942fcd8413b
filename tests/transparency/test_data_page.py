"""/account/data: every value held about the customer, with its purpose, legal basis, source,
retention and recipients; only for the owner; a constant number of queries however much they have."""
from __future__ import annotations

import html
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.dates import format_date
from flask_babel import force_locale
from sqlalchemy import insert, select

from portal.account.models import LegalDisclosure
from portal.auth.models import Identity
from portal.customers.models import Recording, Room
from portal.demo.data import demo_document
from portal.demo.identities import DEMO_IDENTITIES
from portal.extensions import db
from portal.people.models import Delegate, delegate_rooms
from portal.transparency.registry import BASIS_LABELS, CUSTOMER_CATEGORIES
from tests import factories
from tests.account.conftest import counted_statements
from tests.account.test_demo import load_demo, przyklad

OWNER_ONLY_PAGES = ["/account/data", "/account/export.json", "/account/export", "/account/activity",
                    "/account/contact"]


def polish(text) -> str:
    with force_locale("pl"):
        return str(text)


def demo_claims(sub: str) -> dict:
    identity = next(i for i in DEMO_IDENTITIES if i["sub"] == sub)
    return {k: v for k, v in identity.items() if k != "role"}


def imported_values(app) -> list[str]:
    """Every value the demo import holds for MCX-000123, as a person would read it on a Polish page."""
    [data] = [c for c in demo_document(Path(app.config["RECORDINGS_DIR"]))["customers"]
              if c["number"] == "MCX-000123"]
    values = [data["number"], data["company_name"], data["tax_id"], data["first_name"], data["last_name"],
              data["email"], data["phone"], *data["address"].values(), data["contract"]["number"],
              format_date(date.fromisoformat(data["contract"]["signed_on"]), "d MMMM y", locale="pl")]
    values += ["spersonalizowane wideokonferencje na PC", "pokój wideokonferencyjny z nagrywaniem"]
    for room in data["rooms"]:
        values.append(room["name"])
        for recording in room.get("recordings", []):
            values += [recording["title"], recording["sha256"]]
    for person in data["authorized_persons"]:
        values += [person["name"], person["email"]]
    return values


def test_demo_customer_signed_in_through_the_provider_sees_every_imported_value(app, client, sign_in_via_provider):
    load_demo(app)
    sign_in_via_provider(demo_claims("anna.kowalska"))

    response = client.get("/account/data")

    page = response.get_data(as_text=True)
    assert response.status_code == 200
    missing = [value for value in imported_values(app) if html.escape(value) not in page]
    assert missing == []
    # the consents the order form recorded, channel by channel
    consents = page.split('id="cat-consent_events"')[1].split("</section>")[0]
    assert consents.count("<tr>") == 1 + 4  # the header and four events
    assert "połączenia telefoniczne" in consents and "formularz zamówienia" in consents


def test_every_category_shows_purpose_legal_basis_source_retention_and_recipients(owner_client, app):
    page = owner_client.get("/account/data").get_data(as_text=True)

    assert '<html lang="pl">' in page
    for category in CUSTOMER_CATEGORIES:
        section = page.split(f'id="cat-{category.key}"')[1].split("</section>")[0]
        for text in (category.purpose, category.retention, category.recipients,
                     *(BASIS_LABELS[basis] for basis in category.bases)):
            assert html.escape(polish(text)) in section, (category.key, polish(text))
    assert "umowa z Tobą (art. 6 ust. 1 lit. b RODO)" in page
    assert "Brak poza MCX." in page  # recipients: none outside MCX


def test_a_legal_disclosure_appears_among_the_recipients(owner_client, owner):
    officer = factories.identity(roles=("privacy_officer",))
    db.session.add(LegalDisclosure(customer_id=owner.customer_id, recorded_by_id=officer.id,
                                   disclosed_on=date(2025, 6, 2), recipient="Sąd Rejonowy w Gdańsku",
                                   legal_basis="art. 218 k.p.k.", data_disclosed="dane kontaktowe"))
    db.session.commit()

    page = owner_client.get("/account/data").get_data(as_text=True)

    customer_section = page.split('id="cat-customer"')[1].split("</section>")[0]
    assert "Udostępnione na podstawie obowiązku prawnego: Sąd Rejonowy w Gdańsku." in customer_section
    disclosures = page.split('id="cat-legal_disclosures"')[1].split("</section>")[0]
    assert "art. 218 k.p.k." in disclosures and "dane kontaktowe" in disclosures


@pytest.mark.parametrize("path", OWNER_ONLY_PAGES)
def test_another_customer_a_delegate_and_an_unlinked_identity_get_404(app, client, sign_in_as, path):
    customer = factories.customer(first_name="Ukryta", last_name="Klientka", email="ukryta@example.pl")
    room = factories.room(customer, name="Pokój tajny")
    factories.delegate(customer, factories.identity(), rooms=[room], recordings=True)
    [delegate] = db.session.scalars(select(Delegate)).all()
    other_owner = factories.identity(customer=factories.customer())
    unlinked = factories.identity()
    db.session.commit()

    for who in (db.session.get(Identity, delegate.identity_id), other_owner, unlinked):
        visitor = app.test_client()
        sign_in_as(who, visitor)
        response = visitor.get(path)
        body = response.get_data(as_text=True)
        if who is other_owner:
            assert response.status_code == 200, (path, who)  # their own data, not the other customer's
        else:
            assert response.status_code == 404, (path, who)
        assert "Ukryta" not in body and "ukryta@example.pl" not in body


def test_signed_out_visitor_is_sent_to_sign_in(client):
    for path in OWNER_ONLY_PAGES:
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], path


def test_delegate_never_sees_the_customers_personal_data(app, client, sign_in_as):
    customer = factories.customer(kind="person", first_name="Zofia", last_name="Prywatna",
                                  email="zofia.prywatna@example.pl", phone="+48 700 800 900",
                                  street="ul. Sekretna 7")
    room = factories.room(customer, name="Sala dla delegata")
    person = factories.identity()
    factories.delegate(customer, person, rooms=[room], recordings=True)
    db.session.commit()
    sign_in_as(person)

    home = client.get("/account/").get_data(as_text=True)

    assert f'data-delegate-of="{customer.number}"' in home and "Sala dla delegata" in home
    for private in ("Zofia", "Prywatna", "zofia.prywatna@example.pl", "700 800 900", "Sekretna"):
        assert private not in home
    for path in OWNER_ONLY_PAGES:
        assert client.get(path).status_code == 404


def _bulk(owner_customer_id: int, room_id: int, count: int) -> None:
    """Add `count` rooms, recordings and delegates in a few statements."""
    db.session.execute(insert(Room), [{"customer_id": owner_customer_id, "key": f"bulk{n}", "name": f"Pokój {n}",
                                       "kind": "video_room"} for n in range(count)])
    db.session.execute(insert(Recording), [{"room_id": room_id, "key": f"bulk{n}", "title": f"Nagranie {n}",
                                            "started_at": datetime(2025, 3, 1, tzinfo=UTC), "duration_s": 60,
                                            "file": f"bulk/{n}.mp4", "size_bytes": 1, "sha256": "0" * 64}
                                           for n in range(count)])
    db.session.execute(insert(Delegate), [{"customer_id": owner_customer_id, "name": f"Osoba {n}",
                                           "email": f"osoba{n}@example.pl", "recordings": False, "status": "active",
                                           "source": "portal"} for n in range(count)])
    in_room = set(db.session.scalars(select(delegate_rooms.c.delegate_id).where(delegate_rooms.c.room_id == room_id)))
    delegate_ids = db.session.scalars(select(Delegate.id).where(Delegate.customer_id == owner_customer_id)).all()
    db.session.execute(insert(delegate_rooms), [{"delegate_id": d, "room_id": room_id}
                                                for d in delegate_ids if d not in in_room])
    db.session.commit()


def test_the_data_page_issues_the_same_queries_for_1_and_1000_rooms_recordings_and_delegates(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    room = factories.room(customer, name="Pierwszy pokój")
    factories.recording(room, title="Pierwsze nagranie")
    factories.delegate(customer, rooms=[room])
    db.session.commit()
    owner_client.get("/account/data")  # warm-up: anything cached per process is cached now

    with counted_statements() as few:
        small = owner_client.get("/account/data")
    _bulk(customer.id, room.id, 999)
    with counted_statements() as many:
        large = owner_client.get("/account/data")

    assert small.status_code == large.status_code == 200
    assert len(many) == len(few), "\n".join(many)
    page = large.get_data(as_text=True)
    recordings = page.split('id="cat-recordings"')[1].split("</section>")[0]
    assert recordings.count("<tr>") == 1 + 20 and 'rel="next"' in recordings


def test_long_lists_page_with_and_without_htmx(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    room = factories.room(customer)
    titles = [f"Nagranie nr {n:02d}" for n in range(25)]
    for title in titles:
        factories.recording(room, title=title)
    db.session.commit()

    first = owner_client.get("/account/data").get_data(as_text=True)
    section = first.split('id="cat-recordings"')[1].split("</section>")[0]
    assert all(t in section for t in titles[:20]) and not any(t in section for t in titles[20:])
    next_url = html.unescape(section.split('rel="next" href="')[1].split('"')[0])

    second = owner_client.get(next_url).get_data(as_text=True)
    rest = second.split('id="cat-recordings"')[1].split("</section>")[0]
    assert all(t in rest for t in titles[20:]) and not any(t in rest for t in titles[:20])
    assert 'rel="next"' not in rest and "Wróć do pierwszej strony" in rest

    hx_url = html.unescape(section.split('hx-get="')[-1].split('"')[0])
    fragment = owner_client.get(hx_url, headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and all(t in body for t in titles[20:])
    assert "HX-Request" in fragment.vary


def test_english_data_page(owner_client):
    owner_client.submit("/language", {"lang": "en", "next": "/"})

    page = owner_client.get("/account/data").get_data(as_text=True)

    assert "What MCX holds about you" in page
    assert "the contract with you (GDPR art. 6(1)(b))" in page


def test_demo_owner_reaches_the_data_page_from_home(app, client, sign_in_via_provider):
    load_demo(app)
    sign_in_via_provider(demo_claims("anna.kowalska"))

    home = client.get("/account/").get_data(as_text=True)

    assert 'href="/account/data"' in home
    assert przyklad().number in home


@pytest.mark.parametrize("sub", ["jan.nowak", "nieznany"])
def test_demo_delegate_and_unverified_identity_signed_in_through_the_provider_see_none_of_it(
        app, client, sign_in_via_provider, sub):
    load_demo(app)
    sign_in_via_provider(demo_claims(sub))

    home = client.get("/account/").get_data(as_text=True)

    for path in OWNER_ONLY_PAGES:
        assert client.get(path).status_code == 404, path
    # (the unverified identity's own claim is the same e-mail address: its home page may show what it claimed)
    private = ["Kowalska", "600 100 200", "Prosta 51", "5260250995"]
    if sub == "jan.nowak":
        private.append("anna.kowalska@przyklad.pl")
    assert [value for value in private if value in home] == []
    if sub == "jan.nowak":
        assert 'data-delegate-of="MCX-000123"' in home
