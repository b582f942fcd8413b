"""Sign-in through real OpenID provider processes over HTTP."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from sqlalchemy import func, select

from portal.auth.models import Identity, StaffRole, UserSession
from portal.extensions import db
from tests import factories


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_customer_signs_in_and_reaches_account_home(client, sign_in_via_provider):
    customer = factories.customer(email="Anna.Kowalska@przyklad.pl", number="MCX-000123")
    db.session.commit()

    response = sign_in_via_provider({"sub": "anna", "email": "anna.kowalska@przyklad.pl",
                                     "email_verified": True, "name": "Anna Kowalska"})

    assert response.status_code == 302 and response.headers["Location"].endswith("/account/")
    home = client.get("/account/")
    page = home.get_data(as_text=True)
    assert home.status_code == 200
    assert "Anna Kowalska" in page and 'data-customer="MCX-000123"' in page
    identity = db.session.scalar(select(Identity).where(Identity.subject == "anna"))
    assert identity.customer_id == customer.id


def test_authorization_request_uses_pkce_state_and_nonce(client, provider):
    start = client.get("/auth/login?provider=mcx")
    params = parse_qs(urlsplit(start.headers["Location"]).query)
    assert params["code_challenge_method"] == ["S256"]
    assert len(params["code_challenge"][0]) >= 43
    assert params["state"][0] and params["nonce"][0]
    assert params["redirect_uri"] == ["http://localhost/auth/callback"]
    assert set(params["scope"][0].split()) >= {"openid", "email"}


def test_state_mismatch_is_refused_and_creates_nothing(client, provider):
    provider.set_user({"sub": "mallory", "email": "m@example.pl", "email_verified": True})
    start = client.get("/auth/login?provider=mcx")
    answer = requests.post(start.headers["Location"], data={"sub": "mallory"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    query = parse_qs(callback.query)
    forged = f"/auth/callback?code={query['code'][0]}&state=forged-state"

    response = client.get(forged)

    assert response.status_code == 400
    assert 'data-reason="state_mismatch"' in response.get_data(as_text=True)
    assert count(Identity) == 0 and count(UserSession) == 0
    assert client.get("/account/").status_code == 302  # still signed out


def test_replayed_callback_is_refused(client, provider):
    provider.set_user({"sub": "replay", "email": "r@example.pl", "email_verified": True})
    start = client.get("/auth/login?provider=mcx")
    answer = requests.post(start.headers["Location"], data={"sub": "replay"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    url = f"{callback.path}?{callback.query}"
    assert client.get(url).status_code == 302

    again = client.get(url)

    assert again.status_code == 400
    assert count(UserSession) == 1


def test_cancel_at_provider_ends_on_friendly_page_in_polish(client, provider):
    start = client.get("/auth/login?provider=mcx")
    answer = requests.post(start.headers["Location"], data={"action": "deny"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])

    response = client.get(f"{callback.path}?{callback.query}")

    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'data-reason="cancelled"' in page
    assert "Logowanie zostało anulowane" in page
    assert count(Identity) == 0


def test_unverified_email_links_nothing_and_says_so(client, sign_in_via_provider):
    factories.customer(email="anna@przyklad.pl")
    db.session.add(StaffRole(email="anna@przyklad.pl", role="moderator"))
    db.session.commit()

    sign_in_via_provider({"sub": "unverified", "email": "anna@przyklad.pl", "email_verified": False})

    page = client.get("/account/").get_data(as_text=True)
    identity = db.session.scalar(select(Identity).where(Identity.subject == "unverified"))
    assert identity.customer_id is None
    assert db.session.scalar(select(StaffRole.identity_id)) is None
    assert "nie potwierdził Twojego adresu e-mail" in page
    assert "data-customer" not in page


def test_email_verified_as_string_is_not_verification(client, sign_in_via_provider):
    factories.customer(email="str@przyklad.pl")
    db.session.commit()

    sign_in_via_provider({"sub": "stringy", "email": "str@przyklad.pl", "email_verified": "true"})

    assert db.session.scalar(select(Identity.customer_id).where(Identity.subject == "stringy")) is None


def test_same_subject_from_another_issuer_is_another_person(app, client, sign_in_via_provider):
    customer = factories.customer(email="shared@przyklad.pl")
    db.session.commit()
    claims = {"sub": "same-sub", "email": "shared@przyklad.pl", "email_verified": True}

    sign_in_via_provider(claims, provider_name="mcx")
    other_client = app.test_client()
    sign_in_via_provider(claims, provider_name="partner", test_client=other_client)

    identities = db.session.scalars(select(Identity).where(Identity.subject == "same-sub")).all()
    assert len(identities) == 2
    assert {i.issuer for i in identities} == {p.issuer for p in app.config["OIDC_PROVIDERS"]}
    # the customer was linked once, to the first; the second pair gets nothing through the e-mail
    assert sorted(i.customer_id or 0 for i in identities) == [0, customer.id]
    assert 'data-customer' not in other_client.get("/account/").get_data(as_text=True)


def test_second_sign_in_keeps_the_link_even_when_the_email_changes(app, client, sign_in_via_provider):
    customer = factories.customer(email="keep@przyklad.pl")
    db.session.commit()
    sign_in_via_provider({"sub": "keeper", "email": "keep@przyklad.pl", "email_verified": True})
    client.submit("/auth/logout")

    sign_in_via_provider({"sub": "keeper", "email": "new-address@elsewhere.pl", "email_verified": True})

    identity = db.session.scalar(select(Identity).where(Identity.subject == "keeper"))
    assert identity.customer_id == customer.id
    assert count(Identity) == 1
    assert f'data-customer="{customer.number}"' in client.get("/account/").get_data(as_text=True)


def test_staff_role_and_delegate_bind_on_verified_sign_in(client, sign_in_via_provider):
    owner = factories.customer()
    delegation = factories.delegate(owner, status="invited")
    delegation.email = "jan@przyklad.pl"
    db.session.add(StaffRole(email="jan@przyklad.pl", role="moderator"))
    db.session.commit()

    sign_in_via_provider({"sub": "jan", "email": "JAN@przyklad.pl", "email_verified": True})

    page = client.get("/account/").get_data(as_text=True)
    assert f'data-delegate-of="{owner.number}"' in page
    assert 'data-role="moderator"' in page


def test_session_id_changes_at_sign_in(client, sign_in_via_provider):
    with client.session_transaction() as sess:
        sess["planted"] = "by-someone-else"

    sign_in_via_provider({"sub": "fixation", "email": "f@example.pl", "email_verified": True})

    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["sid"] == db.session.scalar(select(UserSession.id))


def test_revoked_session_is_refused_on_next_request(client, sign_in_via_provider):
    sign_in_via_provider({"sub": "revoked", "email": "rv@example.pl", "email_verified": True})
    assert client.get("/account/").status_code == 200
    record = db.session.scalar(select(UserSession))
    from portal.auth.sessions import revoke_identity_sessions

    revoke_identity_sessions(record.identity_id, "test")
    db.session.commit()

    response = client.get("/account/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_logout_is_post_and_ends_the_session_at_portal_and_provider(client, sign_in_via_provider, provider):
    sign_in_via_provider({"sub": "leaver", "email": "l@example.pl", "email_verified": True})

    assert client.get("/auth/logout").status_code == 405
    response = client.submit("/auth/logout")

    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert f"{target.scheme}://{target.netloc}" == provider.issuer
    params = parse_qs(target.query)
    assert params["id_token_hint"][0].count(".") == 2
    assert params["post_logout_redirect_uri"] == ["http://localhost/auth/signed-out"]
    assert db.session.scalar(select(UserSession.revoked_reason)) == "signed_out"
    assert client.get("/account/").status_code == 302


def test_logout_without_csrf_token_is_refused(client, sign_in_via_provider):
    sign_in_via_provider({"sub": "csrf", "email": "c@example.pl", "email_verified": True})

    response = client.post("/auth/logout")

    assert response.status_code == 400
    assert db.session.scalar(select(UserSession.revoked_at)) is None


def test_provider_unreachable_gives_friendly_page(app, client):
    from portal.config import Provider

    app.config["OIDC_PROVIDERS"].append(Provider("down", "Down", "http://127.0.0.1:9", "x", "y"))
    from portal.auth import oidc

    app.extensions["portal_oauth"].register(name="down", client_id="x", client_secret="y",
                                            server_metadata_url="http://127.0.0.1:9/.well-known/openid-configuration",
                                            client_kwargs={"scope": oidc.SCOPE, "timeout": 2})

    response = client.get("/auth/login?provider=down")

    assert response.status_code == 502
    assert 'data-reason="provider_unreachable"' in response.get_data(as_text=True)
    assert count(Identity) == 0


def test_english_failure_page(client, provider):
    client.submit("/language", {"lang": "en", "next": "/"})
    response = client.get("/auth/callback?code=x&state=nothing")
    assert "This sign-in expired" in response.get_data(as_text=True)


def test_next_must_be_a_local_path(client, sign_in_via_provider, provider):
    provider.set_user({"sub": "nexter", "email": "n@example.pl", "email_verified": True})
    client.get("/auth/login?provider=mcx&next=https://evil.example/")
    start = client.get("/auth/login?provider=mcx&next=//evil.example/x")
    answer = requests.post(start.headers["Location"], data={"sub": "nexter"}, allow_redirects=False, timeout=10)
    callback = urlsplit(answer.headers["Location"])
    response = client.get(f"{callback.path}?{callback.query}")
    assert response.headers["Location"] == "/account/"


def test_sign_in_is_rate_limited(app, client):
    app.config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    statuses = [client.get("/auth/login?provider=mcx").status_code for _ in range(4)]
    assert statuses[:3] == [302, 302, 302] and statuses[3] == 429
