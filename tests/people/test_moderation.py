"""The moderators' queue: oldest first with age, filters, keyset pages, masked contact data with
a logged reveal, decisions that happen exactly once, and the e-mails that follow."""
from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select

from portal import mail
from portal.audit import AuditEvent
from portal.db_types import utcnow
from portal.extensions import db
from portal.people import services
from portal.people.models import AccessRequest
from tests import factories
from tests.people.helpers import count_statements, events, page_text

MODERATION_ROUTES = [
    ("GET", "/staff/requests"),
    ("GET", "/staff/requests/{id}"),
    ("POST", "/staff/requests/{id}/reveal"),
    ("POST", "/staff/requests/{id}/approve"),
    ("POST", "/staff/requests/{id}/reject"),
]


def pending_request(customer, *, name="Jan Nowak", email="jan.nowak@example.pl", age=timedelta(0),
                    origin="customer", recordings=False, rooms=None, requester=None):
    delegate = factories.delegate(customer, rooms=rooms or [], recordings=recordings, status="pending")
    delegate.name, delegate.email = name, email
    if requester is not None:
        delegate.identity_id = requester.id
    access_request = AccessRequest(customer_id=customer.id, delegate_id=delegate.id, origin=origin,
                                   status="pending", created_at=utcnow() - age,
                                   requester_identity_id=requester.id if requester else None,
                                   message="Pracuję w dziale sprzedaży" if origin == "person" else None)
    db.session.add(access_request)
    db.session.flush()
    return access_request


@pytest.fixture
def anna(app):
    customer = factories.customer(first_name="Anna", last_name="Kowalska", email="anna.kowalska@example.pl")
    customer.board = factories.room(customer, "Sala zarządu")
    customer.identity = factories.identity("anna.kowalska@example.pl", customer=customer)
    db.session.commit()
    return customer


@pytest.fixture
def ewa(app):
    identity = factories.identity("ewa@mcx.pl", roles=("moderator",))
    db.session.commit()
    return identity


@pytest.fixture
def moderator_client(client, ewa, sign_in_as):
    sign_in_as(ewa)
    return client


def cards(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'<article class="card request-card" id="request-(\d+)"', page)]


def test_queue_lists_pending_requests_oldest_first_with_their_age(moderator_client, anna):
    newer = pending_request(anna, email="a@example.pl", age=timedelta(hours=2))
    oldest = pending_request(anna, email="b@example.pl", age=timedelta(days=3))
    decided = pending_request(anna, email="c@example.pl", age=timedelta(days=5))
    decided.status = "approved"
    db.session.commit()

    page = page_text(moderator_client.get("/staff/requests"))

    assert cards(page) == [oldest.id, newer.id]
    ages = re.findall(r'<dd class="age">([^<]+)</dd>', page)
    assert ages == ["3 dni temu", "2 godziny temu"]
    assert "2 wnioski czekają na decyzję." in page


def test_queue_masks_contact_data(moderator_client, anna):
    pending_request(anna)
    db.session.commit()

    page = page_text(moderator_client.get("/staff/requests"))

    assert "jan.nowak@example.pl" not in page and "Jan Nowak" not in page
    assert "anna.kowalska@example.pl" not in page and "Kowalska" not in page
    assert "j***@example.pl" in page and "J. N***" in page
    assert "a***@example.pl" in page and "A. K***" in page


def test_reveal_shows_the_data_and_is_logged_with_the_customer_id(moderator_client, anna, ewa):
    access_request = pending_request(anna)
    db.session.commit()

    plain = moderator_client.submit(f"/staff/requests/{access_request.id}/reveal")
    fragment = moderator_client.submit(f"/staff/requests/{access_request.id}/reveal",
                                       headers={"HX-Request": "true", "HX-Target": f"request-{access_request.id}"})

    assert plain.status_code == 200 and "<html" in page_text(plain)
    for response in (plain, fragment):
        page = page_text(response)
        assert "jan.nowak@example.pl" in page and "Jan Nowak" in page and "anna.kowalska@example.pl" in page
    assert page_text(fragment).startswith("<article") and "HX-Request" in fragment.vary
    revealed = events("personal_data_revealed")
    assert len(revealed) == 2
    assert {(e.customer_id, e.actor_identity_id, e.details["request_id"]) for e in revealed} == {
        (anna.id, ewa.id, access_request.id)}


