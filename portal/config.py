"""Configuration from PORTAL_* environment variables, with defaults that work on a fresh machine."""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

# Provider is imported from here across the portal and its tests
from portal.auth.provider_config import Provider, ProviderConfigError, providers_from_env  # noqa: F401

DEV_ISSUER = "http://127.0.0.1:9400"
DEV_CLIENT_ID = "mcx-portal-dev"
DEV_CLIENT_SECRET = "mcx-portal-dev-secret"
# connecting to, and each answer from, the optional Redis (rate-limit counters shared by instances)
REDIS_TIMEOUT_SECONDS = 0.5


class ConfigError(RuntimeError):
    """The environment does not describe a portal that may start."""


def _signing_key_file(env: dict[str, str], instance: Path) -> str:
    return env.get("PORTAL_OIDC_SIGNING_KEY_FILE") or str(instance / "oidc-signing-key.pem")


def _providers(env: dict[str, str], production: bool, instance: Path) -> list[Provider]:
    issuer = env.get("PORTAL_OIDC_ISSUER")
    if not issuer:
        if production:
            raise ConfigError(
                "PORTAL_OIDC_ISSUER is not set: set it to your OpenID provider's issuer URL "
                "(and PORTAL_OIDC_CLIENT_ID / PORTAL_OIDC_CLIENT_SECRET)."
            )
        issuer = DEV_ISSUER
    if production:
        # the development client's credentials are public: never sign in with them for real
        for name in ("PORTAL_OIDC_CLIENT_ID", "PORTAL_OIDC_CLIENT_SECRET"):
            if not env.get(name):
                raise ConfigError(f"{name} is not set: set it to the value your OpenID provider "
                                  "issued for the portal.")
    try:
        providers = providers_from_env(
            env, issuer=issuer, client_id=env.get("PORTAL_OIDC_CLIENT_ID", DEV_CLIENT_ID),
            client_secret=env.get("PORTAL_OIDC_CLIENT_SECRET", DEV_CLIENT_SECRET))
    except ProviderConfigError as exc:
        raise ConfigError(str(exc)) from exc
    if production:
        plain = [p.issuer for p in providers if not p.issuer.startswith("https://")]
        if plain:
            raise ConfigError(f"OpenID provider issuers must use https in production: {', '.join(plain)}")
    if production and any(p.token_endpoint_auth_method == "private_key_jwt" for p in providers) \
            and not Path(_signing_key_file(env, instance)).is_file():
        raise ConfigError("PORTAL_OIDC_SIGNING_KEY_FILE must name the portal's PEM RSA private key: a provider "
                          f"uses private_key_jwt and {_signing_key_file(env, instance)} does not exist.")
    names = [p.name for p in providers]
    if len(set(names)) != len(names):
        raise ConfigError("PORTAL_OIDC_PROVIDERS: provider names must be unique (\"mcx\" is the primary).")
    return providers


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    try:
        value = int(env.get(name, default))
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {env[name]!r}.") from None
    if value < minimum:
        raise ConfigError(f"{name} must not be negative." if minimum == 0 else f"{name} must be at least {minimum}.")
    return value


def _dev_secret(instance: Path, name: str = "dev-secret-key") -> str:
    """A per-checkout random secret, so a development portal never runs on a known key."""
    path = instance / name
    if not path.exists():
        instance.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


DEV_EXTERNAL_URL = "http://127.0.0.1:5000"


def _external_url(env: dict[str, str], production: bool) -> str:
    """PORTAL_EXTERNAL_URL: the portal's public base URL; every link in an e-mail or document
    starts with it (SPEC, machine-readable contracts), never with the request's Host."""
    value = env.get("PORTAL_EXTERNAL_URL", "").strip()
    if not value:
        if production:
            raise ConfigError("PORTAL_EXTERNAL_URL is not set: in production set it to the portal's public "
                              "address, e.g. https://portal.mcx.pl (links in e-mails are built from it).")
        return DEV_EXTERNAL_URL
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or parts.username or parts.password:
        raise ConfigError(f"PORTAL_EXTERNAL_URL must be an http(s) address without query or user, not {value!r}.")
    if production and parts.scheme != "https":
        raise ConfigError("PORTAL_EXTERNAL_URL must use https in production.")
    return value.rstrip("/")


