"""OpenID Connect Back-Channel Logout 1.0: a provider ends a person's sessions here, server to server.

The provider POSTs a signed logout token. It is accepted only when it is signed with an
asymmetric algorithm by a key from that provider's JWKS, is addressed to our client id, has
`iat` and an unexpired `exp`, carries the back-channel logout event, names `sub` and/or `sid`,
has no `nonce` (so an ID token cannot pass for one) and a `jti` never seen before. Then the
matching sessions end at once; anything else is a 400 that ends nothing.
"""
from __future__ import annotations

import json
from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry, extract_compact
from joserfc.jwt import JWTClaimsRegistry
from requests import RequestException
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import audit
from portal.auth import oidc, sessions
from portal.auth.models import Identity, SeenLogoutToken, UserSession
from portal.config import Provider
from portal.db_types import utcnow
from portal.extensions import csrf, db, limiter

bp = Blueprint("backchannel", __name__, url_prefix="/auth")

LOGOUT_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LEEWAY_SECONDS = 60


class LogoutTokenError(ValueError):
    """The logout token is not acceptable; nothing was ended."""


@bp.post("/backchannel-logout")
@csrf.exempt  # server to server: the signed logout token is the authentication
# A provider ending many sessions at once (or many people behind one address) must never be
# turned away by the sign-in limit meant for browsers; a refused logout would leave sessions open.
@limiter.exempt
def backchannel_logout():
    """End the sessions a provider's logout token names."""
    try:
        provider, claims = validate(request.form.get("logout_token", ""))
        remember(provider, claims)
        end_sessions(provider, claims)
    except LogoutTokenError as error:
        db.session.rollback()
        audit.record("backchannel_logout_refused", reason=str(error)[:300], ip=request.remote_addr)
        db.session.commit()
        return _answer({"error": "invalid_request", "error_description": str(error)}, 400)
    db.session.commit()
    return _answer({}, 200)


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _unverified(token: str) -> tuple[dict, dict]:
    """Header and claims before the signature is checked: only to pick the provider and its keys."""
    if not token or token.count(".") != 2:
        raise LogoutTokenError("logout_token is missing or not a compact JWS")
    try:
        compact = extract_compact(token.encode(), registry=JWSRegistry(strict_check_header=False))
        claims = json.loads(compact.payload)
    except (JoseError, ValueError, TypeError) as error:
        raise LogoutTokenError(f"logout_token cannot be read: {error}") from error
    if not isinstance(claims, dict):
        raise LogoutTokenError("logout_token claims are not a JSON object")
    return compact.headers(), claims


def _key_set(provider: Provider, force: bool = False) -> KeySet:
    client = current_app.extensions["portal_oauth"].create_client(provider.name)
    try:
        return KeySet.import_key_set(client.fetch_jwk_set(force=force))
    except (RequestException, RuntimeError, ValueError, JoseError) as error:
        raise LogoutTokenError(f"the provider's keys cannot be fetched: {error}") from error


def validate(token: str) -> tuple[Provider, dict]:
    """Check everything Back-Channel Logout 1.0 §2.6 asks; return the provider and the claims."""
    header, unverified = _unverified(token)
    if header.get("alg") not in oidc.ASYMMETRIC_ALGS:
        raise LogoutTokenError(f"alg {header.get('alg')!r} is not accepted")
    issuer = unverified.get("iss")
    provider = next((p for p in oidc.providers() if isinstance(issuer, str) and p.issuer == issuer.rstrip("/")), None)
    if provider is None:
        raise LogoutTokenError("iss is not a configured provider")
    try:
        allowed = oidc.metadata(provider)["id_token_signing_alg_values_supported"]
    except oidc.SignInError as error:
        raise LogoutTokenError(f"the provider cannot be trusted now: {error.code}") from error
    registry = JWSRegistry(algorithms=allowed, strict_check_header=False)
    try:
        try:
            claims = jwt.decode(token, _key_set(provider), registry=registry).claims
        except InvalidKeyIdError:
            # the provider may have rotated its keys since we last fetched them
            claims = jwt.decode(token, _key_set(provider, force=True), registry=registry).claims
        JWTClaimsRegistry(
            leeway=LEEWAY_SECONDS,
            iss={"essential": True, "values": [provider.issuer, provider.issuer + "/"]},
            aud={"essential": True, "value": provider.client_id},
            iat={"essential": True},
            exp={"essential": True},
            jti={"essential": True},
        ).validate(claims)
    except JoseError as error:
        detail = f"{error.error}: {error.description}" if error.description else error.error
        raise LogoutTokenError(f"logout_token is not valid: {detail}") from error
    events = claims.get("events")
    if not isinstance(events, dict) or not isinstance(events.get(LOGOUT_EVENT), dict):
        raise LogoutTokenError("events must hold the back-channel logout event")
    if not any(isinstance(claims.get(name), str) and claims[name] for name in ("sub", "sid")):
        raise LogoutTokenError("sub or sid is required")
    if "nonce" in claims:
        raise LogoutTokenError("a logout token must not have a nonce")
    if len(claims["jti"]) > 255:
        raise LogoutTokenError("jti is too long")
    return provider, claims


def remember(provider: Provider, claims: dict) -> None:
    """Record the token's `jti`; a token seen before (or racing its twin) is refused."""
    now = utcnow()
    db.session.query(SeenLogoutToken).filter(SeenLogoutToken.expires_at < now).delete()
    seen = db.session.scalar(select(SeenLogoutToken.id).where(
        SeenLogoutToken.issuer == provider.issuer, SeenLogoutToken.jti == claims["jti"]))
    if seen is not None:
        raise LogoutTokenError("this logout token was already used (jti seen before)")
    # the token stays acceptable until exp plus the leeway `validate` allows: remember it that long
    expires = datetime.fromtimestamp(claims["exp"] + LEEWAY_SECONDS, UTC)
    try:
        with db.session.begin_nested():
            db.session.add(SeenLogoutToken(issuer=provider.issuer, jti=claims["jti"], expires_at=expires))
    except IntegrityError as error:
        raise LogoutTokenError("this logout token was already used (jti seen before)") from error


def end_sessions(provider: Provider, claims: dict) -> int:
    """End the provider's sessions that match `sid` and/or `sub`; returns how many ended."""
    query = select(UserSession.id, UserSession.identity_id).where(
        UserSession.provider == provider.name, UserSession.revoked_at.is_(None))
    if isinstance(claims.get("sid"), str):
        query = query.where(UserSession.provider_sid == claims["sid"])
    if isinstance(claims.get("sub"), str):
        query = query.where(UserSession.identity_id.in_(select(Identity.id).where(
            Identity.issuer == provider.issuer, Identity.subject == claims["sub"])))
    matching = db.session.execute(query).all()
    if not matching:
        return 0
    ended = sessions.revoke(select(UserSession.id).where(UserSession.id.in_([row.id for row in matching])),
                            "backchannel_logout")
    for identity in db.session.scalars(select(Identity).where(
            Identity.id.in_({row.identity_id for row in matching}))):
        count = sum(1 for row in matching if row.identity_id == identity.id)
        audit.record("backchannel_logout", actor_id=identity.id, customer_id=identity.customer_id,
                     provider=provider.name, sessions=count)
    return ended