def test_the_customer_sees_the_reveal_and_the_decision_in_the_activity_log(app, moderator_client, anna,
                                                                          sign_in_as):
    access_request = pending_request(anna)
    db.session.commit()
    moderator_client.submit(f"/staff/requests/{access_request.id}/reveal")
    moderator_client.submit(f"/staff/requests/{access_request.id}/approve", {"note": ""})
    customer = app.test_client()
    sign_in_as(anna.identity, customer)

    page = page_text(customer.get("/account/activity"))

    revealed = re.search(r'<tr data-kind="personal_data_revealed">.*?</tr>', page, re.S).group(0)
    assert "Moderator MCX wyświetlił dane kontaktowe" in revealed
    assert '<tr data-kind="access_request_approved">' in page


def test_filters_narrow_the_queue(moderator_client, anna):
    olga = factories.customer()
    by_customer = pending_request(anna, email="a@example.pl", age=timedelta(days=2))
    with_recordings = pending_request(anna, email="b@example.pl", recordings=True, age=timedelta(days=1))
    asking = factories.identity("c@example.pl")
    by_person = pending_request(olga, email="c@example.pl", origin="person", requester=asking)
    db.session.commit()

    def queue(query):
        return cards(page_text(moderator_client.get(f"/staff/requests?{query}")))

    assert queue("") == [by_customer.id, with_recordings.id, by_person.id]
    assert queue("origin=person") == [by_person.id]
    assert queue("origin=customer") == [by_customer.id, with_recordings.id]
    assert queue(f"number={olga.number}") == [by_person.id]
    assert queue("recordings=yes") == [with_recordings.id]
    assert queue("recordings=no&origin=customer") == [by_customer.id]
    assert queue("number=MCX-NOPE") == []


def test_filters_answer_the_queue_alone_to_htmx(moderator_client, anna):
    pending_request(anna)
    db.session.commit()

    response = moderator_client.get("/staff/requests?origin=customer", headers={"HX-Request": "true",
                                                                               "HX-Target": "queue"})

    assert page_text(response).startswith('<div id="queue">')


def test_keyset_pages_walk_the_whole_queue_once(moderator_client, anna, monkeypatch):
    from portal.people import moderation

    monkeypatch.setattr(moderation, "PAGE_SIZE", 4)
    same_moment = utcnow() - timedelta(days=1)
    made = []
    for n in range(10):
        access_request = pending_request(anna, email=f"p{n}@example.pl", age=timedelta(minutes=100 - n))
        if n in (4, 5, 6):  # ties on created_at are ordered by id
            access_request.created_at = same_moment
        made.append(access_request)
    db.session.commit()
    expected = [r.id for r in sorted(made, key=lambda r: (r.created_at, r.id))]

    seen, url, pages = [], "/staff/requests", 0
    while url:
        page = page_text(moderator_client.get(url))
        seen += cards(page)
        pages += 1
        found = re.search(r'<a href="([^"]+)" rel="next">', page)
        url = found.group(1).replace("&amp;", "&") if found else None

    assert seen == expected and pages == 3


def test_a_page_costs_the_same_queries_however_long_the_queue(moderator_client, anna):
    for n in range(3):
        pending_request(anna, email=f"a{n}@example.pl", rooms=[anna.board])
    db.session.commit()
    few = count_statements(lambda: moderator_client.get("/staff/requests"))
    other = factories.customer()
    for n in range(40):
        pending_request(other if n % 2 else anna, email=f"b{n}@example.pl", rooms=[anna.board],
                        origin="person" if n % 3 else "customer", requester=factories.identity())
    db.session.commit()

    many = count_statements(lambda: moderator_client.get("/staff/requests"))

    assert many == few


def test_approval_with_a_note_invites_the_person_and_tells_the_customer(moderator_client, anna, ewa, smtp_server):
    access_request = pending_request(anna, rooms=[anna.board], recordings=True)
    db.session.commit()

    response = moderator_client.submit(f"/staff/requests/{access_request.id}/approve",
                                       {"note": "Zweryfikowano telefonicznie", "next": "/staff/requests"})

    assert response.status_code == 303 and response.headers["Location"] == "/staff/requests"
    stored = db.session.get(AccessRequest, access_request.id)
    assert (stored.status, stored.decided_by_id, stored.decision_note) == ("approved", ewa.id,
                                                                           "Zweryfikowano telefonicznie")
    assert stored.delegate.status == "invited"
    mail.deliver_due()
    [invitation] = smtp_server.to("jan.nowak@example.pl")
    assert "zaprasza Cię do korzystania" in invitation["Subject"]
    body = invitation.get_content()
    assert "Sala zarządu" in body and "http://localhost/" in body and "jan.nowak@example.pl" in body
    [notice] = smtp_server.to("anna.kowalska@example.pl")
    assert notice["Subject"] == "MCX zatwierdził dostęp dla: Jan Nowak"
    assert "Uwaga od MCX: Zweryfikowano telefonicznie" in notice.get_content()
    [approved] = events("access_request_approved")
    assert approved.customer_id == anna.id and approved.actor_identity_id == ewa.id
    people = page_text(moderator_client.get("/staff/requests"))
    assert cards(people) == []


