"""Shared fixtures: a real database (SQLite, or PostgreSQL when PORTAL_TEST_DATABASE_URL is
set), real OpenID provider processes on loopback, the app, and a browser-like test client."""
from __future__ import annotations

import os
import re
import socket
import threading
from urllib.parse import urlsplit

import psycopg
import pytest
import requests
from flask.testing import FlaskClient
from sqlalchemy import text
from werkzeug.serving import make_server

from portal import create_app
from portal.devprovider import ProviderProcess
from portal.extensions import db
from tests import factories

CLIENT_ID = "portal-tests"
CLIENT_SECRET = "portal-tests-secret"
PARTNER_DOMAIN = "firma.example.pl"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def worker_id_safe(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id_safe):
    """One database per test worker, migrated once with `flask db upgrade`."""
    base = os.environ.get("PORTAL_TEST_DATABASE_URL")
    if base:
        parts = urlsplit(base.replace("postgresql+psycopg://", "postgresql://"))
        name = f"{parts.path.lstrip('/') or 'portal_test'}_{worker_id_safe}"
        admin = parts._replace(path="/postgres").geturl()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        url = parts._replace(path=f"/{name}").geturl()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'portal.sqlite3'}"
    app = create_app({"PORTAL_DATABASE_URL": url, **_config_for(url, [], tmp_path_factory.mktemp("r"))})
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    yield url


def _config_for(url: str, providers, recordings_dir) -> dict:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-tests",
        "SQLALCHEMY_DATABASE_URI": url,
        "OIDC_PROVIDERS": providers,
        "RECORDINGS_DIR": str(recordings_dir),
        "SIGNIN_RATE_LIMIT": "10000 per minute",
        "ACCESS_REQUEST_RATE_LIMIT": "10000 per minute",
        "SERVER_NAME": None,
        # links in e-mail come from here, whatever Host a request carries
        "EXTERNAL_URL": "http://localhost",
        # sealed right after each commit, so a test reads the chain as it commits; the sealing
        # thread has its own tests (tests/test_audit_sealing.py)
        "AUDIT_SEAL_DELAY": 0,
    }


@pytest.fixture(scope="session")
def provider(tmp_path_factory):
    """The primary OpenID provider: a real process on loopback."""
    log = open(tmp_path_factory.mktemp("idp") / "provider.log", "w")
    proc = ProviderProcess(free_port(), [], log=log).start()
    yield proc
    proc.stop()
    log.close()


@pytest.fixture(scope="session")
def partner_provider(tmp_path_factory):
    """A second provider (an employer's SSO), with its own issuer."""
    log = open(tmp_path_factory.mktemp("idp2") / "provider.log", "w")
    proc = ProviderProcess(free_port(), [], log=log).start()
    yield proc
    proc.stop()
    log.close()


def provider_configs(provider, partner_provider):
    from portal.auth.provider_config import LINK_KINDS
    from portal.config import Provider

    return [
        Provider("mcx", "MCX", provider.issuer, CLIENT_ID, CLIENT_SECRET,
                 links=frozenset(LINK_KINDS), domains=None),
        # an employer's SSO with the defaults of any provider but the primary
        Provider("partner", "Partner SSO", partner_provider.issuer, CLIENT_ID, CLIENT_SECRET,
                 domains=(PARTNER_DOMAIN,)),
    ]


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory):
    """moto's standalone S3 server on loopback, with a versioned bucket; boto3 in this process
    talks to it through the standard AWS variables."""
    from tests.support import s3

    log = open(tmp_path_factory.mktemp("s3") / "moto.log", "w")
    server = s3.S3Server(free_port(), log).start()
    earlier = s3.use_in_this_process(server)
    yield server
    s3.restore(earlier)
    server.stop()
    log.close()


@pytest.fixture
def recordings_backend(request) -> str:
    """Where the app keeps recordings: "local" (a directory), or "s3" when a test module
    parametrizes this fixture with `both_backends`."""
    return getattr(request, "param", "local")


