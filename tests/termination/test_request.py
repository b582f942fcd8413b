"""The customer requests termination after re-authenticating, and may withdraw it until the end date."""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from babel.dates import format_date as babel_date  # the portal writes days as "31 grudnia 2026"
from sqlalchemy import func, select, update

from portal import mail
from portal.audit import AuditEvent
from portal.auth.models import UserSession
from portal.customers.models import Contract, ContractStatus
from portal.db_types import local_today, utcnow
from portal.extensions import db
from portal.termination import services
from portal.termination.models import TerminationRequest, TerminationStatus
from tests import factories
from tests.support.threads import at_once
from tests.termination.conftest import make_account


def terminations() -> list[TerminationRequest]:
    return list(db.session.scalars(select(TerminationRequest).order_by(TerminationRequest.id)))


def age_sessions(identity) -> None:
    """As if the person signed in at their provider an hour ago."""
    db.session.execute(update(UserSession).where(UserSession.identity_id == identity.id)
                       .values(auth_time=utcnow() - timedelta(hours=1)))
    db.session.commit()


def request_termination(client, account):
    return client.submit("/account/termination/request", {"customer_number": account.customer.number})


def test_page_explains_the_end_date_the_recordings_and_the_persons_who_lose_access(client, account, sign_in_as):
    sign_in_as(account.owner)

    page = client.get("/account/termination").get_data(as_text=True)

    end = services.effective_date(local_today(), 1)
    assert f'data-end-date="{end.isoformat()}"' in page
    size = sum(r.size_bytes for r in account.recordings)
    assert 'data-recordings="3"' in page and f"3 ({size} B)" in page
    assert account.delegate.name in page
    assert "Co przechowujemy po rozwiązaniu umowy i dlaczego" in page
    assert "Wypowiedz umowę" in page


