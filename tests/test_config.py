"""Configuration from PORTAL_* environment variables: defaults for a fresh machine, refusals in production."""
from __future__ import annotations

import json
import stat

import pytest

from portal import config, create_app
from portal.config import ConfigError

GOOD_SECRET = "x" * 48
PRODUCTION = {
    "PORTAL_ENV": "production",
    "PORTAL_SECRET_KEY": GOOD_SECRET,
    "PORTAL_OIDC_ISSUER": "https://login.mcx.example/",
    "PORTAL_OIDC_CLIENT_ID": "portal",
    "PORTAL_OIDC_CLIENT_SECRET": "client-secret-from-the-provider",
    "PORTAL_DATABASE_URL": "postgresql://portal@db.internal/portal",
    "PORTAL_AUDIT_KEY": "2026:" + "a" * 48,
    "PORTAL_EXTERNAL_URL": "https://portal.mcx.example",
}


@pytest.fixture
def instance(tmp_path):
    """An instance folder that does not exist yet, as on a fresh checkout."""
    return tmp_path / "instance"


def test_defaults_work_on_a_fresh_machine(instance):
    settings = config.load(str(instance), {})

    assert settings["PORTAL_ENV"] == "development"
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{instance / 'portal.sqlite3'}"
    assert settings["RECORDINGS_DIR"] == str(instance / "recordings")
    [primary] = settings["OIDC_PROVIDERS"]
    assert primary.name == "mcx" and primary.issuer == config.DEV_ISSUER
    assert settings["SESSION_COOKIE_SECURE"] is False
    assert settings["BABEL_DEFAULT_LOCALE"] == "pl"


def test_development_secret_is_generated_once_kept_private_and_reused(instance):
    first = config.load(str(instance), {})["SECRET_KEY"]

    secret_file = instance / "dev-secret-key"
    assert secret_file.read_text().strip() == first
    assert len(first) >= 32
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert config.load(str(instance), {})["SECRET_KEY"] == first


def test_each_checkout_gets_its_own_development_secret(tmp_path):
    one = config.load(str(tmp_path / "a"), {})["SECRET_KEY"]
    other = config.load(str(tmp_path / "b"), {})["SECRET_KEY"]
    assert one != other


def test_environment_overrides_defaults(instance):
    settings = config.load(str(instance), {
        "PORTAL_SECRET_KEY": "set-by-operator",
        "PORTAL_DATABASE_URL": "sqlite:////srv/portal/portal.sqlite3",
        "PORTAL_RECORDINGS_DIR": "/srv/recordings",
        "PORTAL_OIDC_ISSUER": "https://login.mcx.example/",
        "PORTAL_OIDC_CLIENT_ID": "portal",
        "PORTAL_OIDC_CLIENT_SECRET": "s3cret",
        "PORTAL_SMTP_URL": "smtp://mail.internal:25",
        "PORTAL_REDIS_URL": "redis://cache.internal:6379/0",
    })

    assert settings["SECRET_KEY"] == "set-by-operator"
    assert not (instance / "dev-secret-key").exists()
    assert settings["SQLALCHEMY_DATABASE_URI"] == "sqlite:////srv/portal/portal.sqlite3"
    assert settings["RECORDINGS_DIR"] == "/srv/recordings"
    [primary] = settings["OIDC_PROVIDERS"]
    assert (primary.issuer, primary.client_id, primary.client_secret) == (
        "https://login.mcx.example", "portal", "s3cret")
    assert settings["SMTP_URL"] == "smtp://mail.internal:25"
    # several instances share one rate-limit store
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://cache.internal:6379/0"


def test_without_redis_rate_limits_are_kept_in_memory(instance):
    assert config.load(str(instance), {})["RATELIMIT_STORAGE_URI"] == "memory://"


@pytest.mark.parametrize("given, expected", [
    ("postgresql://portal:pw@db:5432/portal", "postgresql+psycopg://portal:pw@db:5432/portal"),
    ("postgresql+psycopg://portal@db/portal", "postgresql+psycopg://portal@db/portal"),
])
def test_postgresql_urls_use_psycopg_3(instance, given, expected):
    settings = config.load(str(instance), {"PORTAL_DATABASE_URL": given})
    assert settings["SQLALCHEMY_DATABASE_URI"] == expected


