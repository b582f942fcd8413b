"""OpenID Connect client for each configured provider, with the checks Authlib leaves to us.

Authlib validates the ID token's signature, `exp`, `iat` and `nonce`. The portal adds: the
discovery document's issuer must be the configured one; only asymmetric signing algorithms
are accepted (never `none` or a shared-secret HMAC); `iss` and `aud` are checked against the
provider and our client id; the RFC 9207 `iss` on the callback must be the provider the
sign-in was started with (mix-up defence, RFC 9700 §4.4); UserInfo's `sub` must equal the ID
token's; `auth_time` must be plausible, and recent after a fresh sign-in was asked for; `sub`
must be usable as an identifier (OIDC Core §2). Client authentication at the token endpoint is
configured per provider.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import FlaskOAuth2App, OAuth
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from flask import current_app, request, session
from joserfc.errors import BadSignatureError, JoseError

from portal.auth import client_keys, pending
from portal.auth.claims import UnusableClaims, check_subject
from portal.config import Provider

ASYMMETRIC_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
SCOPE = "openid email profile"
HTTP_TIMEOUT = 10
# clock difference tolerated between the provider and us (auth_time in the future, fresh sign-in)
LEEWAY_SECONDS = 60


class SignInError(Exception):
    """A sign-in that must stop; `code` picks the message the person sees."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


@dataclass
class Assertion:
    """What a provider asserted about the person, after every check passed."""

    provider: Provider
    claims: dict
    id_token: str


class _Client(FlaskOAuth2App):
    """Authlib's client, which fetches the JWKS again only for an unknown `kid`; a provider that
    restarts with a new key under the same (or no) `kid` would otherwise fail every sign-in until
    the portal restarts (OIDC Core §10.1.1: keys may be rotated at any time)."""

    def parse_id_token(self, token, nonce, claims_options=None, claims_cls=None, leeway=120):
        try:
            return super().parse_id_token(token, nonce, claims_options, claims_cls, leeway)
        except BadSignatureError:
            # once more with the provider's current key set; a second failure is final
            self.fetch_jwk_set(force=True)
            return super().parse_id_token(token, nonce, claims_options, claims_cls, leeway)


class _Registry(OAuth):
    oauth2_client_cls = _Client


def init_app(app) -> None:
    # one registry per app: Authlib caches clients and provider metadata on it
    app.extensions["portal_oauth"] = _Registry(app)
    key = None
    if any(p.token_endpoint_auth_method == "private_key_jwt" for p in app.config["OIDC_PROVIDERS"]):
        key = client_keys.load_or_create(app.config["OIDC_SIGNING_KEY_FILE"],
                                         create=app.config.get("PORTAL_ENV") != "production")
    app.extensions["portal_signing_key"] = key
    app.jinja_env.globals["provider_label"] = provider_label
    for provider in app.config["OIDC_PROVIDERS"]:
        register(app, provider)


def register(app, provider: Provider) -> None:
    """Register `provider` with Authlib, authenticating at its token endpoint as configured
    (RFC 6749 §2.3.1 client_secret_basic / client_secret_post, RFC 7523 private_key_jwt)."""
    method = provider.token_endpoint_auth_method
    extra = {}
    secret = provider.client_secret
    if method == "private_key_jwt":
        secret = app.extensions["portal_signing_key"]
        extra["client_auth_methods"] = [PrivateKeyJWT(headers={"kid": secret.kid})]
    app.extensions["portal_oauth"].register(
        name=provider.name,
        client_id=provider.client_id,
        client_secret=secret,
        server_metadata_url=provider.metadata_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": method,
            "timeout": HTTP_TIMEOUT,
        },
        **extra,
    )


def providers() -> list[Provider]:
    return current_app.config["OIDC_PROVIDERS"]


def provider_named(name: str | None) -> Provider | None:
    return next((p for p in providers() if p.name == name), None)


