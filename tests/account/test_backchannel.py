"""OpenID Connect Back-Channel Logout 1.0 at POST /auth/backchannel-logout.

The test OpenID provider cannot send logout tokens, so a tiny provider of our own serves a
discovery document and a JWKS on loopback, and the tests sign logout tokens with its key.
"""
from __future__ import annotations

import base64
import json
import threading
import time
import uuid

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, OctKey, RSAKey
from sqlalchemy import func, select
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from portal.audit import AuditEvent
from portal.auth import oidc, sessions
from portal.auth.models import SeenLogoutToken, UserSession
from portal.config import Provider
from portal.db_types import utcnow
from portal.extensions import db
from tests import factories
from tests.conftest import CLIENT_ID, free_port

EVENT = "http://schemas.openid.net/event/backchannel-logout"


class LogoutIssuer:
    """Discovery and JWKS over HTTP; the private keys stay here to sign logout tokens."""

    def __init__(self):
        self.key = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig", "alg": "RS256"})
        self.published = [self.key]
        self.server = make_server("127.0.0.1", free_port(), self.wsgi)
        self.issuer = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @Request.application
    def wsgi(self, request: Request) -> Response:
        if request.path == "/.well-known/openid-configuration":
            body = {"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks",
                    "authorization_endpoint": f"{self.issuer}/authorize", "token_endpoint": f"{self.issuer}/token",
                    "id_token_signing_alg_values_supported": ["RS256", "ES256"],
                    "backchannel_logout_supported": True, "backchannel_logout_session_supported": True}
        elif request.path == "/jwks":
            body = KeySet(self.published).as_dict(private=False)
        else:
            return Response("not found", 404)
        return Response(json.dumps(body), mimetype="application/json")

    def token(self, claims: dict | None = None, *, drop=(), key=None, header: dict | None = None) -> str:
        key = key or self.key
        now = int(time.time())
        body = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 120, "jti": str(uuid.uuid4()),
                "events": {EVENT: {}}, "sub": "jan", "sid": "sid-1", **(claims or {})}
        for name in drop:
            body.pop(name, None)
        alg = "HS256" if isinstance(key, OctKey) else "ES256" if isinstance(key, ECKey) else "RS256"
        return jwt.encode({"alg": alg, "kid": key.kid, "typ": "logout+jwt", **(header or {})}, body, key,
                          algorithms=[alg])


@pytest.fixture(scope="session")
def logout_issuer():
    issuer = LogoutIssuer()
    issuer.thread.start()
    yield issuer
    issuer.server.shutdown()


@pytest.fixture
def lo(app, logout_issuer):
    """The logout issuer, configured in the portal as one more provider named "lo"."""
    logout_issuer.published = [logout_issuer.key]
    app.config["OIDC_PROVIDERS"].append(Provider("lo", "Logout IdP", logout_issuer.issuer, CLIENT_ID, "secret"))
    app.extensions["portal_oauth"].register(
        name="lo", client_id=CLIENT_ID, client_secret="secret",
        server_metadata_url=f"{logout_issuer.issuer}/.well-known/openid-configuration",
        client_kwargs={"scope": oidc.SCOPE, "timeout": 5})
    return logout_issuer


def browser_signed_in(app, identity, provider: str, sid: str | None):
    """A browser with a session the provider knows by `sid`."""
    browser = app.test_client()
    record = sessions.open_session(identity, provider=provider, id_token=None, auth_time=utcnow(),
                                   provider_sid=sid, user_agent="tests", ip_address="127.0.0.1")
    db.session.commit()
    with browser.session_transaction() as cookie:
        cookie["sid"], cookie["_user_id"], cookie["_fresh"] = record.id, str(identity.id), True
    return browser


def post(client, token: str | None):
    return client.post("/auth/backchannel-logout", data={} if token is None else {"logout_token": token})


def active_sessions() -> int:
    return db.session.scalar(select(func.count()).select_from(UserSession).where(UserSession.revoked_at.is_(None)))


