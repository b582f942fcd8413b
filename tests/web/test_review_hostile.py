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
