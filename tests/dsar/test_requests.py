"""Data-subject requests: filed by the customer, answered, extended once and closed by privacy
officers, exactly once, never by the customer's own staff member (GDPR art. 12, 15-21)."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.db_types import local_today
from portal.dsar.models import DataSubjectRequest
from portal.extensions import db
from portal.mail import OutboxMessage
from tests import factories


def file(client, kind="objection", text="I object to the use of my phone number for product news."):
    return client.submit("/account/requests", {"kind": kind, "text": text})


def only_case() -> DataSubjectRequest:
    db.session.expire_all()
    return db.session.scalars(select(DataSubjectRequest)).one()


def mails(kind: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)))


def test_a_customer_files_a_request_and_gets_a_case_number_a_due_date_and_an_acknowledgement(customer_client):
    answer = file(customer_client)
    assert answer.status_code == 303
    page = customer_client.get(answer.headers["Location"]).get_data(as_text=True)
    case = only_case()
    assert re.fullmatch(r"DSR-\d{4}-\d{6}", case.case_number)
    assert case.case_number in page and "Otrzymaliśmy Twój wniosek" in page
    assert case.due_on > local_today() and (case.due_on - local_today()).days <= 31
    [ack] = mails("dsar_received")
    assert ack.to_address == customer_client.customer.email and case.case_number in ack.subject
    assert case.due_on.strftime("%Y") in ack.body
    assert db.session.scalar(select(AuditEvent.kind).where(AuditEvent.kind == "dsar_filed")) == "dsar_filed"


@pytest.mark.parametrize("data", [{"kind": "objection", "text": ""}, {"kind": "sell_my_data", "text": "x"},
                                  {"kind": "objection", "text": "x" * 4001}])
def test_a_request_needs_a_known_kind_and_a_bounded_text(customer_client, data):
    answer = customer_client.submit("/account/requests", data)
    assert answer.status_code == 400 and 'aria-invalid="true"' in answer.get_data(as_text=True)
    assert db.session.scalar(select(DataSubjectRequest.id)) is None


def test_staff_extend_once_with_a_reason_the_customer_reads(customer_client, officer_client):
    file(customer_client)
    case = only_case()
    first_due = case.due_on
    answer = officer_client.submit(f"/staff/data-requests/{case.id}/extend", {"reason": "Many recordings to review."})
    assert answer.status_code == 303
    case = only_case()
    assert case.due_on > first_due + timedelta(days=55)
    again = officer_client.submit(f"/staff/data-requests/{case.id}/extend", {"reason": "Once more."})
    assert again.status_code in (400, 409)
    assert only_case().due_on == case.due_on and only_case().extension_reason == "Many recordings to review."
    page = customer_client.get("/account/requests").get_data(as_text=True)
    assert "Many recordings to review." in page
    assert len(mails("dsar_extended")) == 1


def test_an_answer_reaches_the_customer_in_the_portal_and_by_email(customer_client, officer_client):
    file(customer_client)
    case = only_case()
    officer_client.submit(f"/staff/data-requests/{case.id}/answer", {"text": "We stopped using your phone for news."})
    assert "We stopped using your phone for news." in customer_client.get("/account/requests").get_data(as_text=True)
    [sent] = mails("dsar_answered")
    assert "We stopped using your phone for news." in sent.body


def test_a_refusal_needs_its_reason_and_closes_the_case_once(customer_client, officer_client):
    file(customer_client)
    case = only_case()
    assert officer_client.submit(f"/staff/data-requests/{case.id}/close", {"outcome": "refused"}).status_code == 400
    assert only_case().status == "open"
    closed = officer_client.submit(f"/staff/data-requests/{case.id}/close",
                                   {"outcome": "refused", "reason": "The processing is required by law."})
    assert closed.status_code == 303 and only_case().status == "refused"
    late = officer_client.submit(f"/staff/data-requests/{case.id}/close", {"outcome": "done"})
    assert late.status_code == 409 and only_case().status == "refused"
    page = customer_client.get("/account/requests").get_data(as_text=True)
    assert "The processing is required by law." in page and 'data-status="refused"' in page
    [sent] = mails("dsar_refused")
    assert "UODO" in sent.body


def test_nobody_decides_their_own_case(app, sign_in_as):
    officer_customer = factories.customer()
    officer = factories.identity(customer=officer_customer, roles=("privacy_officer",))
    db.session.commit()
    client = app.test_client()
    sign_in_as(officer, client)
    file(client)
    case = only_case()
    assert "rozstrzygnąć ją musi inny inspektor" in client.get(f"/staff/data-requests/{case.id}").get_data(as_text=True)
    for action, data in (("extend", {"reason": "r"}), ("answer", {"text": "t"}),
                         ("close", {"outcome": "done", "reason": ""})):
        assert client.submit(f"/staff/data-requests/{case.id}/{action}", data).status_code == 409
    assert only_case().status == "open" and only_case().extended_at is None and not only_case().answers


def test_the_queue_lists_open_cases_by_due_date_and_marks_overdue_ones(customer_client, officer_client):
    for _ in range(3):
        file(customer_client)
    cases = sorted(db.session.scalars(select(DataSubjectRequest)), key=lambda c: c.id)
    cases[2].due_on = local_today() - timedelta(days=2)  # overdue
    cases[0].due_on = local_today() + timedelta(days=20)
    db.session.commit()
    page = officer_client.get("/staff/data-requests").get_data(as_text=True)
    order = re.findall(r'data-case="(DSR-\d{4}-\d{6})" data-overdue="(yes|no)"', page)
    assert order == [(cases[2].case_number, "yes"), (cases[0].case_number, "no"), (cases[1].case_number, "no")]
    assert "2 dni po terminie" in page


def test_the_queue_pages_by_keyset(customer_client, officer_client, monkeypatch):
    from portal.dsar import queue

    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    for _ in range(5):
        file(customer_client)
    seen, url = [], "/staff/data-requests"
    while url:
        page = officer_client.get(url).get_data(as_text=True)
        seen += re.findall(r'data-case="(DSR-\d{4}-\d{6})"', page)
        more = re.search(r'rel="next" href="([^"]+)"', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert sorted(seen) == sorted(c.case_number for c in db.session.scalars(select(DataSubjectRequest)))
    assert len(seen) == 5


def test_the_data_page_and_the_export_list_the_requests_and_answers(customer_client, officer_client):
    file(customer_client)
    case = only_case()
    officer_client.submit(f"/staff/data-requests/{case.id}/answer", {"text": "Your answer text."})
    page = customer_client.get("/account/data").get_data(as_text=True)
    assert case.case_number in page and "Your answer text." in page
    text = customer_client.get("/account/export.json").get_data(as_text=True)
    assert case.case_number in text and "Your answer text." in text


def test_the_customer_sees_the_request_in_the_activity_log(customer_client):
    file(customer_client)
    page = customer_client.get("/account/activity").get_data(as_text=True)
    assert 'data-kind="dsar_filed"' in page


@pytest.mark.parametrize("path", ["/account/requests", "/staff/data-requests"])
def test_statements_per_page_do_not_grow_with_the_requests(customer_client, officer_client, path):
    from tests.staff.conftest import counted_statements

    client = customer_client if path.startswith("/account") else officer_client
    counts = []
    for filed in (1, 8):
        while db.session.scalar(select(func.count()).select_from(DataSubjectRequest)) < filed:
            file(customer_client)
        case = db.session.scalars(select(DataSubjectRequest).order_by(DataSubjectRequest.id.desc())).first()
        officer_client.submit(f"/staff/data-requests/{case.id}/answer", {"text": "Odpowiedź."})
        with counted_statements() as statements:
            assert client.get(path).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]
