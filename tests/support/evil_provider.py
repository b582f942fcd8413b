"""A small OpenID provider that can be told to misbehave, run as its own process.

`python -m tests.support.evil_provider --port N` serves discovery, JWKS, an authorization
endpoint that approves at once (for the user set through /_control), a token endpoint that
checks client authentication and PKCE and spends each code once, and UserInfo. POST /_control
with JSON chooses the misbehaviour for the next sign-ins; GET /_stats counts requests.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import time
from urllib.parse import urlencode

from flask import Flask, jsonify, redirect, request
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from werkzeug.serving import run_simple

CLIENT_ID = "portal-tests"
CLIENT_SECRET = "portal-tests-secret"


def create(issuer: str) -> Flask:
    app = Flask(__name__)
    keys = {"current": RSAKey.generate_key(2048, parameters={"kid": "key-1", "use": "sig", "alg": "RS256"})}
    state: dict = {"mode": "normal", "claims": {}, "codes": {}, "tokens": {}, "stats": {"jwks": 0, "token": 0}}

    @app.post("/_control")
    def control():
        body = request.get_json()
        if body.get("rotate"):
            n = int(keys["current"].kid.split("-")[1]) + 1
            keys["current"] = RSAKey.generate_key(2048, parameters={"kid": f"key-{n}", "use": "sig", "alg": "RS256"})
        state["mode"] = body.get("mode", "normal")
        state["claims"] = body.get("claims", state["claims"])
        state["response_iss"] = body.get("response_iss")
        # how the portal must authenticate at /token, and the public keys it published for that
        state["client_auth"] = body.get("client_auth", "client_secret_basic")
        state["client_jwks"] = body.get("client_jwks")
        return "", 204

    @app.get("/_stats")
    def stats():
        return jsonify(state["stats"])

    @app.get("/.well-known/openid-configuration")
    def discovery():
        mode = state["mode"]
        return jsonify({
            "issuer": "https://impostor.example" if mode == "discovery_issuer" else issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
            "userinfo_endpoint": f"{issuer}/userinfo",
            "jwks_uri": f"{issuer}/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["none"] if mode == "advertise_none" else ["RS256", "none", "HS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
            "authorization_response_iss_parameter_supported": mode == "require_response_iss",
        })

    @app.get("/jwks")
    def jwks():
        state["stats"]["jwks"] += 1
        return jsonify(KeySet([keys["current"]]).as_dict(private=False))

    @app.get("/authorize")
    def authorize():
        args = request.args
        if args.get("client_id") != CLIENT_ID or args.get("code_challenge_method") != "S256":
            return "bad request", 400
        state["stats"]["authorize"] = state["stats"].get("authorize", 0) + 1
        state["stats"]["last_authorize"] = dict(args)
        if state["mode"] == "reject_max_age" and "max_age" in args:
            return redirect(f"{args['redirect_uri']}?" + urlencode(
                {"error": "invalid_request", "error_description": "max_age is not supported", "state": args["state"]}))
        code = secrets.token_urlsafe(16)
        state["codes"][code] = {"nonce": args.get("nonce"), "challenge": args["code_challenge"],
                                "redirect_uri": args["redirect_uri"]}
        answer = {"code": code, "state": args["state"]}
        if state.get("response_iss"):
            answer["iss"] = state["response_iss"]
        elif state["mode"] != "require_response_iss":  # that mode advertises `iss` but leaves it out
            answer["iss"] = issuer
        return redirect(f"{args['redirect_uri']}?{urlencode(answer)}")

    @app.post("/token")
    def token():
        state["stats"]["token"] += 1
        if state["mode"] == "invalid_client" or not _client_authenticated():
            return jsonify(error="invalid_client"), 401
        grant = state["codes"].pop(request.form.get("code"), None)  # a code is spent once
        if grant is None or grant["redirect_uri"] != request.form.get("redirect_uri"):
            return jsonify(error="invalid_grant"), 400
        verifier = request.form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != grant["challenge"]:
            return jsonify(error="invalid_grant", error_description="PKCE verification failed"), 400
        access_token = secrets.token_urlsafe(16)
        state["tokens"][access_token] = dict(state["claims"])
        return jsonify(access_token=access_token, token_type="Bearer", expires_in=300,
                       id_token=_id_token(grant["nonce"]))

    def _client_authenticated() -> bool:
        """RFC 6749 §2.3.1 (Basic or form secret) or RFC 7523 §2.2 (private_key_jwt), as told."""
        method, form, auth = state.get("client_auth", "client_secret_basic"), request.form, request.authorization
        if method == "client_secret_basic":
            return bool(auth) and auth.username == CLIENT_ID and auth.password == CLIENT_SECRET
        if method == "client_secret_post":
            return not auth and form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
        if form.get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            return False
        try:
            keys = KeySet.import_key_set(state["client_jwks"])
            claims = jwt.decode(form.get("client_assertion", ""), keys, algorithms=["RS256"]).claims
            jwt.JWTClaimsRegistry(iss={"essential": True, "value": CLIENT_ID},
                                  sub={"essential": True, "value": CLIENT_ID},
                                  aud={"essential": True, "value": f"{issuer}/token"},
                                  exp={"essential": True}, jti={"essential": True}).validate(claims)
        except Exception:  # any fault in the assertion is a refused client
            return False
        return True

    def _id_token(nonce: str | None) -> str:
        mode, now = state["mode"], int(time.time())
        claims = {"iss": issuer, "aud": CLIENT_ID, "sub": state["claims"]["sub"], "iat": now,
                  "exp": now + 300, "nonce": nonce, "auth_time": now}
        if mode not in ("userinfo_missing_sub", "userinfo_other_sub", "claims_in_userinfo", "userinfo_401"):
            claims.update({k: v for k, v in state["claims"].items() if k != "sub"})
        overrides = {
            "wrong_iss": {"iss": "https://other-provider.example"},
            "wrong_aud": {"aud": "someone-else"},
            "expired": {"iat": now - 3600, "exp": now - 1800},
            "iat_future": {"iat": now + 86400, "exp": now + 86700},
            "wrong_nonce": {"nonce": "not-the-nonce"},
            "nonce_supported_false": {"nonce": "not-the-nonce", "nonce_supported": False},
            "missing_nonce": {"nonce": None},
            "no_auth_time": {"auth_time": None},
            "old_auth_time": {"auth_time": now - 3600},
            "auth_time_zero": {"auth_time": 0},
            "auth_time_future": {"auth_time": now + 3600},
        }
        claims.update(overrides.get(mode, {}))
        claims = {k: v for k, v in claims.items() if v is not None}
        if mode == "alg_none":
            header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
            import json
            payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
            return f"{header}.{payload}."
        if mode == "hs256":
            return jwt.encode({"alg": "HS256", "kid": keys["current"].kid}, claims, OctKey.import_key(CLIENT_SECRET),
                              algorithms=["HS256"])
        key = keys["current"]
        if mode == "unknown_key":
            key = RSAKey.generate_key(2048, parameters={"kid": keys["current"].kid})
        return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)

    @app.route("/userinfo", methods=["GET", "POST"])
    def userinfo():
        header = request.headers.get("Authorization", "")
        claims = state["tokens"].get(header.removeprefix("Bearer "))
        if claims is None or state["mode"] == "userinfo_401":
            return jsonify(error="invalid_token"), 401
        claims = dict(claims)
        if state["mode"] == "userinfo_missing_sub":
            claims.pop("sub")
        elif state["mode"] == "userinfo_other_sub":
            claims["sub"] = "someone-else"
        return jsonify(claims)

    return app


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    issuer = f"http://127.0.0.1:{args.port}"
    run_simple("127.0.0.1", args.port, create(issuer), threaded=True)


if __name__ == "__main__":
    main()
