"""Hostile input against what main just gained (security review): metrics labels, request ids."""
from __future__ import annotations

from tests.web.test_metrics import TOKEN, metrics_client, scrape  # noqa: F401


def test_invented_http_methods_do_not_become_metric_labels(metrics_client):  # noqa: F811
    # any token is a valid HTTP method; each one would otherwise be a new time series forever
    for n in range(5):
        metrics_client.open("/", method=f"X{n}EVIL")
    after = scrape(metrics_client)

    assert not any("EVIL" in name for name in after)
