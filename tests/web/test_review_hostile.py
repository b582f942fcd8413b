"""Hostile input against what main just gained (security review): metrics labels, request ids."""
from __future__ import annotations

from tests.web.test_metrics import TOKEN, metrics_client, scrape  # noqa: F401


def test_invented_http_methods_do_not_become_metric_labels(metrics_client):  # noqa: F811
    # any token is a valid HTTP method; each one would otherwise be a new time series forever
    for n in range(5):
        metrics_client.open("/", method=f"X{n}EVIL")
    after = scrape(metrics_client)

    assert not any("EVIL" in name for name in after)


def test_a_hostile_request_id_is_replaced_even_behind_a_trusted_proxy(app, client):
    app.config["PROXY_COUNT"] = 1
    try:
        for sent in ("a" * 129, "żółw", "a b", "x;y", "<script>", "a\tb"):
            answer = client.get("/", headers={"X-Request-ID": sent})
            echoed = answer.headers["X-Request-ID"]
            assert echoed != sent and len(echoed) == 32 and echoed.isalnum(), (sent, echoed)
        assert client.get("/", headers={"X-Request-ID": "nginx-42"}).headers["X-Request-ID"] == "nginx-42"
    finally:
        app.config["PROXY_COUNT"] = 0


def test_a_request_id_sent_without_a_trusted_proxy_is_never_echoed(client):
    assert client.get("/", headers={"X-Request-ID": "attacker-chosen"}).headers["X-Request-ID"] != "attacker-chosen"


def test_a_form_body_of_countless_fields_is_refused_before_it_is_parsed(client):
    # 2 MB of `a=1&…` to any URL: werkzeug bounds multipart parts, not urlencoded fields
    body = (b"a=1&" * 500_000)[: 2 * 1024 * 1024 - 10]
    for path in ("/", "/nonexistent", "/rooms/delete"):
        answer = client.post(path, data=body, content_type="application/x-www-form-urlencoded")
        assert answer.status_code == 400, (path, answer.status_code)


def test_a_form_of_500_recordings_and_a_token_is_still_read(app, client):
    body = "&".join([f"recording={n}" for n in range(500)] + ["csrf_token=x"]).encode()
    with app.test_request_context("/rooms/delete", method="POST", data=body,
                                  content_type="application/x-www-form-urlencoded"):
        from flask import request

        from portal.web.boundaries import refuse_unusable_values

        refuse_unusable_values()
        assert len(request.form.getlist("recording")) == 500 and request.form["csrf_token"] == "x"