@pytest.fixture
def jan(app, lo):
    """Jan, a customer who signed in through "lo" on two browsers (sid-1, sid-2) and through "mcx" on one."""
    customer = factories.customer()
    identity = factories.identity(issuer=lo.issuer, customer=customer)
    identity.subject = "jan"
    same_subject_elsewhere = factories.identity(issuer="http://other-idp.test")
    same_subject_elsewhere.subject = "jan"
    db.session.commit()
    return {
        "identity": identity,
        "sid-1": browser_signed_in(app, identity, "lo", "sid-1"),
        "sid-2": browser_signed_in(app, identity, "lo", "sid-2"),
        "elsewhere": browser_signed_in(app, same_subject_elsewhere, "mcx", "sid-1"),
    }


def test_a_valid_token_with_sid_ends_that_session_at_once(client, lo, jan):
    assert jan["sid-1"].get("/account/").status_code == 200

    response = post(client, lo.token())

    assert response.status_code == 200 and "no-store" in response.headers["Cache-Control"]
    assert jan["sid-1"].get("/account/").status_code == 302
    assert jan["sid-2"].get("/account/").status_code == 200
    assert jan["elsewhere"].get("/account/").status_code == 200
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "backchannel_logout"))
    assert (event.actor_identity_id, event.customer_id, event.details["sessions"]) == (
        jan["identity"].id, jan["identity"].customer_id, 1)


def test_a_token_with_only_sub_ends_every_session_of_that_person_at_that_provider(client, lo, jan):
    response = post(client, lo.token(drop=("sid",)))

    assert response.status_code == 200
    assert [jan[k].get("/account/").status_code for k in ("sid-1", "sid-2", "elsewhere")] == [302, 302, 200]


def test_a_token_with_only_sid_ends_that_session(client, lo, jan):
    assert post(client, lo.token({"sid": "sid-2"}, drop=("sub",))).status_code == 200

    assert [jan[k].get("/account/").status_code for k in ("sid-1", "sid-2", "elsewhere")] == [200, 302, 200]


def test_a_replayed_token_is_refused_and_ends_nothing(app, client, lo, jan):
    token = lo.token()
    assert post(client, token).status_code == 200
    again = browser_signed_in(app, jan["identity"], "lo", "sid-1")

    replay = post(client, token)

    assert replay.status_code == 400 and replay.json["error"] == "invalid_request"
    assert "jti" in replay.json["error_description"]
    assert again.get("/account/").status_code == 200
    assert db.session.scalar(select(func.count()).select_from(SeenLogoutToken)) == 1


def test_the_providers_rotated_key_is_fetched_again(client, lo, jan):
    assert post(client, lo.token({"sid": "sid-2"})).status_code == 200  # the JWKS is cached now
    new_key = ECKey.generate_key("P-256", parameters={"kid": "ec-2", "use": "sig", "alg": "ES256"})
    lo.published = [lo.key, new_key]

    response = post(client, lo.token(key=new_key))

    assert response.status_code == 200
    assert jan["sid-1"].get("/account/").status_code == 302


def _unsigned(token: str) -> str:
    header, payload, _ = token.split(".")
    none = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "logout+jwt"}).encode()).rstrip(b"=").decode()
    return f"{none}.{payload}."


def _tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


INVALID = {
    "no token": lambda lo: None,
    "not a JWT": lambda lo: "not-a-jwt",
    "alg none": lambda lo: _unsigned(lo.token()),
    "HMAC with the client secret": lambda lo: lo.token(key=OctKey.import_key(b"secret" * 6, {"kid": "rsa-1"})),
    "signed by a key not in the JWKS": lambda lo: lo.token(
        key=RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})),
    "claims changed after signing": lambda lo: _tampered(lo.token()),
    "unknown issuer": lambda lo: lo.token({"iss": "https://evil.example"}),
    "another audience": lambda lo: lo.token({"aud": "someone-else"}),
    "no iat": lambda lo: lo.token(drop=("iat",)),
    "no exp": lambda lo: lo.token(drop=("exp",)),
    "expired": lambda lo: lo.token({"iat": int(time.time()) - 900, "exp": int(time.time()) - 600}),
    "issued in the future": lambda lo: lo.token({"iat": int(time.time()) + 900}),
    "no events": lambda lo: lo.token(drop=("events",)),
    "another event": lambda lo: lo.token({"events": {"http://schemas.openid.net/event/other": {}}}),
    "event not an object": lambda lo: lo.token({"events": {EVENT: "yes"}}),
    "neither sub nor sid": lambda lo: lo.token(drop=("sub", "sid")),
    "with a nonce": lambda lo: lo.token({"nonce": "n-0S6_WzA2Mj"}),
    "no jti": lambda lo: lo.token(drop=("jti",)),
}


