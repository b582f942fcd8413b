"""A signed-in person asks a customer for access by customer number; the customer endorses or
declines; endorsed requests go to moderation. Whether a number exists never shows."""
from __future__ import annotations

import difflib
import re
import time

import pytest
from sqlalchemy import select

from portal import mail
from portal.extensions import db
from portal.people.models import AccessRequest, Delegate
from tests import factories
from tests.people.helpers import events, page_text
from tests.support.sealer import sealer_held


@pytest.fixture
def anna(app):
    customer = factories.customer(first_name="Anna", last_name="Kowalska", email="anna@example.pl")
    customer.board = factories.room(customer, "Sala zarządu")
    customer.training = factories.room(customer, "Sala szkoleniowa", kind="video_room")
    customer.identity = factories.identity("anna@example.pl", customer=customer)
    db.session.commit()
    return customer


@pytest.fixture
def marek(app):
    identity = factories.identity("marek@partner.example.pl")
    identity.name = "Marek Partner"
    db.session.commit()
    return identity


def ask(client, number, message="Jestem konsultantem, potrzebuję sali zarządu."):
    return client.submit("/access/request", {"number": number, "message": message})


def test_a_person_asks_and_the_customer_sees_the_request(app, client, anna, marek, sign_in_as):
    sign_in_as(marek)

    response = ask(client, anna.number)

    assert response.status_code == 303 and response.headers["Location"] == "/access/request"
    delegate = db.session.scalar(select(Delegate))
    assert (delegate.customer_id, delegate.identity_id, delegate.email, delegate.status, delegate.source) == (
        anna.id, marek.id, "marek@partner.example.pl", "pending", "request")
    access_request = db.session.scalar(select(AccessRequest))
    assert (access_request.origin, access_request.status, access_request.requester_identity_id) == (
        "person", "awaiting_customer", marek.id)
    [event] = events("access_requested")
    assert event.customer_id == anna.id and event.actor_identity_id == marek.id
    customer = app.test_client()
    sign_in_as(anna.identity, customer)
    page = page_text(customer.get("/account/people"))
    assert "1 osoba prosi o dostęp do Twoich pokoi." in page  # the notice on every page
    assert "Marek Partner (marek@partner.example.pl)" in page
    assert "Jestem konsultantem" in page
    # the moderators do not see it before the customer agrees
    assert db.session.scalar(select(AccessRequest).where(AccessRequest.status == "pending")) is None


def normalised(response) -> str:
    """The page without its CSRF tokens, which carry the second they were made in."""
    page = re.sub(r'name="csrf_token" value="[^"]+"', "", page_text(response))
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", page)


def test_the_answer_is_the_same_whether_or_not_the_number_exists(client, anna, marek, sign_in_as):
    sign_in_as(marek)
    answers = {}
    for label, number in [("existing", anna.number), ("unknown", "MCX-999999")]:
        sent = ask(client, number)
        shown = client.get(sent.headers["Location"])
        answers[label] = (sent.status_code, sent.headers["Location"], normalised(shown).replace(number, "NUMBER"))

    difference = "\n".join(difflib.unified_diff(answers["existing"][2].splitlines(),
                                                 answers["unknown"][2].splitlines(), lineterm=""))
    assert answers["existing"] == answers["unknown"], difference
    assert "Wniosek został wysłany. Jeśli NUMBER jest numerem klienta MCX" in answers["unknown"][2]


@pytest.mark.parametrize("case", ["unknown number", "already asked", "already a delegate", "own account"])
def test_the_same_statements_run_whatever_the_number(app, anna, marek, sign_in_as, case):
    """The work done does not depend on the number: the same SQL statements, in the same order."""
    from portal.people import services

    def statements(identity, number) -> list[str]:
        seen = []
        from sqlalchemy import event

        def record(conn, cursor, statement, *args):
            seen.append(re.sub(r"\s+", " ", statement))

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            with app.test_request_context(), sealer_held():
                services.request_access(identity, number=number, message="Proszę", language="pl")
                db.session.commit()
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return seen

    asker = marek
    number = anna.number
    if case == "unknown number":
        number = "MCX-999999"
    elif case == "already asked":
        statements(marek, anna.number)
    elif case == "already a delegate":
        factories.delegate(anna, marek, rooms=[anna.board])
        db.session.commit()
    elif case == "own account":
        asker = anna.identity
    fresh = factories.identity("nowy@example.pl")
    db.session.commit()

    baseline = statements(fresh, anna.number)  # creates a request
    other = statements(asker, number)  # creates nothing

    assert other == baseline
    created = db.session.scalars(select(Delegate).where(Delegate.identity_id == asker.id,
                                                        Delegate.source == "request")).all()
    assert len(created) == (1 if case == "already asked" else 0)