_KEY_ID = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def _audit_keys(env: dict[str, str], instance: Path, production: bool) -> tuple[str, dict[str, bytes]]:
    """PORTAL_AUDIT_KEY: `ID:SECRET[,ID:SECRET…]`, the current key first, then earlier keys that
    still verify older events (a bare SECRET is the key with id `default`). Returns the current
    key's id and every key by id. Development uses a random key kept under instance/."""
    value = env.get("PORTAL_AUDIT_KEY", "").strip()
    if not value:
        if production:
            raise ConfigError(
                "PORTAL_AUDIT_KEY is not set: in production set it to ID:SECRET with a long random secret "
                "(e.g. 2026a:$(python -c 'import secrets; print(secrets.token_urlsafe(48))')); see the README.")
        return "dev", {"dev": _dev_secret(instance, "dev-audit-key").encode()}
    keys: dict[str, bytes] = {}
    for entry in value.split(","):
        key_id, sep, secret = entry.strip().partition(":")
        if not sep:
            key_id, secret = "default", key_id
        if not _KEY_ID.fullmatch(key_id) or key_id == "legacy":
            raise ConfigError(f"PORTAL_AUDIT_KEY: {key_id!r} is not a key id (letters, digits, _ . -; "
                              "at most 32; not \"legacy\").")
        if key_id in keys:
            raise ConfigError(f"PORTAL_AUDIT_KEY: the key id {key_id!r} appears twice.")
        if len(secret) < (32 if production else 1):
            raise ConfigError(f"PORTAL_AUDIT_KEY: the secret of key {key_id!r} is too short "
                              "(at least 32 characters in production).")
        keys[key_id] = secret.encode()
    return next(iter(keys)), keys


def _log_format(env: dict[str, str], production: bool) -> str:
    value = env.get("PORTAL_LOG_FORMAT", "json" if production else "text").strip().lower()
    if value not in ("json", "text"):
        raise ConfigError("PORTAL_LOG_FORMAT must be json or text.")
    return value