def test_the_request_needs_a_fresh_sign_in_at_the_provider(client, sign_in_via_provider, app):
    account = make_account(app, email="anna@przyklad.pl")
    account.owner.customer_id = None  # Anna signs in through the real provider instead
    db.session.commit()
    claims = {"sub": "anna", "email": "anna@przyklad.pl", "email_verified": True}
    sign_in_via_provider(claims)
    me = db.session.scalar(select(UserSession)).identity
    age_sessions(me)

    to_login = client.get("/account/termination/request")
    assert to_login.status_code == 302 and to_login.headers["Location"].startswith("/auth/login")
    to_provider = client.get(to_login.headers["Location"])
    params = parse_qs(urlsplit(to_provider.headers["Location"]).query)
    assert params["prompt"] == ["login"] and params["max_age"] == ["0"]
    answer = requests.post(to_provider.headers["Location"], data={"sub": "anna"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    back = client.get(f"{callback.path}?{callback.query}")

    assert back.headers["Location"] == "/account/termination/request"
    form = client.get("/account/termination/request")
    assert form.status_code == 200 and 'name="customer_number"' in form.get_data(as_text=True)
    request_termination(client, account)
    assert [t.customer_id for t in terminations()] == [account.customer.id]


def test_a_request_from_a_stale_sign_in_changes_nothing(client, account, sign_in_as):
    sign_in_as(account.owner)
    age_sessions(account.owner)

    response = request_termination(client, account)

    assert response.status_code == 302 and "reauth=1" in response.headers["Location"]
    assert terminations() == []


def test_a_wrong_customer_number_is_refused_next_to_the_field_and_kept(client, account, sign_in_as):
    sign_in_as(account.owner)

    response = client.submit("/account/termination/request", {"customer_number": "MCX-999999"})

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "To nie jest Twój numer klienta" in page
    assert 'value="MCX-999999"' in page and 'aria-invalid="true"' in page
    assert terminations() == []


def test_the_request_is_acknowledged_by_e_mail_at_once(client, account, sign_in_as, smtp_server):
    sign_in_as(account.owner)

    response = request_termination(client, account)

    assert response.status_code == 303 and response.headers["Location"] == "/account/termination"
    [termination] = terminations()
    today = local_today()
    assert termination.status == TerminationStatus.REQUESTED
    assert termination.effective_on == services.effective_date(today, 1)
    assert termination.confirmation_due_on == today + timedelta(days=14)
    assert termination.receipt_acknowledged_at is not None
    assert db.session.get(Contract, account.customer.contract.id).status == ContractStatus.TERMINATING
    assert db.session.scalar(select(AuditEvent.customer_id).where(AuditEvent.kind == "termination_requested")) \
        == account.customer.id
    mail.deliver_due()
    [message] = smtp_server.to(account.customer.email)
    assert message["Subject"] == "Otrzymaliśmy Twoje wypowiedzenie umowy"
    assert f"Twoja umowa kończy się {babel_date(termination.effective_on, 'd MMMM y', locale='pl')}" in message.get_content()
    page = client.get("/account/termination").get_data(as_text=True)
    assert "Wycofaj wypowiedzenie" in page and f"wysłane na adres {account.customer.email}" in page


def test_a_second_submission_creates_no_second_request(client, account, sign_in_as):
    sign_in_as(account.owner)

    request_termination(client, account)
    again = request_termination(client, account)

    assert again.status_code == 303
    assert len(terminations()) == 1
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                             .where(AuditEvent.kind == "termination_requested")) == 1


def test_two_submissions_at_the_same_moment_create_one_request(app, account):
    results = []

    def submit(start):
        with app.test_request_context():
            customer = db.session.get(type(account.customer), account.customer.id)
            owner = db.session.get(type(account.owner), account.owner.id)
            start.wait()
            termination, created = services.request_termination(customer, owner, customer.number,
                                                                 today=local_today())
            db.session.commit()
            results.append((termination.id, created))
            db.session.remove()

    at_once(submit)

    assert len(terminations()) == 1
    assert sorted(created for _, created in results) == [False, True]
    assert {tid for tid, _ in results} == {terminations()[0].id}


def test_withdraw_then_request_again(client, account, sign_in_as, smtp_server):
    sign_in_as(account.owner)
    request_termination(client, account)

    withdrawn = client.submit("/account/termination/withdraw")

    assert withdrawn.status_code == 303
    page = client.get("/account/termination").get_data(as_text=True)
    assert "Wycofano wypowiedzenie. Twoja umowa trwa nadal." in page
    [first] = terminations()
    assert first.status == TerminationStatus.WITHDRAWN and first.withdrawn_at is not None
    assert db.session.get(Contract, account.customer.contract.id).status == ContractStatus.ACTIVE

    request_termination(client, account)

    assert [t.status for t in terminations()] == [TerminationStatus.WITHDRAWN, TerminationStatus.REQUESTED]
    mail.deliver_due()
    assert [m["Subject"] for m in smtp_server.to(account.customer.email)] == [
        "Otrzymaliśmy Twoje wypowiedzenie umowy", "Wycofano wypowiedzenie umowy",
        "Otrzymaliśmy Twoje wypowiedzenie umowy"]


def test_no_withdrawal_once_the_end_date_has_come(client, account, sign_in_as):
    sign_in_as(account.owner)
    request_termination(client, account)
    [termination] = terminations()
    termination.effective_on = local_today()
    db.session.commit()

    client.submit("/account/termination/withdraw")

    page = client.get("/account/termination").get_data(as_text=True)
    assert "już weszło w życie" in page
    assert terminations()[0].status == TerminationStatus.REQUESTED
    assert "Wycofaj wypowiedzenie" not in page


def test_the_notice_period_is_configurable(app, client, account, sign_in_as):
    app.config["TERMINATION_NOTICE_MONTHS"] = 3
    sign_in_as(account.owner)

    request_termination(client, account)

    assert terminations()[0].effective_on == services.effective_date(local_today(), 3)


def test_other_pages_show_that_the_contract_is_ending(client, account, sign_in_as):
    sign_in_as(account.owner)
    request_termination(client, account)

    page = client.get("/account/").get_data(as_text=True)

    assert f"Twoja umowa kończy się {babel_date(terminations()[0].effective_on, 'd MMMM y', locale='pl')}." in page


CUSTOMER_PAGES = ["/account/termination", "/account/termination/request", "/account/termination/confirmation",
                  "/account/termination/receipt", "/account/termination/receipt.json"]


@pytest.mark.parametrize("url", CUSTOMER_PAGES)
def test_customer_pages_need_sign_in(client, account, url):
    response = client.get(url)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("url", CUSTOMER_PAGES)
def test_someone_without_a_customer_account_gets_404(client, account, sign_in_as, url):
    # the delegate of this customer owns no account of their own
    sign_in_as(account.delegate_identity)
    assert client.get(url).status_code == 404


def test_a_delegate_cannot_withdraw_or_request_for_the_customer(client, account, sign_in_as):
    sign_in_as(account.delegate_identity)

    assert client.submit("/account/termination/withdraw").status_code == 404
    assert client.submit("/account/termination/request",
                         {"customer_number": account.customer.number}).status_code == 404
    assert terminations() == []


def test_a_customer_without_an_open_request_cannot_withdraw(client, account, sign_in_as):
    sign_in_as(account.owner)

    client.submit("/account/termination/withdraw")

    assert "Nie ma wypowiedzenia, które można wycofać." in client.get("/account/termination").get_data(as_text=True)


def test_in_english_too(client, account, sign_in_as):
    sign_in_as(account.owner)
    client.submit("/language", {"lang": "en", "next": "/account/termination"})

    page = client.get("/account/termination").get_data(as_text=True)

    assert "What happens on the end date" in page and "Request termination" in page


def test_another_customers_request_is_not_shown(client, app, account, sign_in_as):
    other = make_account(app)
    sign_in_as(other.owner)
    request_termination(client, other)
    factories.signed_in(client, account.owner)

    page = client.get("/account/termination").get_data(as_text=True)

    assert 'data-termination-status="none"' in page


def test_what_is_kept_after_termination_says_what_the_data_page_says(app, client, account, sign_in_as):
    """How long each kind of data outlives the contract comes from the one registry, so the
    termination page and the data page cannot disagree (e.g. consents: 6 years, on both)."""
    from portal.termination.texts import KEPT_AFTER_TERMINATION
    from portal.transparency.registry import category

    sign_in_as(account.owner)
    termination_page = client.get("/account/termination").get_data(as_text=True)
    data_page = client.get("/account/data").get_data(as_text=True)

    consents = "Przez czas trwania umowy i 6 lat po jej zakończeniu, do przedawnienia roszczeń z nią związanych."
    assert consents in termination_page and consents in data_page
    persons = "Dopóki osoba ma dostęp; po jej usunięciu albo po końcu umowy — jeszcze 5 lat"
    assert persons in termination_page and persons in data_page
    kept = {key for item in KEPT_AFTER_TERMINATION for key in item.categories}
    assert all(category(key) for key in kept) and "recordings" not in kept
    with app.test_request_context():
        assert all(str(item.until) for item in KEPT_AFTER_TERMINATION)  # one period per group, or ValueError