def test_rejection_needs_a_reason_and_keeps_the_request_pending(moderator_client, anna):
    access_request = pending_request(anna)
    db.session.commit()

    plain = moderator_client.submit(f"/staff/requests/{access_request.id}/reject", {"reason": "  "})
    fragment = moderator_client.submit(f"/staff/requests/{access_request.id}/reject", {"reason": ""},
                                       headers={"HX-Request": "true", "HX-Target": f"request-{access_request.id}"})

    assert plain.status_code == 422
    assert re.search(rf'id="reason-{access_request.id}-error"[^>]*>Podaj powód odrzucenia\.<', page_text(plain))
    assert fragment.status_code == 422 and "Podaj powód odrzucenia." in page_text(fragment)
    assert db.session.get(AccessRequest, access_request.id).status == "pending"


def test_rejection_tells_the_customer_why(moderator_client, anna, smtp_server):
    access_request = pending_request(anna)
    db.session.commit()

    moderator_client.submit(f"/staff/requests/{access_request.id}/reject", {"reason": "Nieznana osoba"})

    stored = db.session.get(AccessRequest, access_request.id)
    assert stored.status == "rejected" and stored.delegate.status == "rejected"
    mail.deliver_due()
    [notice] = smtp_server.to("anna.kowalska@example.pl")
    assert notice["Subject"] == "MCX nie zatwierdził dostępu dla: Jan Nowak"
    assert "Nieznana osoba" in notice.get_content()
    assert smtp_server.to("jan.nowak@example.pl") == []  # nobody invites a rejected person


def test_the_customer_sees_the_decision_on_the_people_page(app, moderator_client, anna, sign_in_as):
    access_request = pending_request(anna)
    db.session.commit()
    moderator_client.submit(f"/staff/requests/{access_request.id}/reject", {"reason": "Brak umowy"})
    customer = app.test_client()
    sign_in_as(anna.identity, customer)

    page = page_text(customer.get("/account/people"))

    assert 'data-state="rejected"' in page and "Uwaga od MCX: Brak umowy" in page


def test_a_second_decision_is_refused_and_says_so(moderator_client, anna):
    access_request = pending_request(anna)
    db.session.commit()
    moderator_client.submit(f"/staff/requests/{access_request.id}/approve", {"note": ""})

    again = moderator_client.submit(f"/staff/requests/{access_request.id}/reject", {"reason": "Za późno"},
                                    headers={"HX-Request": "true", "HX-Target": f"request-{access_request.id}"})

    assert "Ten wniosek został już rozstrzygnięty (zatwierdzony); niczego nie zmieniono." in page_text(again)
    stored = db.session.get(AccessRequest, access_request.id)
    assert stored.status == "approved" and stored.decision_note is None
    assert len(events("access_request_approved")) == 1 and events("access_request_rejected") == []


def test_a_moderator_cannot_decide_a_request_about_their_own_account(client, anna, sign_in_as):
    both = factories.identity("owner-moderator@example.pl", roles=("moderator",))
    both.customer_id = anna.id
    anna.identity.customer_id = None
    db.session.flush()
    access_request = pending_request(anna)
    db.session.commit()
    sign_in_as(both)

    page = page_text(client.get("/staff/requests"))
    response = client.submit(f"/staff/requests/{access_request.id}/approve", {"note": ""})

    assert "inny moderator" in page and f'action="/staff/requests/{access_request.id}/approve"' not in page
    assert response.status_code == 303
    assert db.session.get(AccessRequest, access_request.id).status == "pending"


