"""The privacy officers' queue: 14-day confirmation deadlines, masked data, confirmation exactly once."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from babel.dates import format_date as babel_date  # the portal writes days as "31 grudnia 2026"
from flask_babel import force_locale
from sqlalchemy import event, func, select

from portal import mail
from portal.audit import AuditEvent
from portal.db_types import local_today
from portal.extensions import db
from portal.termination import services
from portal.termination.models import TerminationRequest, TerminationStatus
from portal.web.phrases import day
from tests import factories
from tests.termination.conftest import RECEIVED, make_account, requested_termination


@pytest.fixture
def officer(client, sign_in_as):
    person = factories.identity("iod@mcx.pl", roles=("privacy_officer",))
    sign_in_as(person)
    return person


@contextmanager
def counted_statements():
    statements = []

    def count(*_args):
        statements.append(1)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


@pytest.mark.parametrize("who", ["customer", "moderator", "delegate"])
def test_only_privacy_officers_reach_the_queue(client, sign_in_as, account, who):
    requested = requested_termination(account)
    person = {"customer": account.owner, "delegate": account.delegate_identity,
              "moderator": factories.identity(roles=("moderator",))}[who]
    db.session.commit()
    sign_in_as(person)

    assert client.get("/staff/terminations").status_code == 403
    assert client.submit(f"/staff/terminations/{requested.id}/confirm").status_code == 403
    assert db.session.get(TerminationRequest, requested.id).confirmed_at is None


def test_anonymous_is_sent_to_sign_in(client, account):
    requested = requested_termination(account)
    assert "/auth/login" in client.get("/staff/terminations").headers["Location"]
    assert client.submit(f"/staff/terminations/{requested.id}/confirm").status_code == 302


def test_queue_shows_deadlines_with_personal_data_masked(client, app, officer):
    account = make_account(app, first_name="Anna", last_name="Kowalska", email="anna.kowalska@przyklad.pl")
    termination = requested_termination(account)

    page = client.get("/staff/terminations").get_data(as_text=True)

    assert account.customer.number in page
    assert "A. K***" in page and "a***@przyklad.pl" in page
    assert "Kowalska" not in page and "anna.kowalska@przyklad.pl" not in page
    due = RECEIVED + timedelta(days=14)
    assert termination.confirmation_due_on == due
    assert f'data-confirmation-due="{due.isoformat()}"' in page
    # RECEIVED lies in the past, so the deadline has passed
    assert "po terminie" in page


def test_a_deadline_still_ahead_shows_the_days_left(client, app, account, officer):
    termination = requested_termination(account)
    termination.confirmation_due_on = local_today() + timedelta(days=9)
    db.session.commit()

    page = client.get("/staff/terminations").get_data(as_text=True)

    assert "zostało 9 dni" in page and "po terminie" not in page


def test_confirming_sends_the_durable_confirmation_once(client, account, officer, smtp_server, sign_in_as):
    termination = requested_termination(account)

    response = client.submit(f"/staff/terminations/{termination.id}/confirm")

    assert response.status_code == 303
    stored = db.session.get(TerminationRequest, termination.id)
    assert stored.confirmed_at is not None and stored.confirmed_by_id == officer.id
    event_ = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "termination_confirmed"))
    assert event_.customer_id == account.customer.id and event_.actor_identity_id == officer.id
    mail.deliver_due()
    [message] = smtp_server.to(account.customer.email)
    body = message.get_content()
    assert message["Subject"] == "Potwierdzenie wypowiedzenia Twojej umowy"
    assert f"Data rozwiązania umowy: {babel_date(termination.effective_on, 'd MMMM y', locale='pl')}" in body
    assert "Pokój wideokonferencyjny z nagrywaniem" in body  # the service, by name
    assert "http://localhost/account/termination/confirmation" in body

    again = client.submit(f"/staff/terminations/{termination.id}/confirm", follow_redirects=True)

    assert "To wypowiedzenie zostało już potwierdzone." in again.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "termination_confirmed")) == 1
    mail.deliver_due()
    assert len(smtp_server.to(account.customer.email)) == 1


def test_confirming_with_htmx_replaces_the_entry_and_announces_it(client, account, officer):
    termination = requested_termination(account)

    response = client.submit(f"/staff/terminations/{termination.id}/confirm", headers={"HX-Request": "true"})

    fragment = response.get_data(as_text=True)
    assert response.status_code == 200
    assert fragment.lstrip().startswith(f'<li class="card" id="termination-{termination.id}"')
    assert 'data-confirmed="yes"' in fragment and "Potwierdź klientowi" not in fragment
    assert 'hx-swap-oob="innerHTML"' in fragment and "Potwierdzono." in fragment
    assert "<html" not in fragment


def test_a_withdrawn_request_cannot_be_confirmed(client, account, officer):
    termination = requested_termination(account, status=TerminationStatus.WITHDRAWN)

    page = client.submit(f"/staff/terminations/{termination.id}/confirm", follow_redirects=True).get_data(as_text=True)

    assert "Klient wycofał to wypowiedzenie" in page
    assert db.session.get(TerminationRequest, termination.id).confirmed_at is None


def test_unknown_request_is_404(client, officer):
    assert client.submit("/staff/terminations/999999/confirm").status_code == 404


def test_customer_downloads_the_confirmation_document(client, account, officer, sign_in_as):
    termination = requested_termination(account)
    sign_in_as(account.owner)
    assert client.get("/account/termination/confirmation").status_code == 404  # not confirmed yet
    sign_in_as(officer)
    client.submit(f"/staff/terminations/{termination.id}/confirm")
    sign_in_as(account.owner)

    overview = client.get("/account/termination").get_data(as_text=True)
    response = client.get("/account/termination/confirmation?download=1")

    assert 'data-confirmed="yes"' in overview
    document = response.get_data(as_text=True)
    assert response.headers["Content-Disposition"] == \
        f'attachment; filename="termination-confirmation-{account.customer.number}.html"'
    assert "Potwierdzenie wypowiedzenia umowy" in document
    assert account.customer.contract.number in document
    assert "Pokój wideokonferencyjny z nagrywaniem" in document
    assert babel_date(termination.effective_on, "d MMMM y", locale="pl") in document
    with force_locale("pl"):
        assert day(termination.requested_at) in document  # the Warsaw day
    # standalone: the saved file needs nothing else
    for needs_more in ("<link", "<script", "src=", "<style"):
        assert needs_more not in document


def test_the_closed_tab_lists_finished_requests(client, app, officer):
    done = make_account(app)
    withdrawn = requested_termination(done, status=TerminationStatus.WITHDRAWN)
    open_one = requested_termination(make_account(app))

    open_page = client.get("/staff/terminations").get_data(as_text=True)
    closed_page = client.get("/staff/terminations?show=closed").get_data(as_text=True)

    assert f'data-termination-id="{open_one.id}"' in open_page
    assert f'data-termination-id="{withdrawn.id}"' not in open_page
    assert f'data-termination-id="{withdrawn.id}"' in closed_page and "Wycofane" in closed_page


def test_the_queue_pages_with_a_constant_number_of_queries(client, app, officer):
    def page_queries() -> int:
        with counted_statements() as statements:
            assert client.get("/staff/terminations").status_code == 200
        return len(statements)

    for _ in range(3):
        requested_termination(make_account(app, recordings=0))
    few = page_queries()
    for _ in range(57):
        requested_termination(make_account(app, recordings=0))
    many = page_queries()

    assert many == few
    first = client.get("/staff/terminations").get_data(as_text=True)
    assert first.count('class="card"') == 50 and 'rel="next"' in first
    ids = [t.id for t in db.session.scalars(select(TerminationRequest).order_by(TerminationRequest.id))]
    second = client.get(f"/staff/terminations?after={ids[49]}").get_data(as_text=True)
    assert second.count('class="card"') == 10 and f'data-termination-id="{ids[50]}"' in second


def test_confirmation_due_is_fourteen_days_from_receipt():
    assert services.confirmation_due(date(2025, 3, 10)) == date(2025, 3, 24)
