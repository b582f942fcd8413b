"""Few SQL statements per page, whatever the data (issue #15, item 3).

Each page is visited with a small account and with one ten times larger (rooms, recordings,
delegates, access requests, consent and audit events): the number of statements a page runs
must not grow with the data, and every customer page stays at six or fewer. Signed-in context
(session, identity, customer, page notices) comes in at most two of them.
"""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from portal import audit
from portal.db_types import utcnow
from portal.extensions import db
from tests import factories
from tests.account.conftest import counted_statements

CUSTOMER_PAGES = ["/account/", "/account/consents", "/account/people", "/rooms", "/account/activity",
                  "/account/sessions", "/account/data", "/account/contact", "/account/termination",
                  "/account/requests", "/rooms/receipts"]
DELEGATE_PAGES = ["/account/", "/rooms", "/account/sessions"]
STAFF_PAGES = {"moderator": ["/staff/requests", "/staff", "/staff/customers"],
               "privacy_officer": ["/staff/terminations", "/staff", "/staff/data-requests", "/staff/audit"]}
MOST_PER_PAGE = 6
# the sessions page shows one statement-free page around the signed-in context: the bare minimum
# a signed-in request costs is the context itself
MOST_FOR_CONTEXT = 2


def build_account(app, scale: int) -> dict:
    """A customer with `scale` rooms of 2 recordings each, `scale` delegates, `scale` access
    requests waiting for them, `scale` consent events and audit events, an unacknowledged policy
    and a termination pending; a delegate of theirs, a moderator and a privacy officer."""
    from portal.people.models import AccessRequest, AccessRequestStatus
    from portal.termination.models import TerminationRequest

    factories.policy_version("1.0")
    customer = factories.customer(kind="company", company_name="Firma Sp. z o.o.", tax_id="5260250995")
    owner = factories.identity(customer.email, customer=customer)
    rooms = [factories.room(customer, f"Sala {i}") for i in range(scale)]
    for room in rooms:
        factories.recording(room, f"Nagranie {room.name} 1")
        factories.recording(room, f"Nagranie {room.name} 2")
    person = factories.identity()
    factories.delegate(customer, person, rooms=rooms, recordings=True)
    for i in range(scale):
        factories.delegate(customer, None, rooms=rooms[:2], recordings=bool(i % 2))
        asking = factories.identity()
        pending = factories.delegate(customer, asking, rooms=[], status="pending")
        db.session.add(AccessRequest(customer_id=customer.id, delegate_id=pending.id, origin="person",
                                     requester_identity_id=asking.id, message=f"Prośba {i}",
                                     status=AccessRequestStatus.AWAITING_CUSTOMER))
        factories.consent_event(customer, ("email", "sms", "phone")[i % 3], bool(i % 2))
        audit.record("contact_email_changed", actor_id=owner.id, customer_id=customer.id, field="email")
    db.session.add(TerminationRequest(customer_id=customer.id, requested_by_id=owner.id,
                                      effective_on=date.today() + timedelta(days=40), confirmed_at=utcnow(),
                                      confirmation_due_on=date.today() + timedelta(days=14)))
    staff = {role: factories.identity(roles=(role,)) for role in ("moderator", "privacy_officer")}
    db.session.commit()
    return {"customer": owner, "delegate": person, **staff}


def statements_per_page(app, client, pages) -> dict[str, int]:
    counts = {}
    for url in pages:
        client.get(url)  # a first visit may warm caches (e.g. the provider's discovery); count the next
        with counted_statements() as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[url] = len(statements)
    return counts


def measure(app, scale: int) -> dict[str, dict[str, int]]:
    people = build_account(app, scale)
    measured = {}
    for who, pages in (("customer", CUSTOMER_PAGES), ("delegate", DELEGATE_PAGES),
                       ("moderator", STAFF_PAGES["moderator"]),
                       ("privacy_officer", STAFF_PAGES["privacy_officer"])):
        client = app.test_client()
        factories.signed_in(client, people[who])
        measured[who] = statements_per_page(app, client, pages)
    return measured


@pytest.fixture
def small_and_large(app):
    from tests.conftest import _empty_database

    small = measure(app, 2)
    db.session.remove()
    _empty_database()
    large = measure(app, 20)
    print("\nstatements per page (small, large):")
    for who in small:
        for url in small[who]:
            print(f"  {who:16} {url:24} {small[who][url]:3} {large[who][url]:3}")
    return small, large


def test_every_customer_page_runs_at_most_six_statements(small_and_large):
    small, large = small_and_large
    for who in ("customer", "delegate"):
        for url, count in large[who].items():
            assert count <= MOST_PER_PAGE, (who, url, count)


def test_no_page_runs_more_statements_for_more_data(small_and_large):
    small, large = small_and_large
    assert small == large


def test_session_identity_customer_notices_and_navigation_come_in_two_statements(app, client):
    """What every signed-in page shows around its content: who is signed in (session, identity,
    staff roles, customer, contract), the notices and the navigation."""
    from flask import render_template_string

    people = build_account(app, 2)
    factories.signed_in(client, people["customer"])
    client.get("/account/sessions")  # a first request may write last_seen; the next one reads only
    with counted_statements() as statements:
        with app.test_request_context("/account/sessions", headers={"Cookie": _cookie(client)}):
            page = render_template_string(
                "{{ current_user.name }} {{ current_user.customer.number }} {{ current_user.customer.contract.number }}"
                " {{ current_user.has_role('moderator') }}"
                "{% for n in page_notices() %}|{{ n.message }}{% endfor %}"
                "{% for url, label, endpoint in nav_items() %}|{{ endpoint }}{% endfor %}")
    assert len(statements) <= MOST_FOR_CONTEXT, statements
    # the facts were really read: all three notices and the customer's navigation are there
    # the facts were really read: the three notices (policy, persons asking, termination) and the
    # customer's navigation
    notices = page.split("|")[1:4]
    ends = date.today() + timedelta(days=40)
    assert "1.0" in notices[0] and notices[1].startswith("2 ") and str(ends.year) in notices[2], page
    assert {"people.index", "transparency.data", "rooms.index"} <= set(page.split("|")), page
    assert "people.index" in page and "transparency.data" in page, page


def _cookie(client) -> str:
    name = client.application.config["SESSION_COOKIE_NAME"]
    return f"{name}={client.get_cookie(name).value}"
