"""Pages that belong to no domain: landing, language switch, health probes."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, request, session, url_for
from flask_login import current_user
from sqlalchemy import text

from portal.extensions import db
from portal.web.navigation import safe_next
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
    """Switch the interface language."""
    lang = request.form.get("lang", "")
    if lang not in current_app.config["LANGUAGES"]:
        abort(400)
    session["lang"] = lang
    return redirect(safe_next(request.form.get("next")), code=303)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """The database answers."""
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the database means not ready
        db.session.rollback()
        return {"status": "unavailable", "database": type(exc).__name__}, 503
    return {"status": "ok", "database": "ok"}