def _recordings_store(env: dict[str, str]) -> dict:
    """PORTAL_RECORDINGS_URL (s3://bucket/prefix; empty: the local directory), how downloads are
    served (PORTAL_RECORDINGS_SERVE: `stream` through the portal, or `redirect` to a presigned URL
    of the object store valid PORTAL_RECORDINGS_PRESIGN_SECONDS)."""
    url = env.get("PORTAL_RECORDINGS_URL", "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
            raise ConfigError(f"PORTAL_RECORDINGS_URL must look like s3://bucket/prefix, not {url!r}.")
    serve = env.get("PORTAL_RECORDINGS_SERVE", "stream").strip().lower()
    if serve not in ("stream", "redirect"):
        raise ConfigError("PORTAL_RECORDINGS_SERVE must be stream or redirect.")
    if serve == "redirect" and not url:
        raise ConfigError("PORTAL_RECORDINGS_SERVE=redirect needs an object store (PORTAL_RECORDINGS_URL).")
    return {"RECORDINGS_URL": url, "RECORDINGS_SERVE": serve,
            "RECORDINGS_PRESIGN_SECONDS": _int(env, "PORTAL_RECORDINGS_PRESIGN_SECONDS", 60, minimum=5)}


def load(instance_path: str, env: dict[str, str] | None = None) -> dict:
    """Build the Flask config mapping from the environment."""
    env = dict(os.environ if env is None else env)
    instance = Path(instance_path)
    production = env.get("PORTAL_ENV", "development") == "production"

    secret = env.get("PORTAL_SECRET_KEY")
    if not secret:
        if production:
            raise ConfigError(
                "PORTAL_SECRET_KEY is not set: in production set it to a long random value "
                "(e.g. python -c 'import secrets; print(secrets.token_urlsafe(48))')."
            )
        secret = _dev_secret(instance)
    elif production and len(secret) < 32:
        raise ConfigError("PORTAL_SECRET_KEY is too short for production: use at least 32 characters.")

    database_url = env.get("PORTAL_DATABASE_URL") or f"sqlite:///{instance / 'portal.sqlite3'}"
    for scheme in ("postgresql://", "postgres://"):
        if database_url.startswith(scheme):
            database_url = "postgresql+psycopg://" + database_url.removeprefix(scheme)

    redis_url = env.get("PORTAL_REDIS_URL")
    audit_key_id, audit_keys = _audit_keys(env, instance, production)
    external_url = _external_url(env, production)
    return {
        "PORTAL_ENV": "production" if production else "development",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": database_url,
        # keys the audit chain (HMAC-SHA256); never written to the database
        "AUDIT_KEY_ID": audit_key_id,
        "AUDIT_KEYS": audit_keys,
        # seconds a commit's audit events wait so that one sealer run chains all the commits of
        # that moment (portal/audit_sealer.py); 0 seals right after each commit instead
        "AUDIT_SEAL_DELAY": _int(env, "PORTAL_AUDIT_SEAL_MS", 20) / 1000,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "OIDC_PROVIDERS": _providers(env, production, instance),
        # the portal's private key for providers that use private_key_jwt (RFC 7523)
        "OIDC_SIGNING_KEY_FILE": _signing_key_file(env, instance),
        "EXTERNAL_URL": external_url,
        "RECORDINGS_DIR": env.get("PORTAL_RECORDINGS_DIR") or str(instance / "recordings"),
        **_recordings_store(env),
        "SMTP_URL": env.get("PORTAL_SMTP_URL", ""),
        "MAIL_FROM": env.get("PORTAL_MAIL_FROM", "MCX Telecom <prywatnosc@mcx.pl>"),
        # whether the mail server takes non-ASCII local parts (RFC 6531); if not, forms refuse them
        "SMTP_UTF8": env.get("PORTAL_SMTP_UTF8", "0").strip().lower() in ("1", "true", "yes"),
        # a message that failed this many times is parked and shown to staff
        "MAIL_MAX_ATTEMPTS": _int(env, "PORTAL_MAIL_MAX_ATTEMPTS", 10, minimum=1),
        "REDIS_URL": redis_url or "",
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,
        # several portals can share one Redis; their counters stay apart by prefix
        "RATELIMIT_KEY_PREFIX": env.get("PORTAL_REDIS_PREFIX", "mcx-portal"),
        # Redis is optional: a refused or silent Redis costs a request at most REDIS_TIMEOUT_SECONDS
        # (no retries), then each instance counts on its own until Redis answers again
        "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                                      "socket_timeout": REDIS_TIMEOUT_SECONDS},
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "SIGNIN_RATE_LIMIT": env.get("PORTAL_SIGNIN_RATE_LIMIT", "20 per minute"),
        "ACCESS_REQUEST_RATE_LIMIT": env.get("PORTAL_ACCESS_REQUEST_RATE_LIMIT", "10 per hour"),
        # customer look-ups one staff member may make (exact matches only; each one is audited)
        "STAFF_LOOKUP_RATE_LIMIT": env.get("PORTAL_STAFF_LOOKUP_RATE_LIMIT", "60 per hour"),
        # e-mail to addresses a customer typed (contact e-mail confirmation, invitations)
        "TYPED_MAIL_PER_CUSTOMER": _int(env, "PORTAL_TYPED_MAIL_PER_CUSTOMER", 10, minimum=1),
        "TYPED_MAIL_PER_ADDRESS": _int(env, "PORTAL_TYPED_MAIL_PER_ADDRESS", 3, minimum=1),
        "TYPED_MAIL_WINDOW_HOURS": _int(env, "PORTAL_TYPED_MAIL_WINDOW_HOURS", 24, minimum=1),
        "RECENT_AUTH_SECONDS": _int(env, "PORTAL_RECENT_AUTH_SECONDS", 600),
        # a session ends after this long without a request, and at the latest this long after sign-in
        "SESSION_IDLE_MINUTES": _int(env, "PORTAL_SESSION_IDLE_MINUTES", 30, minimum=1),
        "SESSION_MAX_HOURS": _int(env, "PORTAL_SESSION_MAX_HOURS", 12, minimum=1),
        # GET /metrics answers only with this bearer token (404 when unset)
        "METRICS_TOKEN": env.get("PORTAL_METRICS_TOKEN", ""),
        # one JSON object per log line, or plain text (the development default)
        "LOG_FORMAT": _log_format(env, production),
        "TERMINATION_NOTICE_MONTHS": _int(env, "PORTAL_TERMINATION_NOTICE_MONTHS", 1),
        # how many reverse proxies set X-Forwarded-For/-Proto in front of the portal
        "PROXY_COUNT": _int(env, "PORTAL_PROXY_COUNT", 0),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_NAME": "__Host-portal" if production else "portal",
        "PREFERRED_URL_SCHEME": "https" if production else "http",
        "WTF_CSRF_TIME_LIMIT": None,
        # no form of the portal comes near (the longest is a policy version's two texts); a body
        # beyond is refused (413) before it is read (issue #15, item 6)
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "pl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Warsaw",
        "LANGUAGES": ("pl", "en"),
    }
