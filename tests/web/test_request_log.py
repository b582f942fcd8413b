"""Request ids and the per-request log line (issue 19): the id a trusted proxy sends or a fresh
one, returned in X-Request-ID, written into the audit events and the JSON log line of the request."""
from __future__ import annotations

import json
import re

import pytest

from portal.extensions import db
from portal.observability import requestlog
from tests import factories
from tests.people.helpers import events
from tests.people.test_moderation import pending_request


@pytest.fixture
def json_logs(app, capsys):
    requestlog.configure("json")
    capsys.readouterr()

    def lines() -> list[dict]:
        err = capsys.readouterr().err
        return [json.loads(line) for line in err.splitlines() if line.startswith("{")]

    yield lines
    requestlog.configure("text")


def test_each_request_gets_a_fresh_id_and_a_client_cannot_choose_it(app, client):
    first, second = client.get("/healthz"), client.get("/healthz", headers={"X-Request-ID": "chosen-by-client"})

    assert re.fullmatch(r"[0-9a-f]{32}", first.headers["X-Request-ID"])
    assert second.headers["X-Request-ID"] not in ("chosen-by-client", first.headers["X-Request-ID"])


@pytest.mark.parametrize("sent, kept", [("nginx-4f2a9c", True), ("a b", False), ("x" * 129, False),
                                        ("id\"<script>", False)])
def test_behind_a_trusted_proxy_its_request_id_is_kept_when_well_formed(app, client, sent, kept):
    app.config["PROXY_COUNT"] = 1

    answered = client.get("/healthz", headers={"X-Request-ID": sent}).headers["X-Request-ID"]

    assert (answered == sent) is kept
    assert re.fullmatch(r"[A-Za-z0-9._:@-]{1,128}", answered)


def test_the_json_line_and_the_audit_event_of_a_request_carry_the_same_id(app, client, sign_in_as, json_logs):
    anna = factories.customer(first_name="Anna", last_name="Kowalska", email="anna.kowalska@example.pl")
    waiting = pending_request(anna, name="Jan Nowak", email="jan.nowak@example.pl")
    ewa = factories.identity("ewa@mcx.pl", roles=("moderator",))
    db.session.commit()
    sign_in_as(ewa)
    token = client.csrf_token()
    json_logs()

    response = client.post(f"/staff/requests/{waiting.id}/approve", data={"note": "", "csrf_token": token})

    rid = response.headers["X-Request-ID"]
    [line] = [line for line in json_logs() if line.get("request_id") == rid]
    assert line["method"] == "POST" and line["route"] == "moderation.approve"
    assert line["status"] == response.status_code and line["identity_id"] == ewa.id
    assert isinstance(line["duration_ms"], float) and line["time"]
    # never an e-mail address or a name, and never the path with its ids
    assert not re.search(r"@|Kowalska|Nowak|Ewa|/staff/requests/", json.dumps(line))
    db.session.expire_all()
    [approved] = events("access_request_approved")
    assert approved.details["http_request_id"] == rid


def test_plain_text_is_the_default_in_development(app, client, capsys):
    from portal.config import load

    assert load(app.instance_path, {"PORTAL_ENV": "development"})["LOG_FORMAT"] == "text"
    capsys.readouterr()
    response = client.get("/healthz")

    err = capsys.readouterr().err
    assert f"request_id={response.headers['X-Request-ID']}" in err and "route=web.healthz" in err
    assert not err.lstrip().startswith("{")
