"""Request ids and the per-request log line (issue 19).

Every request gets an id: the `X-Request-ID` a trusted reverse proxy sent (PORTAL_PROXY_COUNT > 0:
the portal is only reached through proxies that set it, e.g. nginx's `$request_id`), otherwise a
fresh one. It is returned in the `X-Request-ID` response header, written into every audit event
the request appends (`http_request_id` in the event's details) and into the request's log line.

The log line: time, request id, method, route name (the endpoint, never the path with its ids),
status, duration and the identity's internal id, never an e-mail address or a name.
PORTAL_LOG_FORMAT=json writes one JSON object per line (the default in production, via
python-json-logger); `text` (the default in development) writes the same fields as plain text.
"""
from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import g, has_request_context, request

from portal import audit

LOGGER = logging.getLogger("portal.requests")
# what a proxy may send as an id: short, printable, nothing a log or header could be broken with
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
_FIELDS = ("request_id", "method", "route", "status", "duration_ms", "identity_id")


def request_id() -> str | None:
    """The current request's id, or None outside a request (a CLI command, a job)."""
    return g.get("request_id") if has_request_context() else None


def _audit_details() -> dict:
    rid = request_id()
    # "request_id" already names an access request in their events
    return {"http_request_id": rid} if rid else {}


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (gunicorn and test runners replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        fields = " ".join(f"{name}={getattr(record, name, None)}" for name in _FIELDS)
        return f"{self.formatTime(record)} {record.levelname} {record.getMessage()} {fields}"


def configure(log_format: str) -> None:
    """One handler on the request logger, in the chosen format (reconfigured if it changes)."""
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(message)s", rename_fields={"asctime": "time", "levelname": "level"},
            datefmt="%Y-%m-%dT%H:%M:%S%z")
    else:
        formatter = TextFormatter()
    for handler in list(LOGGER.handlers):
        LOGGER.removeHandler(handler)
    handler = _StderrHandler()
    handler.setFormatter(formatter)
    LOGGER.addHandler(handler)
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False
    # alembic's logging.config.fileConfig (flask db upgrade) disables loggers that already exist
    LOGGER.disabled = False


def init_app(app) -> None:
    configure(app.config.get("LOG_FORMAT", "text"))
    # the hook is kept apart in audit.py: the chain itself knows nothing of requests
    if _audit_details not in audit.DETAIL_HOOKS:
        audit.DETAIL_HOOKS.append(_audit_details)

    @app.before_request
    def assign_request_id():
        g.request_started = time.perf_counter()
        sent = request.headers.get("X-Request-ID", "")
        trusted = app.config.get("PROXY_COUNT", 0) > 0
        g.request_id = sent if trusted and _REQUEST_ID.fullmatch(sent) else uuid.uuid4().hex

    @app.after_request
    def log_request(response):
        rid = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-ID"] = rid
        started = g.get("request_started")
        duration = time.perf_counter() - started if started is not None else 0.0
        route = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
        LOGGER.info("request", extra={
            "request_id": rid, "method": request.method, "route": route, "status": response.status_code,
            "duration_ms": round(duration * 1000, 1), "identity_id": _identity_id()})
        return response


def _identity_id() -> int | None:
    """The signed-in identity's internal id (never its e-mail or name), without loading anyone
    a request did not already load."""
    user = g.get("_login_user")  # what `current_user` stands for, without its proxy's look-ups
    if user is None:
        return None
    return user.id if getattr(user, "is_authenticated", False) else None
