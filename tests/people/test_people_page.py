"""The customer's people page: the list, adding a person (plain form and htmx), removing one,
answering persons who asked; every entry of another customer answers 404."""
from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from portal.auth.models import UserSession
from portal.extensions import db
from portal.people.models import AccessRequest, Delegate
from tests import factories
from tests.people.helpers import events, page_text

HTMX = {"HX-Request": "true", "HX-Target": "people-section", "HX-Current-URL": "http://localhost/account/people"}


@pytest.fixture
def anna(app):
    customer = factories.customer(first_name="Anna", last_name="Kowalska")
    customer.board = factories.room(customer, "Sala zarządu")
    customer.training = factories.room(customer, "Sala szkoleniowa", kind="video_room")
    customer.identity = factories.identity("anna@example.pl", customer=customer)
    db.session.commit()
    return customer


@pytest.fixture
def olga(app):
    """Another customer, with a person, a room and a request of her own."""
    customer = factories.customer(first_name="Olga", last_name="Obca")
    customer.room_ = factories.room(customer, "Obca sala")
    customer.identity = factories.identity("olga@example.pl", customer=customer)
    asking = factories.identity("obcy@example.pl")
    customer.delegate = factories.delegate(customer, rooms=[customer.room_])
    customer.asking = factories.delegate(customer, asking, status="pending")
    customer.asking.source = "request"
    customer.request = AccessRequest(customer_id=customer.id, delegate_id=customer.asking.id, origin="person",
                                     requester_identity_id=asking.id, message="Proszę", status="awaiting_customer")
    db.session.add(customer.request)
    db.session.commit()
    return customer


def person_form(anna, **overrides):
    data = {"name": "Jan Nowak", "email": "jan@example.pl", "rooms": [str(anna.board.id)], "recordings": "y",
            "expires_on": ""}
    return {**data, **overrides}


def test_customer_adds_a_person_who_waits_for_moderation(client, anna, sign_in_as):
    sign_in_as(anna.identity)

    response = client.submit("/account/people", person_form(anna))

    assert response.status_code == 303 and response.headers["Location"] == "/account/people"
    [delegate] = db.session.scalars(select(Delegate)).all()
    assert (delegate.name, delegate.email, delegate.status, delegate.source) == ("Jan Nowak", "jan@example.pl",
                                                                                 "pending", "portal")
    assert [r.name for r in delegate.rooms] == ["Sala zarządu"] and delegate.recordings is True
    [request] = db.session.scalars(select(AccessRequest)).all()
    assert (request.origin, request.status, request.requester_identity_id) == ("customer", "pending", anna.identity.id)
    [event] = events("delegate_added")
    assert event.customer_id == anna.id and "jan@example.pl" not in event.data
    page = page_text(client.get("/account/people"))
    assert "Dodano: Jan Nowak" in page
    row = re.search(rf'<tr data-delegate="{delegate.id}".*?</tr>', page, re.S).group(0)
    assert "Sala zarządu" in row and "czeka na zatwierdzenie przez MCX" in row


def test_a_failed_form_shows_errors_next_to_the_fields_and_keeps_the_input(client, anna, sign_in_as):
    sign_in_as(anna.identity)

    response = client.submit("/account/people", person_form(anna, name="", email="nie-adres", rooms=[],
                                                             expires_on=(date.today() - timedelta(days=1)).isoformat()))

    page = page_text(response)
    assert response.status_code == 422
    assert re.search(r'id="name-error"[^>]*>Podaj imię i nazwisko osoby\.<', page)
    assert re.search(r'id="email-error"[^>]*>Podaj adres e-mail w postaci nazwa@example\.pl\.<', page)
    assert re.search(r'id="rooms-error"[^>]*>Wybierz co najmniej jeden pokój\.<', page)
    assert re.search(r'id="expires_on-error"[^>]*>Data końcowa nie może być w przeszłości\.<', page)
    assert 'value="nie-adres"' in page  # what the user typed stays
    assert 'aria-invalid="true"' in page
    assert db.session.scalars(select(Delegate)).all() == []


def test_rooms_of_another_customer_cannot_be_given(client, anna, olga, sign_in_as):
    sign_in_as(anna.identity)

    response = client.submit("/account/people", person_form(anna, rooms=[str(olga.room_.id)]))

    assert response.status_code == 422
    assert db.session.scalar(select(Delegate).where(Delegate.customer_id == anna.id)) is None