def test_timing_does_not_depend_on_the_number(client, anna, marek, sign_in_as):
    """Measured, not exact: the two paths run the same statements, so their times overlap."""
    sign_in_as(marek)
    token = client.csrf_token()
    timings = {"existing": [], "unknown": []}
    for n in range(20):
        for label, number in (("existing", anna.number), ("unknown", f"MCX-9{n:05d}")):
            started = time.perf_counter()
            client.post("/access/request", data={"number": number, "message": "Proszę", "csrf_token": token})
            timings[label].append(time.perf_counter() - started)
    existing, unknown = (sorted(t)[len(t) // 2] for t in timings.values())
    print(f"\nmedian answer time: existing {existing * 1000:.1f} ms, unknown {unknown * 1000:.1f} ms")
    assert abs(existing - unknown) < max(existing, unknown) * 0.5


def test_an_unverified_email_cannot_ask(client, anna, sign_in_as):
    unverified = factories.identity("kto@example.pl")
    unverified.email_verified = False
    db.session.commit()
    sign_in_as(unverified)

    response = ask(client, anna.number)

    assert response.status_code == 422
    assert "nie potwierdził Twojego adresu e-mail" in page_text(response)
    assert db.session.scalar(select(Delegate)) is None


def test_the_form_needs_a_number_and_a_message(client, marek, sign_in_as):
    sign_in_as(marek)

    response = client.submit("/access/request", {"number": "", "message": ""})

    page = page_text(response)
    assert response.status_code == 422
    assert "Podaj numer klienta." in page and "Napisz klientowi, kim jesteś" in page


def test_the_customer_endorses_with_a_scope_and_moderation_follows(app, client, anna, marek, sign_in_as,
                                                                  smtp_server):
    sign_in_as(marek)
    ask(client, anna.number)
    access_request = db.session.scalar(select(AccessRequest))
    customer = app.test_client()
    sign_in_as(anna.identity, customer)

    refused = customer.submit(f"/account/people/requests/{access_request.id}/endorse", {"rooms": []})
    endorsed = customer.submit(f"/account/people/requests/{access_request.id}/endorse",
                               {"rooms": [str(anna.training.id)], "recordings": "y"})

    assert refused.status_code == 422 and "Wybierz co najmniej jeden pokój." in page_text(refused)
    # the error summary links to this request's rooms (rooms-r<id>), the id the form writes
    refused_page = refused.get_data(as_text=True)
    summary = re.search(r'<div class="error-summary".*?</div>', refused_page, re.S).group(0)
    assert f'href="#rooms-r{access_request.id}"' in summary and f'id="rooms-r{access_request.id}"' in refused_page
    assert endorsed.status_code == 303
    stored = db.session.get(AccessRequest, access_request.id)
    assert stored.status == "pending"
    assert [r.name for r in stored.delegate.rooms] == ["Sala szkoleniowa"] and stored.delegate.recordings
    assert events("access_request_endorsed")[0].customer_id == anna.id

    moderator = factories.identity("ewa@mcx.pl", roles=("moderator",))
    db.session.commit()
    staff = app.test_client()
    sign_in_as(moderator, staff)
    assert f'id="request-{access_request.id}"' in page_text(staff.get("/staff/requests?origin=person"))
    staff.submit(f"/staff/requests/{access_request.id}/approve", {"note": ""})

    delegate = db.session.get(Delegate, stored.delegate_id)
    assert delegate.status == "active" and delegate.identity_id == marek.id  # asked while signed in: bound
    rooms = page_text(client.get("/rooms"))
    assert "Sala szkoleniowa" in rooms and "Sala zarządu" not in rooms
    mail.deliver_due()
    [to_marek] = smtp_server.to("marek@partner.example.pl")
    assert "Zatwierdzono Twój dostęp do pokoi MCX klienta" in to_marek["Subject"]
    assert "http://localhost/rooms" in to_marek.get_content()
    [to_anna] = smtp_server.to("anna@example.pl")
    assert "MCX zatwierdził dostęp dla: Marek Partner" == to_anna["Subject"]


def test_the_customer_declines_and_the_person_is_told(app, client, anna, marek, sign_in_as, smtp_server):
    sign_in_as(marek)
    ask(client, anna.number)
    access_request = db.session.scalar(select(AccessRequest))
    customer = app.test_client()
    sign_in_as(anna.identity, customer)

    response = customer.submit(f"/account/people/requests/{access_request.id}/decline")
    again = customer.submit(f"/account/people/requests/{access_request.id}/decline")

    assert response.status_code == 303 and again.status_code == 404
    stored = db.session.get(AccessRequest, access_request.id)
    assert stored.status == "declined" and stored.delegate.status == "rejected"
    mail.deliver_due()
    [told] = smtp_server.to("marek@partner.example.pl")
    assert f"Klient {anna.number} odrzucił Twoją prośbę" in told.get_content()
    page = page_text(customer.get("/account/people"))
    assert 'data-state="declined"' in page and "Osoby proszące Cię o dostęp" not in page
    # the person may ask again later
    ask(client, anna.number)
    assert db.session.scalar(select(AccessRequest).where(AccessRequest.status == "awaiting_customer")) is not None


def test_access_request_page_is_for_signed_in_people(client):
    response = client.get("/access/request")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_a_person_cannot_flood_customers_with_requests(app, client, anna, marek, sign_in_as):
    """Each request e-mails a customer: a person may send only so many (here 3 an hour); a form
    with a mistake does not count, and other persons are not affected."""
    from portal.extensions import limiter

    app.config["ACCESS_REQUEST_RATE_LIMIT"] = "3 per hour"
    limiter.reset()
    sign_in_as(marek)

    assert ask(client, "", message="").status_code == 422
    assert [ask(client, f"MCX-99999{i}").status_code for i in range(3)] == [303, 303, 303]
    refused = ask(client, anna.number)

    assert refused.status_code == 429, refused.status_code
    assert "Z tego konta wysłano wiele próśb o dostęp w krótkim czasie. Spróbuj ponownie później." in page_text(refused)
    assert db.session.scalars(select(AccessRequest).where(AccessRequest.customer_id == anna.id)).all() == []
    other = app.test_client()
    sign_in_as(factories.identity("ola@partner.example.pl"), other)
    db.session.commit()
    assert ask(other, anna.number).status_code == 303
    assert len(db.session.scalars(select(AccessRequest).where(AccessRequest.customer_id == anna.id)).all()) == 1


def test_two_requests_at_the_same_moment_make_one(app, marek):
    """Two tabs sending the same request at once (each on its own connection, round after round):
    one pending delegation and one request per customer, never two."""
    from portal.auth.models import Identity
    from portal.customers.models import Customer
    from portal.people import services
    from tests.support.threads import at_once

    customers = [factories.customer() for _ in range(10)]
    db.session.commit()
    numbers, marek_id = [c.number for c in customers], marek.id

    def tab(barrier) -> None:
        with app.test_request_context():
            asking = db.session.get(Identity, marek_id)
            for number in numbers:
                barrier.wait(timeout=30)
                services.request_access(asking, number=number, message="Proszę o dostęp", language="pl")
                db.session.commit()
            db.session.remove()

    at_once(tab)

    db.session.expire_all()
    for customer in db.session.scalars(select(Customer).where(Customer.number.in_(numbers))):
        delegations = db.session.scalars(select(Delegate).where(Delegate.customer_id == customer.id)).all()
        requests_ = db.session.scalars(select(AccessRequest).where(AccessRequest.customer_id == customer.id)).all()
        assert (len(delegations), len(requests_)) == (1, 1), customer.number

