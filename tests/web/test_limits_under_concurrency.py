"""No rate limit and no "one open request" rule can be passed by sending many requests at the same
moment: eight browsers of one person post at once, each on its own connection, through the whole
portal (CSRF, sign-in, limiter, service, database). Runs on SQLite and PostgreSQL."""
from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.consents.models import ConsentEvent
from portal.extensions import db, limiter
from portal.people.models import AccessRequest
from portal.termination.models import TerminationRequest
from tests import factories
from tests.support.threads import at_once

AT_ONCE = 8


def count(model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def race(app, identity, send) -> list[int]:
    """`send(client, token)` in AT_ONCE threads at the same moment, each a browser signed in as
    `identity` with its CSRF token already loaded; returns the status codes."""
    browsers = []
    for _ in range(AT_ONCE):
        client = app.test_client()
        factories.signed_in(client, identity)
        browsers.append((client, client.csrf_token()))
    statuses: list[int] = []
    lock, turn = threading.Lock(), iter(range(AT_ONCE))

    def work(barrier: threading.Barrier) -> None:
        with lock:
            client, token = browsers[next(turn)]
        with app.app_context():  # the thread's own, as a server thread has
            barrier.wait(timeout=30)
            response = send(client, token)
            db.session.remove()
        with lock:
            statuses.append(response.status_code)

    at_once(work, count=AT_ONCE)
    return sorted(statuses)


@pytest.fixture(autouse=True)
def fresh_counters(app):
    limiter.reset()  # the in-memory counters are the process's: start from none
    yield
    limiter.reset()


def test_one_termination_request_however_many_submissions_at_once(app):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    db.session.commit()

    statuses = race(app, owner, lambda client, token: client.post(
        "/account/termination/request", data={"csrf_token": token, "customer_number": customer.number}))

    assert all(status < 500 for status in statuses), statuses
    assert count(TerminationRequest, TerminationRequest.customer_id == customer.id) == 1
    assert count(AuditEvent, AuditEvent.kind == "termination_requested") == 1


def test_the_access_request_limit_holds_at_once(app):
    app.config["ACCESS_REQUEST_RATE_LIMIT"] = "3 per hour"
    numbers = iter([factories.customer().number for _ in range(AT_ONCE)])
    asking = factories.identity("marek@partner.example.pl")
    db.session.commit()
    lock = threading.Lock()

    def send(client, token):
        with lock:
            number = next(numbers)
        return client.post("/access/request", data={"csrf_token": token, "number": number,
                                                    "message": "Proszę o dostęp do sali"})

    statuses = race(app, asking, send)

    assert statuses == [303] * 3 + [429] * (AT_ONCE - 3)
    assert count(AccessRequest) == 3


def test_one_access_request_per_customer_however_many_at_once(app):
    customer = factories.customer()
    asking = factories.identity("marek@partner.example.pl")
    db.session.commit()

    statuses = race(app, asking, lambda client, token: client.post(
        "/access/request", data={"csrf_token": token, "number": customer.number, "message": "Proszę o dostęp"}))

    assert all(status < 500 for status in statuses), statuses
    assert count(AccessRequest, AccessRequest.customer_id == customer.id) == 1


def test_the_same_consent_given_at_once_is_one_change(app):
    customer = factories.customer()
    owner = factories.identity(customer=customer)
    db.session.commit()
    before = count(ConsentEvent, ConsentEvent.customer_id == customer.id, ConsentEvent.channel == "sms")

    statuses = race(app, owner, lambda client, token: client.post(
        "/account/consents/sms", data={"csrf_token": token, "granted": "1"}))

    assert statuses == [303] * AT_ONCE
    assert count(ConsentEvent, ConsentEvent.customer_id == customer.id, ConsentEvent.channel == "sms") == before + 1


def test_the_sign_in_limit_holds_at_once(app):
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    statuses: list[int] = []
    lock = threading.Lock()

    def work(barrier: threading.Barrier) -> None:
        client = app.test_client()
        with app.app_context():
            barrier.wait(timeout=30)
            status = client.get("/auth/login?provider=mcx").status_code
        with lock:
            statuses.append(status)

    at_once(work, count=AT_ONCE)

    assert sorted(statuses) == [302] * 3 + [429] * (AT_ONCE - 3)
