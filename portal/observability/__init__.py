"""What operators watch (issue 19): request ids, one structured log line per request, Prometheus
metrics at GET /metrics, and when each scheduled job last succeeded."""
from __future__ import annotations


def init_app(app) -> None:
    from portal.observability import metrics, requestlog

    requestlog.init_app(app)
    metrics.init_app(app)
