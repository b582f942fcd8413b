"""/account/sessions: where you are signed in; sign out one session, or all the others."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.account.devices import describe
from portal.audit import AuditEvent
from portal.auth.models import UserSession
from portal.extensions import db
from tests import factories

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
CHROME_WINDOWS = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36")


def other_browser(app, identity, user_agent: str, ip: str):
    """A second signed-in browser of the same person."""
    browser = app.test_client()
    record = factories.signed_in(browser, identity)
    record.user_agent, record.ip_address = user_agent, ip
    db.session.commit()
    return browser, record


def handles(page: str) -> list[str]:
    return re.findall(r'data-session="([0-9a-f]+)"', page)


def test_lists_the_persons_own_sessions_with_browser_address_and_times(app, owner_client, owner):
    other_browser(app, owner, FIREFOX_LINUX, "198.51.100.23")
    stranger = factories.identity()
    other_browser(app, stranger, CHROME_WINDOWS, "203.0.113.50")

    page = owner_client.get("/account/sessions").get_data(as_text=True)

    assert len(handles(page)) == 2
    assert "Firefox · Linux" in page and "198.51.100.23" in page
    assert "203.0.113.50" not in page and "Chrome · Windows" not in page
    assert page.count("data-current") == 1 and "Ta przeglądarka" in page
    assert "Wyloguj tę sesję" in page and "Wyloguj wszystkie pozostałe sesje" in page
    # the handle in the page is not the session's id, which works like a password
    ids = db.session.scalars(select(UserSession.id)).all()
    assert not any(session_id in page for session_id in ids)


def test_signing_out_another_session_refuses_it_at_once(app, owner_client, owner):
    browser, record = other_browser(app, owner, FIREFOX_LINUX, "198.51.100.23")
    assert browser.get("/account/").status_code == 200
    page = owner_client.get("/account/sessions").get_data(as_text=True)
    [handle] = [h for h in handles(page) if f'data-session="{h}" data-current' not in page]

    response = owner_client.submit(f"/account/sessions/{handle}/end")

    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    assert "Wylogowano na urządzeniu Firefox · Linux." in owner_client.get("/account/sessions").get_data(as_text=True)
    refused = browser.get("/account/")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    assert owner_client.get("/account/").status_code == 200
    db.session.refresh(record)
    assert record.revoked_reason == "ended_by_user"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "session_revoked"))
    details = {k: v for k, v in event.details.items() if k != "http_request_id"}  # the request's id
    assert (event.actor_identity_id, event.customer_id, details) == (owner.id, owner.customer_id,
                                                                     {"device": "Firefox · Linux"})


def test_the_current_session_is_not_ended_from_the_list(owner_client, owner):
    page = owner_client.get("/account/sessions").get_data(as_text=True)
    [handle] = handles(page)

    response = owner_client.submit(f"/account/sessions/{handle}/end", follow_redirects=True)

    assert "Aby ją zakończyć, wyloguj się." in response.get_data(as_text=True)
    assert db.session.scalar(select(UserSession.revoked_at)) is None


def test_another_persons_session_is_404_and_ends_nothing(app, owner_client, owner):
    stranger = factories.identity()
    stranger_browser, record = other_browser(app, stranger, CHROME_WINDOWS, "203.0.113.50")
    stranger_handle = handles(stranger_browser.get("/account/sessions").get_data(as_text=True))[0]

    response = owner_client.submit(f"/account/sessions/{stranger_handle}/end")

    assert response.status_code == 404
    assert stranger_browser.get("/account/").status_code == 200


def test_sign_out_everywhere_else(app, owner_client, owner):
    browsers = [other_browser(app, owner, ua, ip)[0] for ua, ip in
                ((FIREFOX_LINUX, "198.51.100.1"), (CHROME_WINDOWS, "198.51.100.2"))]
    stranger_browser, _ = other_browser(app, factories.identity(), CHROME_WINDOWS, "203.0.113.50")

    response = owner_client.submit("/account/sessions/end-others", follow_redirects=True)

    assert "Zakończono 2 inne sesje." in response.get_data(as_text=True)
    assert [b.get("/account/").status_code for b in browsers] == [302, 302]
    assert owner_client.get("/account/").status_code == 200
    assert stranger_browser.get("/account/").status_code == 200
    revoked = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "other_sessions_revoked"))
    assert revoked.details == {"count": 2, "http_request_id": response.history[0].headers["X-Request-ID"]}


def test_with_htmx_the_list_updates_in_place(app, owner_client, owner):
    other_browser(app, owner, FIREFOX_LINUX, "198.51.100.23")
    token = owner_client.csrf_token()

    response = owner_client.post("/account/sessions/end-others", headers={"HX-Request": "true", "X-CSRFToken": token})

    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in body
    assert 'role="status"' in body and "Zakończono 1 inną sesję." in body
    assert len(handles(body)) == 1


@pytest.mark.parametrize("who", ["delegate", "unlinked", "staff"])
def test_every_signed_in_person_has_the_sessions_page(app, client, sign_in_as, who):
    if who == "delegate":
        person = factories.identity()
        factories.delegate(factories.customer(), person)
    else:
        person = factories.identity(roles=("moderator",) if who == "staff" else ())
    db.session.commit()
    sign_in_as(person)

    response = client.get("/account/sessions")

    assert response.status_code == 200 and len(handles(response.get_data(as_text=True))) == 1


def test_signed_out_visitor_cannot_reach_sessions(client):
    assert client.get("/account/sessions").status_code == 302


@pytest.mark.parametrize("user_agent, expected", [
    (FIREFOX_LINUX, "Firefox · Linux"),
    (CHROME_WINDOWS, "Chrome · Windows"),
    ("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 "
     "Safari/605.1.15", "Safari · macOS"),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1", "Safari · iOS"),
    ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 "
     "Safari/537.36 Edg/131.0.0.0", "Edge · Windows"),
    ("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
     "Chrome · Android"),
    ("curl/8.5.0", "curl/8.5.0"),
    (None, "?"),
])
def test_browser_names(user_agent, expected):
    assert describe(user_agent) == expected


def test_a_long_list_shows_the_newest_and_says_how_many_more(app, owner_client, owner):
    for _ in range(51):
        factories.signed_in(app.test_client(), owner)

    page = owner_client.get("/account/sessions").get_data(as_text=True)

    assert len(handles(page)) == 50 and "data-current" in page  # this browser is always listed
    assert "2 starsze sesje nie są tu pokazane;" in page
