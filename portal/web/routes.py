"""Pages that belong to no domain: landing, language switch, health probes."""
from __future__ import annotations

import redis
from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db
from portal.web.navigation import page_showing, safe_next
from portal.web.render import render

bp = Blueprint("web", __name__)


@bp.get("/")
def index():
    """Landing page: sign-in choices, or the account home when signed in."""
    if current_user.is_authenticated:
        return redirect(url_for("account.home"))
    return render("web/index.html", providers=current_app.config["OIDC_PROVIDERS"])


@bp.post("/language")
def set_language():
    """Switch the interface language, and go back to the page `next` (a path on this site), or to the
    page holding its form when `next` is where a form posted to and answers POST only."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    return redirect(page_showing(safe_next(request.form.get("next"))), code=303)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """Each dependency's state, as JSON: ``{"status": "ok"|"degraded"|"unavailable",
    "database": "ok"|<error>, "redis": "ok"|"unavailable: <error>"}`` (redis only when configured).

    503 only without the database. Redis is optional (rate-limit counters shared by instances):
    without it each instance limits on its own, so the instance stays ready, marked degraded.
    """
    states = {"database": _database_state()}
    if current_app.config["REDIS_URL"]:
        states["redis"] = _redis_state(current_app.config["REDIS_URL"])
    if states["database"] != "ok":
        return {"status": "unavailable", **states}, 503
    return {"status": "ok" if all(state == "ok" for state in states.values()) else "degraded", **states}


def _database_state() -> str:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means not ready
        db.session.rollback()
        return type(exc).__name__
    return "ok"


def _redis_state(url: str) -> str:
    client = redis.Redis.from_url(url, **current_app.config["RATELIMIT_STORAGE_OPTIONS"])
    try:
        client.ping()
    except redis.RedisError as exc:
        return f"unavailable: {type(exc).__name__}"
    finally:
        client.close()
    return "ok"