@pytest.mark.parametrize("who", ["customer", "delegate", "privacy officer", "signed-in stranger"])
@pytest.mark.parametrize("method, url", MODERATION_ROUTES)
def test_moderation_routes_refuse_everyone_but_moderators(app, client, anna, sign_in_as, who, method, url):
    access_request = pending_request(anna)
    identity = {
        "customer": lambda: anna.identity,
        "delegate": lambda: factories.identity("jan@example.pl"),
        "privacy officer": lambda: factories.identity("iod@mcx.pl", roles=("privacy_officer",)),
        "signed-in stranger": lambda: factories.identity("x@example.pl"),
    }[who]()
    if who == "delegate":
        factories.delegate(anna, identity, rooms=[anna.board])
    db.session.commit()
    sign_in_as(identity)
    url = url.format(id=access_request.id)

    response = client.get(url) if method == "GET" else client.submit(url, {"note": "x", "reason": "x"})

    assert response.status_code == 403
    assert "Brak dostępu" in page_text(response)
    assert db.session.get(AccessRequest, access_request.id).status == "pending"
    assert events("personal_data_revealed") == []


def test_moderation_routes_send_a_visitor_to_sign_in(client, anna):
    access_request = pending_request(anna)
    db.session.commit()
    for method, url in MODERATION_ROUTES:
        url = url.format(id=access_request.id)
        response = client.get(url) if method == "GET" else client.submit(url)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"], url


def test_an_unknown_request_is_404_for_a_moderator(moderator_client):
    assert moderator_client.get("/staff/requests/999999").status_code == 404
    assert moderator_client.submit("/staff/requests/999999/approve").status_code == 404


# --- two moderators at the same moment ---------------------------------------------------------

def test_two_moderators_deciding_at_once_one_wins_the_other_is_told(app, anna):
    """Two threads, each with its own connection, decide the same request at the same moment.

    The winner's UPDATE holds the row (PostgreSQL) or the write lock (SQLite) while it finishes;
    the other UPDATE waits for it, finds the request no longer pending and changes nothing.
    """
    access_request = pending_request(anna, rooms=[anna.board])
    first = factories.identity("ewa@mcx.pl", roles=("moderator",))
    second = factories.identity("piotr@mcx.pl", roles=("moderator",))
    db.session.commit()
    request_id = access_request.id
    start = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def slow_winner(conn, cursor, statement, parameters, context, executemany):
        # the thread whose UPDATE changed the row keeps its transaction open a moment longer,
        # so the other thread's UPDATE surely arrives while the row is still taken
        if statement.lstrip().upper().startswith("UPDATE ACCESS_REQUESTS") and cursor.rowcount == 1:
            threading.Event().wait(0.3)

    def decide(name, moderator_id, approve):
        # a request context, as in a view: the e-mails need the portal's address
        with app.test_request_context():
            try:
                moderator = db.session.get(type(first), moderator_id)
                target = db.session.get(AccessRequest, request_id)
                start.wait(timeout=10)
                services.decide(target, moderator, approve=approve, note=None if approve else "Nie")
                db.session.commit()
                outcomes[name] = "decided"
            except services.AlreadyDecided as refused:
                db.session.rollback()
                outcomes[name] = refused.message
            finally:
                db.session.remove()

    event.listen(db.engine, "after_cursor_execute", slow_winner)
    try:
        threads = [threading.Thread(target=decide, args=("ewa", first.id, True)),
                   threading.Thread(target=decide, args=("piotr", second.id, False))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(db.engine, "after_cursor_execute", slow_winner)

    db.session.expire_all()
    assert sorted(outcomes) == ["ewa", "piotr"]
    assert list(outcomes.values()).count("decided") == 1
    [loser_message] = [m for m in outcomes.values() if m != "decided"]
    stored = db.session.get(AccessRequest, request_id)
    winner = "ewa" if outcomes["ewa"] == "decided" else "piotr"
    assert stored.status == ("approved" if winner == "ewa" else "rejected")
    assert stored.decided_by_id == (first.id if winner == "ewa" else second.id)
    assert str(loser_message).startswith("This request was already decided") or "już rozstrzygnięty" in str(loser_message)
    assert stored.delegate.status == ("invited" if winner == "ewa" else "rejected")
    decisions = db.session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.kind.in_(["access_request_approved", "access_request_rejected"])))
    assert decisions == 1
    from portal.mail import OutboxMessage
    kinds = sorted(db.session.scalars(select(OutboxMessage.kind)))
    assert kinds == (["people_decision", "people_invitation"] if winner == "ewa" else ["people_decision"])
