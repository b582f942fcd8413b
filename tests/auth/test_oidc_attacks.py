"""Sign-in refuses every forged or misdirected answer from a provider, and creates nothing.

The provider is a real process (tests/support/evil_provider.py) told how to misbehave.
"""
from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.auth.models import Identity, UserSession
from portal.extensions import db


def sign_in(client):
    start = client.get("/auth/login?provider=evil")
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    return client.get(f"{callback.path}?{callback.query}")


def nothing_created() -> bool:
    return (db.session.scalar(select(func.count()).select_from(Identity)) == 0
            and db.session.scalar(select(func.count()).select_from(UserSession)) == 0)


def refused_with(response, reason: str) -> bool:
    return response.status_code in (400, 502) and f'data-reason="{reason}"' in response.get_data(as_text=True)


def test_a_well_behaved_answer_signs_in(client, evil):
    evil("normal")
    response = sign_in(client)
    assert response.status_code == 302
    assert db.session.scalar(select(Identity.subject)) == "evil-user"


# mode → (reason the person is shown, the check that must have caught it, as logged)
ATTACKS = {
    "unknown_key": ("token_invalid", "BadSignatureError"),  # signed by a key not in the JWKS
    "alg_none": ("token_invalid", "Algorithm of 'none' is not allowed"),
    "hs256": ("token_invalid", "Algorithm of 'HS256' is not allowed"),  # HMAC with the client secret
    "wrong_iss": ("token_invalid", "Invalid claim: 'iss'"),
    "wrong_aud": ("token_invalid", "Invalid claim: 'aud'"),
    "expired": ("token_invalid", "expired"),
    "iat_future": ("token_invalid", "issued in the future"),
    "wrong_nonce": ("token_invalid", "Invalid claim: 'nonce'"),
    "nonce_supported_false": ("token_invalid", "Invalid claim: 'nonce'"),  # a claim cannot turn nonce off
    "missing_nonce": ("token_invalid", "Missing claim: 'nonce'"),
    "userinfo_missing_sub": ("token_invalid", "UserInfo sub differs"),
    "userinfo_other_sub": ("token_invalid", "UserInfo sub differs"),
    "discovery_issuer": ("provider_misconfigured", "discovery issuer"),
    "advertise_none": ("provider_misconfigured", "no acceptable signing algorithm"),
    "require_response_iss": ("issuer_mismatch", "callback iss missing"),  # RFC 9207 advertised, iss absent
}


@pytest.mark.parametrize("mode", sorted(ATTACKS))
def test_attack_is_refused_and_creates_nothing(client, evil, mode):
    evil(mode)
    if mode in ("discovery_issuer", "advertise_none"):
        response = client.get("/auth/login?provider=evil")  # refused before leaving the portal
    else:
        response = sign_in(client)

    reason, check = ATTACKS[mode]
    assert refused_with(response, reason), response.get_data(as_text=True)[-600:]
    refusal = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "sign_in_refused"))
    assert check in refusal.details["detail"]
    assert nothing_created()
    assert client.get("/account/").status_code == 302


def test_mix_up_answer_naming_another_provider_is_refused(client, evil, provider):
    evil("normal", response_iss=provider.issuer)

    response = sign_in(client)

    assert refused_with(response, "issuer_mismatch")
    assert nothing_created()


def test_code_and_state_from_another_browser_are_refused(app, client, evil):
    evil("normal")
    victim = app.test_client()
    start = victim.get("/auth/login?provider=evil")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    stolen = urlsplit(answer.headers["Location"])

    response = client.get(f"{stolen.path}?{stolen.query}")

    assert refused_with(response, "state_mismatch")
    assert nothing_created()


def test_code_replay_is_refused_by_the_provider_and_by_us(client, evil):
    evil("normal")
    start = client.get("/auth/login?provider=evil")
    answer = requests.get(start.headers["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(answer.headers["Location"])
    assert client.get(f"{callback.path}?{callback.query}").status_code == 302
    client.submit("/auth/logout")

    # a fresh sign-in attempt, but with the spent code injected into its callback
    start = client.get("/auth/login?provider=evil")
    fresh_state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
    spent_code = parse_qs(callback.query)["code"][0]
    response = client.get("/auth/callback?" + urlencode({"code": spent_code, "state": fresh_state,
                                                         "iss": evil.issuer}))

    assert refused_with(response, "token_invalid")
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 1  # only the first


def test_key_rotation_refetches_the_jwks_once_and_signs_in(app, client, evil):
    evil("normal")
    assert sign_in(client).status_code == 302
    client.submit("/auth/logout")
    before = requests.get(f"{evil.issuer}/_stats", timeout=5).json()["jwks"]

    evil("normal", rotate=True)
    response = sign_in(client)

    assert response.status_code == 302
    assert requests.get(f"{evil.issuer}/_stats", timeout=5).json()["jwks"] == before + 1


def test_claims_only_in_userinfo_are_fetched(client, evil):
    evil("claims_in_userinfo")

    response = sign_in(client)

    assert response.status_code == 302
    identity = db.session.scalar(select(Identity))
    assert identity.email == "ofiara@przyklad.pl" and identity.email_verified is True


def test_a_provider_restarted_with_a_new_signing_key_signs_in_without_a_portal_restart(app, client, tmp_path):
    """The same issuer, a new key (a restarted provider process): the cached JWKS is fetched once more."""
    from portal.auth import oidc
    from portal.config import Provider
    from portal.devprovider import ProviderProcess
    from tests.conftest import CLIENT_ID, CLIENT_SECRET, complete_sign_in, free_port

    port = free_port()
    log = open(tmp_path / "restarted.log", "w")
    process = ProviderProcess(port, [], log=log).start()
    provider = Provider("restarted", "Restarted", process.issuer, CLIENT_ID, CLIENT_SECRET,
                        links=frozenset({"customers", "delegates", "staff"}), domains=None)
    app.config["OIDC_PROVIDERS"].append(provider)
    oidc.register(app, provider)
    try:
        process.set_user({"sub": "ola", "email": "ola@przyklad.pl", "email_verified": True})
        assert complete_sign_in(client, "ola", "restarted").status_code == 302
        client.submit("/auth/logout")

        process.stop()
        process.start()  # a new process generates a new signing key
        process.set_user({"sub": "ola", "email": "ola@przyklad.pl", "email_verified": True})
        response = complete_sign_in(client, "ola", "restarted")
    finally:
        process.stop()
        log.close()

    assert response.status_code == 302, response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(UserSession)) == 2
