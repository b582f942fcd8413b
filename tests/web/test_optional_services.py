"""Redis, an optional service, failing: sign-in keeps working within 2 s on per-instance limits,
and /readyz shows each dependency's state (issue: a refused port gave 500, a silent one a hang)."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from portal import create_app
from portal.extensions import db, limiter
from tests.conftest import _config_for, free_port, provider_configs

FAST = 2.0  # seconds: what a person waits at most for the sign-in redirect


@pytest.fixture
def silent_listener():
    """A port that accepts connections and never answers a byte, like a hung Redis."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    yield listener.getsockname()[1]
    stop.set()
    listener.close()
    for conn in held:
        conn.close()


@pytest.fixture(params=["refused port", "silent listener", "running"])
def redis_state(request):
    if request.param == "refused port":
        return request.param, f"redis://127.0.0.1:{free_port()}/0"
    if request.param == "silent listener":
        return request.param, f"redis://127.0.0.1:{request.getfixturevalue('silent_listener')}/0"
    return request.param, "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_app(redis_state, monkeypatch, database_url, provider, partner_provider, tmp_path):
    state, url = redis_state
    monkeypatch.setenv("PORTAL_REDIS_URL", url)
    config = _config_for(database_url, provider_configs(provider, partner_provider), tmp_path)
    config["SIGNIN_RATE_LIMIT"] = "3 per minute"
    app = create_app(config)
    # the extension object is one per process and remembers a dead store: each app here starts
    # as a freshly started instance would
    limiter._storage_dead = False
    if state == "running":
        with app.app_context():
            limiter.reset()  # Redis database 15 is this test's: no counts from an earlier run
    app.instance_path = str(tmp_path / "instance")
    yield state, app
    with app.app_context():
        db.engine.dispose()


def timed(call):
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def test_sign_in_starts_quickly_and_stays_rate_limited_whatever_redis_does(redis_app):
    _state, app = redis_app
    client = app.test_client()

    answers = []
    for _ in range(4):
        response, seconds = timed(lambda: client.get("/auth/login?provider=mcx"))
        answers.append((response.status_code, seconds))

    assert [status for status, _ in answers] == [302, 302, 302, 429]
    assert max(seconds for _, seconds in answers) < FAST, answers


def test_readyz_reports_each_dependency_quickly(redis_app):
    state, app = redis_app

    response, seconds = timed(lambda: app.test_client().get("/readyz"))

    assert seconds < FAST
    body = response.get_json()
    assert body["database"] == "ok"
    if state == "running":
        assert response.status_code == 200 and body == {"status": "ok", "database": "ok", "redis": "ok"}
    else:
        # still ready: each instance limits on its own until Redis is back
        assert response.status_code == 200
        assert body["status"] == "degraded" and body["redis"].startswith("unavailable")


def test_readyz_names_only_configured_services(client):
    assert client.get("/readyz").get_json() == {"status": "ok", "database": "ok"}
