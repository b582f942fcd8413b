"""Sessions end by themselves: after a while without requests, and some hours after sign-in."""
from __future__ import annotations

from datetime import timedelta

from portal.auth.models import UserSession
from portal.db_types import utcnow
from portal.extensions import db
from tests import factories


def signed_in_customer(client):
    owner = factories.identity(customer=factories.customer())
    db.session.commit()
    return owner, factories.signed_in(client, owner)


def age(record: UserSession, *, idle: timedelta = timedelta(0), since_sign_in: timedelta = timedelta(0)) -> None:
    now = utcnow()
    record.created_at = now - since_sign_in
    record.last_seen_at = now - idle
    db.session.commit()


def test_an_idle_session_ends_and_says_why(client):
    _, record = signed_in_customer(client)
    age(record, idle=timedelta(minutes=45), since_sign_in=timedelta(hours=1))

    response = client.get("/account/")

    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    db.session.refresh(record)
    assert record.revoked_at is not None and record.revoked_reason == "expired_idle"
    page = client.get("/").get_data(as_text=True)
    assert "Wylogowaliśmy Cię, ponieważ sesja wygasła. Zaloguj się ponownie." in page
    # the cookie no longer names the session: it stays refused
    assert client.get("/account/").status_code == 302


def test_a_session_in_use_lasts_and_is_kept_fresh(client):
    _, record = signed_in_customer(client)
    age(record, idle=timedelta(minutes=20), since_sign_in=timedelta(hours=3))

    assert client.get("/account/").status_code == 200
    db.session.refresh(record)
    assert record.revoked_at is None and utcnow() - record.last_seen_at < timedelta(minutes=1)


def test_even_a_session_in_use_ends_after_its_lifetime(client):
    _, record = signed_in_customer(client)
    age(record, idle=timedelta(0), since_sign_in=timedelta(hours=12, minutes=1))

    assert client.get("/account/").status_code == 302
    db.session.refresh(record)
    assert record.revoked_reason == "expired_lifetime"


def test_the_limits_are_configurable(app, client):
    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    _, record = signed_in_customer(client)
    age(record, idle=timedelta(minutes=7))
    assert client.get("/account/").status_code == 302

    other = app.test_client()
    _, record = signed_in_customer(other)
    age(record, since_sign_in=timedelta(minutes=61))
    assert other.get("/account/").status_code == 302


def test_an_htmx_request_of_an_expired_session_navigates_to_sign_in(client):
    _, record = signed_in_customer(client)
    age(record, idle=timedelta(hours=2), since_sign_in=timedelta(hours=2))

    response = client.get("/account/consents", headers={"HX-Request": "true"})

    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith("/auth/login")


def test_the_sessions_page_lists_no_session_that_has_run_out(app, client):
    owner, _ = signed_in_customer(client)
    forgotten = app.test_client()
    stale = factories.signed_in(forgotten, owner)
    stale.user_agent = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
    age(stale, idle=timedelta(hours=3), since_sign_in=timedelta(hours=4))

    page = client.get("/account/sessions").get_data(as_text=True)

    assert page.count("data-session=") == 1 and "Firefox" not in page
    assert forgotten.get("/account/").status_code == 302  # and the forgotten browser is refused