def test_the_same_person_cannot_be_added_twice_while_on_the_list(client, anna, sign_in_as):
    sign_in_as(anna.identity)
    client.submit("/account/people", person_form(anna))

    response = client.submit("/account/people", person_form(anna, email="JAN@example.pl"))

    assert response.status_code == 422
    assert "Ta osoba jest już na Twojej liście." in page_text(response)
    assert len(db.session.scalars(select(Delegate)).all()) == 1


def test_with_htmx_the_section_updates_in_place(client, anna, sign_in_as):
    sign_in_as(anna.identity)

    failed = client.submit("/account/people", person_form(anna, email=""), headers=HTMX)
    added = client.submit("/account/people", person_form(anna), headers=HTMX)

    assert failed.status_code == 422  # base.html's htmx-config swaps it
    assert page_text(failed).startswith('<div id="people-section">') and "<html" not in page_text(failed)
    assert "Podaj adres e-mail osoby." in page_text(failed)
    assert "HX-Request" in failed.vary
    page = page_text(added)
    assert added.status_code == 200 and "<html" not in page
    assert 'data-email="jan@example.pl"' in page
    # the confirmation goes into the page's live region, out of band
    assert re.search(r'hx-swap-oob="innerHTML:#messages"><p [^>]*role="status">Dodano: Jan Nowak', page)
    assert 'value="Jan Nowak"' not in page  # a fresh form for the next person


def test_inline_validation_answers_the_form_with_errors_and_saves_nothing(client, anna, sign_in_as):
    sign_in_as(anna.identity)
    client.submit("/account/people", person_form(anna))

    response = client.submit("/account/people/validate", person_form(anna, name="Jan"),
                             headers={**HTMX, "HX-Trigger-Name": "email"})

    page = page_text(response)
    assert response.status_code == 200 and "<html" not in page
    assert re.search(r'id="email-error"[^>]*>Ta osoba jest już na Twojej liście\.<', page)
    assert len(db.session.scalars(select(Delegate)).all()) == 1


def test_the_page_wires_inline_validation_and_works_without_javascript(client, anna, sign_in_as):
    sign_in_as(anna.identity)

    page = page_text(client.get("/account/people"))

    form = re.search(r'<form id="add-person"[^>]*>', page).group(0)
    assert 'method="post" action="/account/people"' in form and 'hx-post="/account/people"' in form
    email = re.search(r'<input[^>]*name="email"[^>]*>', page).group(0)
    assert 'hx-post="/account/people/validate"' in email and 'hx-select="#email-error"' in email
    assert '<label for="email">Adres e-mail</label>' in page
    assert 'aria-describedby="email-hint email-error"' in email


def test_the_list_shows_scope_status_and_expiry(client, anna, sign_in_as):
    jan = factories.identity("jan@example.pl")
    factories.delegate(anna, jan, rooms=[anna.board], recordings=True, expires_on=date(2099, 12, 31))
    factories.delegate(anna, rooms=[anna.training], status="invited")
    expired = factories.delegate(anna, rooms=[anna.training], expires_on=date.today() - timedelta(days=1))
    expired.email = "expired@example.pl"
    removed = factories.delegate(anna, rooms=[anna.board], status="removed")
    removed.email = "removed@example.pl"
    db.session.commit()
    sign_in_as(anna.identity)

    page = page_text(client.get("/account/people"))

    states = re.findall(r'data-state="([a-z_]+)"', page)
    assert sorted(states) == ["active", "expired", "invited", "removed"]
    assert "31 grudnia 2099" in page
    assert page.count(">Usuń<") == 3  # removed persons have nothing left to remove


def test_removal_needs_a_confirmation_page_first(client, anna, sign_in_as):
    jan = factories.identity("jan@example.pl")
    delegate = factories.delegate(anna, jan, rooms=[anna.board])
    db.session.commit()
    sign_in_as(anna.identity)

    confirm = client.get(f"/account/people/{delegate.id}/remove")

    page = page_text(confirm)
    assert confirm.status_code == 200
    assert f'action="/account/people/{delegate.id}/remove"' in page and "Tego nie można cofnąć." in page
    assert db.session.get(Delegate, delegate.id).status == "active"  # a GET changes nothing