@pytest.mark.parametrize("case", list(INVALID))
def test_anything_else_is_a_400_that_ends_nothing(client, lo, jan, case):
    before = active_sessions()

    response = post(client, INVALID[case](lo))

    assert response.status_code == 400, case
    assert response.json["error"] == "invalid_request"
    assert active_sessions() == before
    assert [jan[k].get("/account/").status_code for k in ("sid-1", "sid-2", "elsewhere")] == [200, 200, 200]
    assert db.session.scalar(select(func.count()).select_from(SeenLogoutToken)) == 0
    kinds = db.session.scalars(select(AuditEvent.kind)).all()
    assert kinds == ["backchannel_logout_refused"]


def test_a_token_of_one_provider_cannot_end_sessions_at_another(client, lo, jan, provider):
    """Signed by "lo" but claiming the issuer of the "mcx" provider: the mcx keys do not verify it."""
    response = post(client, lo.token({"iss": provider.issuer}))

    assert response.status_code == 400
    assert jan["elsewhere"].get("/account/").status_code == 200


def test_the_route_needs_no_csrf_token_but_only_accepts_post(client, lo, jan):
    assert client.get("/auth/backchannel-logout").status_code == 405
    assert post(client, lo.token()).status_code == 200  # the test client sends no CSRF token here


def test_logout_is_never_throttled_by_the_sign_in_limit(app, client, lo, jan):
    app.config["SIGNIN_RATE_LIMIT"] = "2 per minute"
    assert [client.get("/auth/login?provider=mcx").status_code for _ in range(3)][-1] == 429

    answers = [post(client, lo.token({"sid": f"other-{n}"})).status_code for n in range(5)]
    answers.append(post(client, lo.token({"sid": "sid-1"})).status_code)

    assert answers == [200] * 6
    assert jan["sid-1"].get("/account/").status_code == 302


def test_a_token_is_remembered_as_long_as_it_could_be_accepted(app, client, lo, jan):
    """Just past `exp`, a token is still accepted within the leeway: its jti must still be known."""
    now = int(time.time())
    token = lo.token({"iat": now - 300, "exp": now - 10})
    assert post(client, token).status_code == 200
    again = browser_signed_in(app, jan["identity"], "lo", "sid-1")
    post(client, lo.token({"sid": "unrelated"}))  # purges what may be forgotten

    replay = post(client, token)

    assert replay.status_code == 400 and "jti" in replay.json["error_description"]
    assert again.get("/account/").status_code == 200


def test_the_next_page_says_the_session_was_ended_at_the_provider(client, lo, jan):
    assert post(client, lo.token()).status_code == 200

    response = jan["sid-1"].get("/account/data")

    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/ended")
    page = jan["sid-1"].get(response.headers["Location"])
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and 'data-reason="backchannel_logout"' in text
    assert "dostawcy tożsamości" in text
    assert "/auth/login?next=/account/data" in text.replace("%2F", "/")


def test_a_public_page_after_the_logout_says_so_too(client, lo, jan):
    assert post(client, lo.token()).status_code == 200

    page = jan["sid-1"].get("/privacy").get_data(as_text=True)

    assert "zakończona u Twojego dostawcy tożsamości" in page
    assert "zakończona u Twojego dostawcy tożsamości" not in jan["sid-1"].get("/privacy").get_data(as_text=True)
