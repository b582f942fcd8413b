"""GET /metrics (issue 19): protected by a bearer token; request counts and latencies per route
name; domain gauges that follow a request through the moderators' queue."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from portal.extensions import db
from tests import factories
from tests.conftest import free_port
from tests.people.test_moderation import pending_request

TOKEN = "metrics-token-for-the-tests"


def scrape(client) -> dict[str, float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.status_code
    assert response.content_type.startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


@pytest.fixture
def metrics_client(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    return client


def test_without_a_configured_token_metrics_do_not_exist(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer anything"}).status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x"])
def test_a_missing_or_wrong_token_is_refused(metrics_client, header):
    response = metrics_client.get("/metrics", headers={"Authorization": header} if header else {})

    assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "portal_" not in response.get_data(as_text=True)


def test_requests_are_counted_and_timed_per_route_name_not_per_path(metrics_client):
    before = scrape(metrics_client)
    for recording_id in (101, 102, 103):  # three paths, one route
        metrics_client.get(f"/rooms/recordings/{recording_id}")
    after = scrape(metrics_client)

    key = "portal_http_requests_total{endpoint=rooms.download,method=GET,status=302}"
    assert after[key] - before.get(key, 0) == 3
    histogram = "portal_http_request_duration_seconds_count{endpoint=rooms.download}"
    assert after[histogram] - before.get(histogram, 0) == 3
    assert not any("101" in name for name in after)


def test_the_gauges_follow_a_request_through_the_queue(app, metrics_client, sign_in_as):
    anna = factories.customer(first_name="Anna", last_name="Kowalska")
    factories.identity("anna@example.pl", customer=anna)
    waiting = pending_request(anna, age=timedelta(hours=2))
    ewa = factories.identity("ewa@mcx.pl", roles=("moderator",))
    db.session.commit()

    queued = scrape(metrics_client)
    assert queued["portal_access_requests_pending"] == 1
    assert 7200 <= queued["portal_access_request_oldest_age_seconds"] < 7300

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"  # nothing listens: the e-mail waits
    sign_in_as(ewa)
    decided = metrics_client.submit(f"/staff/requests/{waiting.id}/approve", {"note": ""})
    assert decided.status_code in (200, 303)

    after = scrape(metrics_client)
    assert after["portal_access_requests_pending"] == 0
    assert after["portal_access_request_oldest_age_seconds"] == 0
    # the e-mails telling of the decision wait in the outbox for a mail server
    assert after["portal_outbox_backlog"] > queued["portal_outbox_backlog"] == 0


def test_terminations_awaiting_confirmation_and_run_due_are_watched(app, metrics_client):
    from portal.termination.models import TerminationRequest
    from tests.termination.conftest import make_account, requested_termination

    before = scrape(metrics_client)
    assert before["portal_terminations_awaiting_confirmation"] == 0
    assert before["portal_run_due_last_success_timestamp_seconds"] == 0
    account = make_account(app, recordings=0)
    termination = requested_termination(account)
    db.session.get(TerminationRequest, termination.id).confirmed_at = None  # confirmation_due_on is in 2025
    db.session.commit()

    waiting = scrape(metrics_client)
    assert waiting["portal_terminations_awaiting_confirmation"] == 1
    assert waiting["portal_terminations_confirmation_overdue"] == 1

    result = app.test_cli_runner().invoke(args=["portal", "run-due", "--today", "2025-01-01"])
    assert result.exit_code == 0, result.output
    assert scrape(metrics_client)["portal_run_due_last_success_timestamp_seconds"] > 0
