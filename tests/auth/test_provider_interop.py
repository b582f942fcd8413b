"""Providers that answer a fresh sign-in badly, authenticate clients differently, or refuse us.

Each case runs against the misbehaving provider process (tests/support/evil_provider.py) over HTTP.
"""
from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select, update

from portal.audit import AuditEvent
from portal.auth import client_keys, oidc
from portal.auth.models import Identity, UserSession
from portal.config import Provider
from portal.db_types import utcnow
from portal.extensions import db
from tests import factories
from tests.conftest import CLIENT_ID, CLIENT_SECRET

from .conftest import USER


def through_provider(client, location: str):
    """Let the provider answer the authorization request at `location`; return the callback's response."""
    answer = requests.get(location, allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def customer_signs_in(client, evil, mode: str) -> None:
    """The customer signs in through the provider, which behaves as `mode` says."""
    factories.customer(email=USER["email"])
    db.session.commit()
    evil(mode)
    start = client.get("/auth/login?provider=evil")
    assert through_provider(client, start.headers["Location"]).status_code == 302


def signed_in_a_while_ago(client, evil):
    """A customer signed in through the provider an hour ago, so irreversible actions need a fresh sign-in."""
    customer_signs_in(client, evil, "normal")
    db.session.execute(update(UserSession).values(auth_time=utcnow() - timedelta(hours=1)))
    db.session.commit()


def ask_for_export(client):
    """The export needs a fresh sign-in: follow the portal to the provider; return the provider URL."""
    to_login = client.get("/account/export.json")
    assert to_login.status_code == 302 and "reauth=1" in to_login.headers["Location"]
    to_provider = client.get(to_login.headers["Location"])
    assert to_provider.status_code == 302
    return to_provider.headers["Location"]


@pytest.mark.parametrize("mode", ["no_auth_time", "old_auth_time", "auth_time_zero"])
def test_a_fresh_sign_in_the_provider_did_not_perform_is_refused_and_never_served(client, evil, mode):
    signed_in_a_while_ago(client, evil)
    location = ask_for_export(client)
    assert parse_qs(urlsplit(location).query)["max_age"] == ["0"]

    evil(mode)  # the provider ignores max_age / prompt=login and answers from its old session
    response = through_provider(client, location)

    page = response.get_data(as_text=True)
    assert response.status_code == 400 and 'data-reason="not_reauthenticated"' in page
    assert "nie potwierdził, że zalogowano się ponownie" in page
    assert "Location" not in response.headers  # a page, not a loop back to the provider
    again = client.get("/account/export.json")
    assert again.status_code == 302 and "reauth=1" in again.headers["Location"]  # never served
    assert client.get("/account/").status_code == 200  # still signed in
    refusal = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "sign_in_refused"))
    assert refusal.details["reason"] == "not_reauthenticated"


def test_an_ordinary_sign_in_without_auth_time_is_not_a_recent_one(client, evil):
    """Issue 13: an ID token without auth_time says nothing about when the person signed in."""
    customer_signs_in(client, evil, "no_auth_time")
    assert client.get("/account/").status_code == 200  # an ordinary sign-in still works

    location = ask_for_export(client)  # the export is not served at once: a fresh sign-in first
    assert parse_qs(urlsplit(location).query)["prompt"] == ["login"]
    termination = client.get("/account/termination/request")
    assert termination.status_code == 302 and "reauth=1" in termination.headers["Location"]

    response = through_provider(client, location)  # still no auth_time: the refusal page
    assert response.status_code == 400 and 'data-reason="not_reauthenticated"' in response.get_data(as_text=True)
    assert client.get("/account/export.json").status_code == 302


def test_a_fresh_sign_in_with_a_current_auth_time_serves_the_export(client, evil):
    signed_in_a_while_ago(client, evil)
    location = ask_for_export(client)

    response = through_provider(client, location)

    assert response.status_code == 302 and response.headers["Location"] == "/account/export.json"
    assert client.get("/account/export.json").status_code == 200


def test_auth_time_zero_counts_as_missing_and_does_not_lock_the_person_out(client, evil):
    factories.customer(email=USER["email"])
    db.session.commit()
    evil("auth_time_zero")
    start = client.get("/auth/login?provider=evil&next=/account/export.json")

    assert through_provider(client, start.headers["Location"]).status_code == 302
    assert client.get("/account/").status_code == 200  # signed in
    # missing, so not a recent sign-in: the export asks for a fresh one (issue 13)
    export = client.get("/account/export.json")
    assert export.status_code == 302 and "reauth=1" in export.headers["Location"]


def test_auth_time_in_the_future_refuses_the_token(client, evil):
    evil("auth_time_future")
    start = client.get("/auth/login?provider=evil")

    response = through_provider(client, start.headers["Location"])

    assert response.status_code == 400 and 'data-reason="token_invalid"' in response.get_data(as_text=True)
    assert db.session.scalar(select(Identity)) is None
    refusal = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "sign_in_refused"))
    assert "auth_time" in refusal.details["detail"]


