"""Recent authentication for irreversible or sensitive actions (SPEC: termination, removal, export)."""
from __future__ import annotations

from datetime import timedelta
from functools import wraps

from flask import current_app, flash, make_response, redirect, request, url_for
from flask_login import login_required

from portal.auth.sessions import current_session
from portal.db_types import utcnow
from portal.web.i18n import _
from portal.web.navigation import safe_next


def is_recent() -> bool:
    """Did the person authenticate at their provider within the configured window?

    A session whose provider gave no `auth_time` is not recent: the person is sent to sign in
    again (`prompt=login`, `max_age=0`), and an answer still without it is refused (oidc.finish).
    """
    record = current_session()
    if record is None or record.auth_time is None:
        return False
    window = timedelta(seconds=current_app.config["RECENT_AUTH_SECONDS"])
    return utcnow() - record.auth_time <= window


def reauthenticate(next_url: str | None = None):
    """Send the person to their provider to sign in again (`prompt=login`, `max_age=0`)."""
    record = current_session()
    flash(_("For your safety, please confirm it is you by signing in again."), "info")
    target = next_url or (request.full_path if request.method == "GET" else request.referrer) or request.path
    if target.startswith(request.host_url):  # a Referer is absolute; keep our own path only
        target = "/" + target.removeprefix(request.host_url)
    login_url = url_for("auth.login", provider=record.provider if record else None, reauth="1",
                        next=safe_next(target.rstrip("?"), "account.home"))
    if getattr(request, "htmx", False):
        # htmx cannot follow a redirect to the provider's origin; the browser navigates instead
        response = make_response("", 204)
        response.headers["HX-Redirect"] = login_url
        return response
    return redirect(login_url)


def recent_auth_required(view):
    """The view runs only for a recent sign-in; otherwise the person re-authenticates first.

    A POST from a stale sign-in changes nothing: the person comes back to the page they were
    on after signing in again, and submits once more.
    """

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_recent():
            return reauthenticate()
        return view(*args, **kwargs)

    wrapped.requires_recent_auth = True
    return wrapped
