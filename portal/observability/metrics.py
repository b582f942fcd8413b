"""GET /metrics in the Prometheus text format, through prometheus_client (issue 19).

Protected by a bearer token, PORTAL_METRICS_TOKEN: without it configured the route answers 404,
with a missing or wrong token 401. Served:

- `portal_http_requests_total{endpoint,method,status}` and
  `portal_http_request_duration_seconds{endpoint}` (a histogram), per route name, never per path;
- domain gauges computed from the database at each scrape, so every worker and host tells the
  same: pending access requests and the oldest one's age; terminations awaiting confirmation and
  how many are past their 14-day deadline; the e-mail outbox backlog and the parked messages; the
  time of the last successful `run-due`.

Several gunicorn workers: with PROMETHEUS_MULTIPROC_DIR set (gunicorn.conf.py sets it up and
cleans it), the counters and histograms of every worker are summed by prometheus_client's
multiprocess collector.
"""
from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select

from portal.db_types import local_today, utcnow
from portal.extensions import db

_REQUESTS_REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("portal_http_requests", "HTTP requests answered, per route name, method and status.",
                   ("endpoint", "method", "status"), registry=_REQUESTS_REGISTRY)
LATENCY = Histogram("portal_http_request_duration_seconds", "Time to produce the response, per route name.",
                    ("endpoint",), registry=_REQUESTS_REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

bp = Blueprint("ops", __name__)
# the method is a label: any token is a valid HTTP method, so one the portal does not know is
# counted as "other" instead of a new time series per invented name (bounded cardinality)
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class DomainCollector:
    """Gauges read from the database at scrape time (SPEC: moderation queue, terminations, outbox)."""

    def collect(self):
        from portal.mail import OutboxMessage
        from portal.observability.models import JobRun
        from portal.people.models import AccessRequest, AccessRequestStatus
        from portal.termination.models import TerminationRequest, TerminationStatus

        now = utcnow()
        pending, oldest = db.session.execute(
            select(func.count(AccessRequest.id), func.min(AccessRequest.created_at))
            .where(AccessRequest.status == AccessRequestStatus.PENDING)).one()
        yield _gauge("portal_access_requests_pending", "Access requests waiting for a moderator.", pending)
        yield _gauge("portal_access_request_oldest_age_seconds", "Age of the oldest pending access request (0: none).",
                     (now - _aware(oldest)).total_seconds() if oldest else 0)
        awaiting = (TerminationRequest.status == TerminationStatus.REQUESTED) & TerminationRequest.confirmed_at.is_(None)
        waiting, overdue = db.session.execute(select(
            func.count(TerminationRequest.id),
            func.count(TerminationRequest.id).filter(TerminationRequest.confirmation_due_on < local_today()))
            .where(awaiting)).one()
        yield _gauge("portal_terminations_awaiting_confirmation", "Termination requests not yet confirmed by staff.",
                     waiting)
        yield _gauge("portal_terminations_confirmation_overdue",
                     "Unconfirmed termination requests past their confirmation deadline.", overdue)
        by_status = dict(db.session.execute(
            select(OutboxMessage.status, func.count(OutboxMessage.id))
            .where(OutboxMessage.status.in_(("pending", "parked"))).group_by(OutboxMessage.status)).all())
        yield _gauge("portal_outbox_backlog", "E-mail messages waiting to be sent.", by_status.get("pending", 0))
        yield _gauge("portal_outbox_parked", "E-mail messages given up on, shown to staff.", by_status.get("parked", 0))
        last = db.session.scalar(select(JobRun.last_success_at).where(JobRun.name == "run-due"))
        yield _gauge("portal_run_due_last_success_timestamp_seconds",
                     "Unix time of the last run-due that finished everything due (0: never).",
                     _aware(last).timestamp() if last else 0)


def _aware(moment):
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _gauge(name: str, documentation: str, value) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=float(value or 0))


def _authorized() -> None:
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    scheme, _, offered = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(offered.strip().encode(), token.encode()):
        response = Response("a bearer token is required\n", status=401, mimetype="text/plain")
        response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        abort(response)


@bp.get("/metrics")
def metrics():
    """The Prometheus text exposition; bearer token PORTAL_METRICS_TOKEN."""
    _authorized()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        requests_registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(requests_registry)
    else:
        requests_registry = _REQUESTS_REGISTRY
    domain = CollectorRegistry(auto_describe=False)
    domain.register(DomainCollector())
    body = generate_latest(requests_registry) + generate_latest(domain)
    db.session.rollback()
    response = Response(body, mimetype=None, content_type=CONTENT_TYPE_LATEST)
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.after_request
    def count_request(response):
        endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        method = request.method if request.method in KNOWN_METHODS else "other"
        REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
        started = g.get("request_started")  # set by requestlog's before_request
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response