def test_a_provider_that_rejects_max_age_still_gets_prompt_login(client, evil):
    signed_in_a_while_ago(client, evil)
    location = ask_for_export(client)
    evil("reject_max_age")

    retry = through_provider(client, location)

    assert retry.status_code == 302
    asked = parse_qs(urlsplit(retry.headers["Location"]).query)
    assert asked["prompt"] == ["login"] and "max_age" not in asked
    done = through_provider(client, retry.headers["Location"])
    assert done.headers["Location"] == "/account/export.json"
    assert client.get("/account/export.json").status_code == 200


def use(app, evil, method: str, name: str) -> Provider:
    """The misbehaving provider once more, under `name`, with another token endpoint auth method."""
    provider = Provider(name, name.upper(), evil.issuer, CLIENT_ID, CLIENT_SECRET, links=frozenset({"customers"}),
                        domains=None, token_endpoint_auth_method=method)
    app.config["OIDC_PROVIDERS"].append(provider)
    oidc.register(app, provider)
    return provider


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", "private_key_jwt"])
def test_each_token_endpoint_auth_method_signs_in(app, client, evil, tmp_path, method):
    app.extensions["portal_signing_key"] = client_keys.load_or_create(str(tmp_path / "key.pem"), create=True)
    use(app, evil, method, "ep")
    published = client.get("/auth/jwks.json").json
    evil("normal", client_auth=method, client_jwks=published)

    start = client.get("/auth/login?provider=ep")
    response = through_provider(client, start.headers["Location"])

    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(Identity.subject)) == USER["sub"]


def test_the_portal_publishes_only_the_public_half_of_its_signing_key(app, client, tmp_path):
    key = client_keys.load_or_create(str(tmp_path / "key.pem"), create=True)
    app.extensions["portal_signing_key"] = key

    published = client.get("/auth/jwks.json").json["keys"]

    assert [k["kid"] for k in published] == [key.kid]
    assert "d" not in published[0] and published[0]["kty"] == "RSA"
    assert client_keys.load_or_create(str(tmp_path / "key.pem"), create=False).kid == key.kid


@pytest.mark.parametrize("mode, client_auth, reason", [
    ("normal", "client_secret_post", "client_auth_refused"),  # registered for post, we send Basic
    ("invalid_client", "client_secret_basic", "client_auth_refused"),
    ("userinfo_401", "client_secret_basic", "userinfo_refused"),
])
def test_a_configuration_fault_is_told_apart_from_an_outage_and_a_forgery(client, evil, mode, client_auth, reason):
    evil(mode, client_auth=client_auth)
    client.submit("/language", {"lang": "en", "next": "/"})
    start = client.get("/auth/login?provider=evil")

    response = through_provider(client, start.headers["Location"])

    page = response.get_data(as_text=True)
    assert response.status_code == 502 and f'data-reason="{reason}"' in page
    assert "configuration fault" in page and "trying again will not help" in page
    assert "try again in a few minutes" not in page and "could not be verified" not in page
    assert db.session.scalar(select(Identity)) is None


def test_an_email_linked_through_another_provider_names_that_sign_in(app, client, evil, sign_in_via_provider):
    customer = factories.customer(email=USER["email"])
    db.session.commit()
    sign_in_via_provider({**USER, "sub": "anna-at-mcx"})  # linked through the primary, "MCX"
    assert db.session.scalar(select(Identity.customer_id).where(Identity.subject == "anna-at-mcx")) == customer.id
    other = app.test_client()
    evil("normal")
    start = other.get("/auth/login?provider=evil")

    through_provider(other, start.headers["Location"])

    page = other.get("/account/").get_data(as_text=True)
    assert "przez inne logowanie: MCX" in page
    assert f'data-customer="{customer.number}"' not in page


def test_private_key_jwt_needs_the_key_file_in_production_and_makes_one_in_development(tmp_path):
    from portal import config

    env = {"PORTAL_OIDC_TOKEN_AUTH_METHOD": "private_key_jwt"}
    production = {**env, "PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "x" * 40,
                  "PORTAL_OIDC_ISSUER": "https://login.mcx.example", "PORTAL_OIDC_CLIENT_ID": "portal",
                  "PORTAL_OIDC_CLIENT_SECRET": "unused", "PORTAL_DATABASE_URL": "postgresql://portal@db/portal",
                  "PORTAL_AUDIT_KEY": "2026:" + "a" * 48, "PORTAL_EXTERNAL_URL": "https://portal.mcx.example"}
    with pytest.raises(config.ConfigError, match="PORTAL_OIDC_SIGNING_KEY_FILE"):
        config.load(str(tmp_path / "prod"), production)

    settings = config.load(str(tmp_path / "dev"), env)
    assert settings["OIDC_PROVIDERS"][0].token_endpoint_auth_method == "private_key_jwt"
    made = client_keys.load_or_create(settings["OIDC_SIGNING_KEY_FILE"], create=True)
    assert (tmp_path / "dev" / "oidc-signing-key.pem").stat().st_mode & 0o777 == 0o600
    assert client_keys.load_or_create(settings["OIDC_SIGNING_KEY_FILE"], create=False).kid == made.kid