def provider_label(issuer_or_name: str | None) -> str:
    """What people call a provider (its label, e.g. "MCX"), from its issuer URL or its name;
    a provider no longer configured keeps its issuer, the only name we still know."""
    found = next((p for p in providers() if issuer_or_name in (p.issuer, p.name)), None)
    return found.label if found else (issuer_or_name or "")


def _client(provider: Provider):
    return current_app.extensions["portal_oauth"].create_client(provider.name)


def metadata(provider: Provider) -> dict:
    """The provider's discovery document, checked once per process."""
    client = _client(provider)
    try:
        meta = client.load_server_metadata()
    except (requests.RequestException, ValueError) as exc:
        raise SignInError("provider_unreachable", str(exc)) from exc
    if meta.get("_portal_checked"):
        return meta
    if meta.get("issuer", "").rstrip("/") != provider.issuer:
        client.server_metadata = {}
        raise SignInError("provider_misconfigured", f"discovery issuer {meta.get('issuer')!r}")
    advertised = meta.get("id_token_signing_alg_values_supported") or ["RS256"]
    allowed = [alg for alg in advertised if alg in ASYMMETRIC_ALGS]
    if not allowed:
        client.server_metadata = {}
        raise SignInError("provider_misconfigured", f"no acceptable signing algorithm in {advertised}")
    # Authlib decodes with exactly this list, so narrowing it here is what refuses `alg: none`.
    meta["id_token_signing_alg_values_supported"] = allowed
    meta["_portal_checked"] = True
    return meta


def start(provider: Provider, redirect_uri: str, *, force_login: bool = False, with_max_age: bool = True):
    """Redirect to the provider's authorization endpoint (code flow, PKCE S256, state, nonce).

    `force_login` asks for a fresh sign-in (OIDC Core §3.1.2.1: `prompt=login`, and `max_age=0`
    unless `with_max_age` is False, for providers that refuse it); the answer must then carry
    an `auth_time` from after this moment.
    """
    metadata(provider)
    extra = {}
    if force_login:
        extra = {"prompt": "login", "max_age": 0} if with_max_age else {"prompt": "login"}
    pending.prune()
    response = _client(provider).authorize_redirect(redirect_uri, **extra)
    state = parse_qs(urlsplit(response.headers["Location"]).query).get("state", [""])[0]
    pending.remember(state, fresh=force_login, with_max_age=force_login and with_max_age)
    return response


def provider_for_state(state: str | None) -> Provider | None:
    """The provider this browser started the sign-in with, found by the `state` it was given."""
    if not state:
        return None
    return next((p for p in providers() if f"_state_{p.name}_{state}" in session), None)