# the storage, download, termination and import tests run against both stores (issue 19)
both_backends = pytest.mark.parametrize("recordings_backend", ["local", "s3"], indirect=True)


@pytest.fixture
def app(database_url, provider, partner_provider, tmp_path, recordings_backend, request):
    recordings = tmp_path / "recordings"
    recordings.mkdir()
    config = _config_for(database_url, provider_configs(provider, partner_provider), recordings)
    if recordings_backend == "s3":
        config["RECORDINGS_URL"] = request.getfixturevalue("s3_server").fresh_url()
    app = create_app(config)
    # e-mail written as .eml files (no SMTP configured) stays out of the working tree
    app.instance_path = str(tmp_path / "instance")
    app.test_client_class = BrowserLikeClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_database()
        db.engine.dispose()


def _empty_database() -> None:
    """Delete every row, children first, so each test starts from an empty database."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # a browser test's server thread may still hold a transaction (a download the browser
            # dropped); end every other connection to this worker's database so TRUNCATE never waits
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = current_database() AND pid <> pg_backend_pid()"))
            names = ", ".join(f'"{t.name}"' for t in db.metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


class BrowserLikeClient(FlaskClient):
    """A test client that sends the CSRF token with its forms, as the portal's pages do.

    Each request runs in its own application context, as it would in the server: nothing
    cached in `g` or in the database session leaks from the test or from the request before.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            response = super().open(*args, **kwargs)
            response.was_streamed = response.is_streamed
            if response.is_streamed and not kwargs.get("buffered"):
                # read a streamed body (e.g. the export) and close it while its context is current,
                # so its request context is never popped later, out of order
                response.get_data()
                response.close()
        # the test's own session must see what the request committed
        db.session.expire_all()
        return response

    def csrf_token(self) -> str:
        page = self.get("/", follow_redirects=True).get_data(as_text=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match, "no CSRF token on the start page"
        return match.group(1)

    def submit(self, url: str, data: dict | None = None, **kwargs):
        """POST a form the way a browser would after loading a portal page."""
        return self.post(url, data={**(data or {}), "csrf_token": self.csrf_token()}, **kwargs)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def sign_in_via_provider(client, provider, partner_provider):
    """Sign `claims` in through the real provider: authorize, choose the user, follow the callback."""

    def sign_in(claims: dict, *, provider_name: str = "mcx", test_client=None):
        proc = provider if provider_name == "mcx" else partner_provider
        proc.set_user(claims)
        return complete_sign_in(test_client or client, claims["sub"], provider_name)

    return sign_in


def complete_sign_in(test_client, sub: str, provider_name: str = "mcx"):
    start = test_client.get(f"/auth/login?provider={provider_name}")
    assert start.status_code == 302, start.get_data(as_text=True)
    answer = requests.post(start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    callback = urlsplit(answer.headers["Location"])
    return test_client.get(f"{callback.path}?{callback.query}")


@pytest.fixture
def sign_in_as(client):
    """The fast path for tests about other things: a session for `identity` without the provider."""

    def sign_in(identity, test_client=None):
        return factories.signed_in(test_client or client, identity)

    return sign_in


@pytest.fixture
def live_server(app):
    """The app served over HTTP on loopback, for the browser."""
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    server.url = f"http://127.0.0.1:{server.server_port}"
    yield server
    server.shutdown()
    thread.join(5)


class Mailbox:
    """Messages received by the test SMTP server."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        from email import message_from_bytes, policy

        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def to(self, address: str) -> list:
        return [m for m in self.messages if m["To"] == address]


@pytest.fixture
def smtp_server(app):
    """A real SMTP server (aiosmtpd) on loopback; the app sends its e-mail there."""
    from aiosmtpd.controller import Controller

    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{controller.port}"
    mailbox.port = controller.port
    yield mailbox
    controller.stop()