def test_production_with_everything_set_starts_with_secure_cookies(instance):
    settings = config.load(str(instance), PRODUCTION)

    assert settings["PORTAL_ENV"] == "production"
    assert settings["SECRET_KEY"] == GOOD_SECRET
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["SESSION_COOKIE_HTTPONLY"] is True
    assert settings["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert settings["PREFERRED_URL_SCHEME"] == "https"
    assert not (instance / "dev-secret-key").exists()


@pytest.mark.parametrize("missing", ["PORTAL_SECRET_KEY", "PORTAL_OIDC_ISSUER",
                                     "PORTAL_OIDC_CLIENT_ID", "PORTAL_OIDC_CLIENT_SECRET", "PORTAL_AUDIT_KEY",
                                     "PORTAL_EXTERNAL_URL"])
def test_production_refuses_to_start_without_a_required_variable(instance, missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}

    with pytest.raises(ConfigError) as refused:
        config.load(str(instance), env)

    assert missing in str(refused.value)
    # never falls back to a generated key in production
    assert not (instance / "dev-secret-key").exists()


def test_production_refuses_an_empty_secret(instance):
    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        config.load(str(instance), {**PRODUCTION, "PORTAL_SECRET_KEY": ""})


def test_production_refuses_a_short_secret(instance):
    with pytest.raises(ConfigError) as refused:
        config.load(str(instance), {**PRODUCTION, "PORTAL_SECRET_KEY": "x" * 31})

    message = str(refused.value)
    assert "PORTAL_SECRET_KEY" in message and "32" in message


def test_production_accepts_a_32_character_secret(instance):
    settings = config.load(str(instance), {**PRODUCTION, "PORTAL_SECRET_KEY": "x" * 32})
    assert settings["SECRET_KEY"] == "x" * 32


def test_extra_providers_are_added_from_json(instance):
    extra = [
        {"name": "partner", "label": "Partner SSO", "issuer": "https://sso.partner.example/",
         "client_id": "mcx", "client_secret": "p"},
        {"name": "other", "issuer": "https://idp.other.example", "client_id": "mcx2", "client_secret": "q"},
    ]
    settings = config.load(str(instance), {"PORTAL_OIDC_PROVIDERS": json.dumps(extra)})

    providers = {p.name: p for p in settings["OIDC_PROVIDERS"]}
    assert list(providers) == ["mcx", "partner", "other"]
    assert providers["partner"].label == "Partner SSO"
    assert providers["partner"].issuer == "https://sso.partner.example"
    assert providers["partner"].metadata_url == "https://sso.partner.example/.well-known/openid-configuration"
    assert (providers["other"].label, providers["other"].client_id) == ("other", "mcx2")


@pytest.mark.parametrize("value", [
    "not json",
    '{"name": "partner", "issuer": "https://sso.partner.example", "client_id": "x"}',
    '[{"name": "partner", "client_id": "x"}]',
    '[{"issuer": "https://sso.partner.example", "client_id": "x"}]',
    '["partner"]',
])
def test_malformed_provider_list_is_refused_with_a_clear_message(instance, value):
    with pytest.raises(ConfigError) as refused:
        config.load(str(instance), {"PORTAL_OIDC_PROVIDERS": value})

    message = str(refused.value)
    assert "PORTAL_OIDC_PROVIDERS" in message
    assert "JSON list" in message


@pytest.mark.parametrize("names", [["partner", "partner"], ["mcx"]])
def test_duplicate_provider_names_are_refused(instance, names):
    extra = [{"name": n, "issuer": f"https://{i}.example", "client_id": "x", "client_secret": "y"}
             for i, n in enumerate(names)]

    with pytest.raises(ConfigError) as refused:
        config.load(str(instance), {"PORTAL_OIDC_PROVIDERS": json.dumps(extra)})

    message = str(refused.value)
    assert "PORTAL_OIDC_PROVIDERS" in message and "unique" in message


def test_create_app_in_production_without_a_secret_refuses_to_start(monkeypatch):
    for name in ("PORTAL_SECRET_KEY", "PORTAL_OIDC_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_OIDC_ISSUER", "https://login.mcx.example")

    with pytest.raises(ConfigError, match="PORTAL_SECRET_KEY"):
        create_app()


def test_create_app_in_production_without_an_issuer_refuses_to_start(monkeypatch):
    for name in ("PORTAL_OIDC_ISSUER", "PORTAL_OIDC_PROVIDERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    monkeypatch.setenv("PORTAL_SECRET_KEY", GOOD_SECRET)
    monkeypatch.setenv("PORTAL_AUDIT_KEY", PRODUCTION["PORTAL_AUDIT_KEY"])
    monkeypatch.setenv("PORTAL_EXTERNAL_URL", PRODUCTION["PORTAL_EXTERNAL_URL"])

    with pytest.raises(ConfigError, match="PORTAL_OIDC_ISSUER"):
        create_app()


@pytest.mark.parametrize("name, value, says", [
    ("PORTAL_SESSION_IDLE_MINUTES", "0", "at least 1"),
    ("PORTAL_SESSION_MAX_HOURS", "0", "at least 1"),
    ("PORTAL_SESSION_MAX_HOURS", "twelve", "whole number"),
    ("PORTAL_RECENT_AUTH_SECONDS", "-5", "negative"),
])
def test_bad_numbers_are_refused_with_a_clear_message(instance, name, value, says):
    with pytest.raises(ConfigError) as refused:
        config.load(str(instance), {name: value})
    assert name in str(refused.value) and says in str(refused.value)


def test_session_limits_can_be_set(instance):
    settings = config.load(str(instance), {"PORTAL_SESSION_IDLE_MINUTES": "15", "PORTAL_SESSION_MAX_HOURS": "8"})
    assert (settings["SESSION_IDLE_MINUTES"], settings["SESSION_MAX_HOURS"]) == (15, 8)


def test_recordings_stay_in_a_local_directory_unless_an_object_store_is_named(instance):
    loaded = config.load(str(instance), {})
    assert (loaded["RECORDINGS_URL"], loaded["RECORDINGS_SERVE"], loaded["LOG_FORMAT"]) == ("", "stream", "text")
    s3 = config.load(str(instance), {"PORTAL_RECORDINGS_URL": "s3://mcx-recordings/portal",
                                     "PORTAL_RECORDINGS_SERVE": "redirect"})
    assert (s3["RECORDINGS_URL"], s3["RECORDINGS_SERVE"]) == ("s3://mcx-recordings/portal", "redirect")


@pytest.mark.parametrize("env, named", [
    ({"PORTAL_RECORDINGS_URL": "https://bucket.example/prefix"}, "PORTAL_RECORDINGS_URL"),
    ({"PORTAL_RECORDINGS_URL": "s3:///prefix"}, "PORTAL_RECORDINGS_URL"),
    ({"PORTAL_RECORDINGS_SERVE": "redirect"}, "PORTAL_RECORDINGS_SERVE"),
    ({"PORTAL_RECORDINGS_SERVE": "sendfile"}, "PORTAL_RECORDINGS_SERVE"),
    ({"PORTAL_LOG_FORMAT": "xml"}, "PORTAL_LOG_FORMAT"),
])
def test_a_wrong_store_serving_or_log_setting_is_named(instance, env, named):
    with pytest.raises(ConfigError, match=named):
        config.load(str(instance), env)


@pytest.mark.parametrize(("value", "delay"), [(None, 0.02), ("0", 0.0), ("250", 0.25)])
def test_the_audit_sealing_pace_is_set_in_milliseconds(instance, value, delay):
    env = {} if value is None else {"PORTAL_AUDIT_SEAL_MS": value}

    assert config.load(str(instance), env)["AUDIT_SEAL_DELAY"] == delay


def test_a_negative_audit_sealing_pace_is_refused(instance):
    with pytest.raises(config.ConfigError, match="PORTAL_AUDIT_SEAL_MS"):
        config.load(str(instance), {"PORTAL_AUDIT_SEAL_MS": "-5"})