def finish() -> Assertion:
    """Complete the callback: exchange the code and validate everything the provider said."""
    state = request.args.get("state")
    provider = provider_for_state(state)
    error = request.args.get("error")
    asked = pending.asked(state) if provider is not None else {}
    pending.forget(state)
    if error:
        # An error answer grants nothing, so it is reported even when a provider leaves out
        # `state` (which RFC 6749 §4.1.2.1 requires); a pending state is discarded.
        if provider is not None:
            _client(provider).framework.clear_state_data(session, state)
        if error != "access_denied" and asked.get("max_age"):
            # some providers refuse `max_age`; `prompt=login` alone still asks for a fresh sign-in
            raise SignInError("max_age_refused", error)
        raise SignInError("cancelled" if error in ("access_denied", "login_required") else "provider_error", error)
    if provider is None:
        raise SignInError("state_mismatch")
    client = _client(provider)
    meta = metadata(provider)
    response_iss = request.args.get("iss")
    if response_iss is not None and response_iss.rstrip("/") != provider.issuer:
        client.framework.clear_state_data(session, state)
        raise SignInError("issuer_mismatch", f"callback iss {response_iss!r}")
    if response_iss is None and meta.get("authorization_response_iss_parameter_supported"):
        client.framework.clear_state_data(session, state)
        raise SignInError("issuer_mismatch", "callback iss missing")
    claims_options = {
        "iss": {"essential": True, "values": [provider.issuer, provider.issuer + "/"]},
        "aud": {"essential": True, "values": [provider.client_id]},
        "sub": {"essential": True},
    }
    try:
        token = client.authorize_access_token(claims_options=claims_options)
    except requests.RequestException as exc:
        raise SignInError("provider_unreachable", str(exc)) from exc
    except OAuthError as exc:
        # RFC 6749 §5.2: invalid_client means the provider does not accept our client credentials
        code = "client_auth_refused" if exc.error in ("invalid_client", "unauthorized_client") else "token_invalid"
        raise SignInError(code, repr(exc)) from exc
    except (JoseError, ValueError, KeyError) as exc:
        raise SignInError("token_invalid", repr(exc)) from exc
    if "id_token" not in token or not token.get("userinfo"):
        raise SignInError("token_invalid", "no ID token")
    claims = dict(token["userinfo"])
    try:
        check_subject(claims.get("sub"))
    except UnusableClaims as exc:
        raise SignInError("claims_unusable", str(exc)) from exc
    auth_time = _checked_auth_time(claims.get("auth_time"), asked)
    if ("email" not in claims or "email_verified" not in claims) and meta.get("userinfo_endpoint"):
        claims = _with_userinfo(client, token, claims)
    # only the ID token's, checked, value counts (UserInfo's is neither signed nor checked)
    claims.pop("auth_time", None)
    if auth_time is not None:
        claims["auth_time"] = auth_time
    return Assertion(provider=provider, claims=claims, id_token=token["id_token"])


def _checked_auth_time(value, asked: dict) -> int | None:
    """The ID token's `auth_time` (OIDC Core §2, §3.1.3.7 item 13), validated; None if missing.

    A value that is not a positive number counts as missing (some providers send 0). One in
    the future beyond the leeway makes the token invalid. When we asked for a fresh sign-in,
    a missing `auth_time` or one from before we asked is refused: the provider did not show
    that the person signed in again, and the action that needed it must not go ahead.
    Raises SignInError ("token_invalid", "not_reauthenticated").
    """
    valid = isinstance(value, int | float) and not isinstance(value, bool) and 0 < value < 2**53
    auth_time = int(value) if valid else None
    if auth_time is not None and auth_time > time.time() + LEEWAY_SECONDS:
        raise SignInError("token_invalid", f"auth_time {auth_time} is in the future")
    if asked.get("fresh"):
        if auth_time is None:
            raise SignInError("not_reauthenticated", "no auth_time in the answer to a fresh sign-in")
        if auth_time < asked.get("at", 0) - LEEWAY_SECONDS:
            raise SignInError("not_reauthenticated", f"auth_time {auth_time} is before the fresh sign-in was asked")
    return auth_time


def _with_userinfo(client, token, claims: dict) -> dict:
    """Fill claims the ID token left out from UserInfo, which must describe the same subject."""
    try:
        info = dict(client.userinfo(token=token))
    except requests.HTTPError as exc:
        status = exc.response.status_code if exc.response is not None else 0
        # 401/403: the provider does not let our client read UserInfo (scope or client set-up)
        code = "userinfo_refused" if status in (401, 403) else "provider_unreachable"
        raise SignInError(code, str(exc)) from exc
    except requests.RequestException as exc:
        raise SignInError("provider_unreachable", str(exc)) from exc
    except ValueError as exc:
        raise SignInError("token_invalid", f"userinfo: {exc}") from exc
    if info.get("sub") != claims["sub"]:
        raise SignInError("token_invalid", "UserInfo sub differs from the ID token's")
    return {**info, **claims}


def logout_url(provider: Provider, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
    """The provider's end-session URL (RP-initiated logout), if it offers one."""
    try:
        meta = metadata(provider)
    except SignInError:
        return None
    if not meta.get("end_session_endpoint"):
        return None
    result = _client(provider).create_logout_url(
        post_logout_redirect_uri=post_logout_redirect_uri,
        id_token_hint=id_token,
        client_id=provider.client_id,
    )
    return result["url"]