def test_removal_ends_access_and_every_session_of_the_person(app, client, anna, sign_in_as):
    jan = factories.identity("jan@example.pl")
    delegate = factories.delegate(anna, jan, rooms=[anna.board])
    db.session.commit()
    jans_browsers = [app.test_client(), app.test_client()]
    for browser in jans_browsers:
        sign_in_as(jan, browser)
    sign_in_as(anna.identity)

    response = client.submit(f"/account/people/{delegate.id}/remove")

    assert response.status_code == 303
    assert db.session.get(Delegate, delegate.id).status == "removed"
    sessions = db.session.scalars(select(UserSession).where(UserSession.identity_id == jan.id)).all()
    assert [s.revoked_reason for s in sessions] == ["delegate_removed", "delegate_removed"]
    for browser in jans_browsers:
        assert browser.get("/rooms").status_code == 302
    [event] = events("delegate_removed")
    assert event.customer_id == anna.id and event.details["sessions_revoked"] == 2
    assert "nie ma już dostępu" in page_text(client.get("/account/people"))
    assert client.get("/account/").status_code == 200  # the customer's own session is untouched


def test_removing_a_pending_person_withdraws_the_request(client, anna, sign_in_as):
    sign_in_as(anna.identity)
    client.submit("/account/people", person_form(anna))
    delegate = db.session.scalar(select(Delegate))

    client.submit(f"/account/people/{delegate.id}/remove")

    assert db.session.scalar(select(AccessRequest.status)) == "declined"
    assert db.session.get(Delegate, delegate.id).status == "removed"


def test_removal_with_a_stale_sign_in_asks_to_sign_in_again_and_changes_nothing(app, client, anna, sign_in_as):
    from portal.db_types import utcnow

    delegate = factories.delegate(anna, rooms=[anna.board])
    db.session.commit()
    record = sign_in_as(anna.identity)
    record = db.session.get(UserSession, record.id)
    record.auth_time = utcnow() - timedelta(seconds=app.config["RECENT_AUTH_SECONDS"] + 60)
    db.session.commit()

    confirm = client.get(f"/account/people/{delegate.id}/remove")
    post = client.submit(f"/account/people/{delegate.id}/remove")

    for response in (confirm, post):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/auth/login?") and "reauth=1" in response.headers["Location"]
    assert db.session.get(Delegate, delegate.id).status == "active"


@pytest.mark.parametrize("method, url", [
    ("GET", "/account/people/{delegate}/remove"),
    ("POST", "/account/people/{delegate}/remove"),
    ("POST", "/account/people/requests/{request}/endorse"),
    ("POST", "/account/people/requests/{request}/decline"),
])
def test_another_customers_people_entries_answer_404(client, anna, olga, sign_in_as, method, url):
    sign_in_as(anna.identity)
    url = url.format(delegate=olga.delegate.id, request=olga.request.id)

    if method == "GET":
        response = client.get(url)
    else:
        response = client.submit(url, {"rooms": [str(anna.board.id)]})

    assert response.status_code == 404
    assert db.session.get(Delegate, olga.delegate.id).status == "active"
    assert db.session.get(AccessRequest, olga.request.id).status == "awaiting_customer"


def test_another_customers_persons_are_not_on_the_page(client, anna, olga, sign_in_as):
    sign_in_as(anna.identity)

    page = page_text(client.get("/account/people"))

    assert "obcy@example.pl" not in page and "Proszę" not in page and "d@example.pl" not in page


@pytest.mark.parametrize("who", ["delegate", "staff", "unlinked"])
def test_only_a_customer_has_a_people_page(client, anna, sign_in_as, who):
    identity = {"delegate": lambda: factories.identity("jan@example.pl"),
                "staff": lambda: factories.identity("ewa@mcx.pl", roles=("moderator",)),
                "unlinked": lambda: factories.identity("x@example.pl")}[who]()
    if who == "delegate":
        factories.delegate(anna, identity, rooms=[anna.board])
    db.session.commit()
    sign_in_as(identity)

    assert client.get("/account/people").status_code == 404
    assert client.submit("/account/people", person_form(anna)).status_code == 404


def test_navigation_offers_the_pages_to_who_may_use_them(client, anna, sign_in_as, app):
    jan = factories.identity("jan@example.pl")
    factories.delegate(anna, jan, rooms=[anna.board])
    ewa = factories.identity("ewa@mcx.pl", roles=("moderator",))
    db.session.commit()

    def nav(identity):
        browser = app.test_client()
        sign_in_as(identity, browser)
        page = page_text(browser.get("/account/"))
        return set(re.findall(r'<li><a href="(/[^"]*)"', re.search(r"<nav aria-label.*?</nav>", page, re.S).group(0)))

    assert {"/account/people", "/rooms"} <= nav(anna.identity)
    assert "/staff/requests" not in nav(anna.identity)
    assert "/rooms" in nav(jan) and "/account/people" not in nav(jan)
    assert "/staff/requests" in nav(ewa) and "/rooms" not in nav(ewa)
