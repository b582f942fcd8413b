"""Only the routes that name a limit pay for Flask-Limiter (issue #15); those limits still hold."""
from __future__ import annotations

from flask_limiter import Limiter

from portal.extensions import limiter


def checks_during(client, monkeypatch, path: str) -> int:
    """How many times Flask-Limiter looked for the limits of the request to `path`."""
    calls = []
    original = Limiter.identify_request
    monkeypatch.setattr(Limiter, "identify_request", lambda self: calls.append(1) or original(self))
    client.get(path)
    return len(calls)


def test_a_page_without_a_limit_does_not_run_the_limiter(app, monkeypatch):
    assert checks_during(app.test_client(), monkeypatch, "/healthz") == 0


def test_a_limited_route_still_checks_and_answers_429(app, monkeypatch):
    app.config["SIGNIN_RATE_LIMIT"] = "2 per minute"
    limiter.reset()
    client = app.test_client()
    assert checks_during(client, monkeypatch, "/auth/login?provider=mcx") >= 1
    statuses = [client.get("/auth/login?provider=mcx").status_code for _ in range(2)]
    assert statuses == [302, 429]
    assert client.get("/auth/login?provider=mcx").headers.get("Retry-After")  # the headers hook ran
    limiter.reset()
