"""The portal's own signing key for `private_key_jwt` client authentication (RFC 7523 §2.2,
OIDC Core §9), and the JWKS that publishes its public half at `/auth/jwks.json`.

The key is read from PORTAL_OIDC_SIGNING_KEY_FILE (a PEM RSA private key). In development a key
is generated once under `instance/`, like the development secret; production requires the file
when any provider uses `private_key_jwt`.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, jsonify
from joserfc.jwk import KeySet, RSAKey

bp = Blueprint("client_keys", __name__, url_prefix="/auth")


def load_or_create(path: str, *, create: bool) -> RSAKey:
    """The RSA key in `path` (PEM), generated there first when `create` and it does not exist.

    Raises FileNotFoundError when it is missing and may not be created, ValueError when the file
    holds no RSA private key.
    """
    file = Path(path)
    if not file.exists():
        if not create:
            raise FileNotFoundError(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        key = RSAKey.generate_key(2048, private=True)
        file.write_bytes(key.as_pem(private=True))
        file.chmod(0o600)
    key = RSAKey.import_key(file.read_bytes())
    if not key.is_private:
        raise ValueError(f"{path} holds no private key")
    # the kid is the key's RFC 7638 thumbprint, so a new key is told apart from the old one
    return RSAKey.import_key(file.read_bytes(), {"kid": key.thumbprint(), "use": "sig", "alg": "RS256"})


def public_jwks(key: RSAKey) -> dict:
    return KeySet([key]).as_dict(private=False)


@bp.get("/jwks.json")
def jwks():
    """The portal's public signing key, for providers that authenticate it by `private_key_jwt`."""
    key = current_app.extensions.get("portal_signing_key")
    response = jsonify(public_jwks(key) if key is not None else {"keys": []})
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
