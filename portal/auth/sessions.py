"""Server-side session records behind the session cookie.

The cookie carries only the record's id; every request looks the record up, so a session
revoked anywhere (by the person, a customer removing a delegate, back-channel logout, another
instance) is refused on its next request. A session also ends by itself after a while without
requests (`SESSION_IDLE_MINUTES`) and, active or not, some hours after sign-in
(`SESSION_MAX_HOURS`): a cookie left in a shared browser or copied stops working.
"""
from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, flash, g, make_response, redirect, request, session, url_for
from flask_login import current_user, login_url
from sqlalchemy import and_, bindparam, select, update
from sqlalchemy.orm import joinedload

from portal.auth.models import Identity, UserSession
from portal.db_types import utcnow
from portal.extensions import db, login
from portal.web.i18n import _l

# last_seen is informational; writing it on every request would make each page a write
TOUCH_EVERY = timedelta(minutes=1)


def init_app(app) -> None:
    login.login_view = "auth.login"
    login.login_message = _l("Please sign in to see this page.")
    login.login_message_category = "info"
    login.user_loader(load_identity)
    login.unauthorized_handler(_unauthorized)


# why a session this browser still names has ended, as the person reads it on the sign-in page
# (a back-channel logout has a page of its own, auth.ended_at_provider)
SIGNED_OUT_BECAUSE = {
    "expired_idle": _l("You were signed out because your session expired. Please sign in again."),
    "expired_lifetime": _l("You were signed out because your session expired. Please sign in again."),
    "ended_by_user": _l("This session was ended from the sessions page, in another browser. Please sign in again."),
    "delegate_removed": _l("Your access was removed by the customer who gave it, so you were signed out. "
                           "Ask them if you still need it."),
}


def _unauthorized():
    """Send a signed-out (or revoked) person to sign in, saying why their session ended;
    htmx requests navigate the whole page."""
    if g.get("ended_at_provider"):
        # said on a page of its own, before the person is sent to their provider again
        target = url_for("auth.ended_at_provider", next=request.full_path.rstrip("?"))
        if getattr(request, "htmx", False):
            response = make_response("", 204)
            response.headers["HX-Redirect"] = target
            return response
        return redirect(target)
    reason = g.get("session_end_reason")
    if reason in SIGNED_OUT_BECAUSE:
        flash(SIGNED_OUT_BECAUSE[reason], "warning")
        # the sign-in page shows it, instead of passing straight on to a single provider
        session["signed_out_because"] = reason
    else:
        flash(login.login_message, login.login_message_category)
    target = login_url(login.login_view, request.url)
    if getattr(request, "htmx", False):
        response = make_response("", 204)
        response.headers["HX-Redirect"] = target
        return response
    return redirect(target)


def load_identity(identity_id: str) -> Identity | None:
    sid = session.get("sid")
    if not sid:
        return None
    record = _session_with_identity(sid)
    if record is None or record.revoked_at is not None or str(record.identity_id) != identity_id:
        session.clear()
        g.session_end_reason = record.revoked_reason if record is not None else None
        if record is not None and record.revoked_reason == "backchannel_logout":
            # said on whatever page comes next; a page that needs sign-in leads to auth.ended_at_provider
            g.ended_at_provider = True
            flash(_l("Your session was ended at your identity provider (for example, you signed out "
                     "there), so you are signed out of the portal too."), "warning")
        return None
    now = utcnow()
    reason = expiry_reason(record, now)
    if reason:
        revoke(select(UserSession.id).where(UserSession.id == record.id), reason)
        db.session.commit()
        session.clear()
        g.session_end_reason = reason
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        record.last_seen_at = now
        db.session.commit()
    g.user_session = record
    return record.identity


_SESSION_WITH_IDENTITY = []  # the statement, built once (building it costs more than running it)


def _session_with_identity(sid: str) -> UserSession | None:
    """The session record `sid` with its identity, staff roles, customer and contract, in ONE
    statement: every signed-in page needs them (issue #15, item 3)."""
    if not _SESSION_WITH_IDENTITY:
        from portal.customers.models import Customer

        _SESSION_WITH_IDENTITY.append(
            select(UserSession).where(UserSession.id == bindparam("sid")).options(
                joinedload(UserSession.identity).options(
                    joinedload(Identity.staff_roles),
                    joinedload(Identity.customer).joinedload(Customer.contract))))
    return db.session.execute(_SESSION_WITH_IDENTITY[0], {"sid": sid}).unique().scalar_one_or_none()


def _idle() -> timedelta:
    return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])


def _lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def expiry_reason(record: UserSession, now: datetime) -> str | None:
    """Why `record` has run out ("expired_idle" or "expired_lifetime", kept as its revoked_reason),
    or None while it is good."""
    if now - record.created_at > _lifetime():
        return "expired_lifetime"
    # last_seen is written at most every TOUCH_EVERY: allow for that much staleness
    if now - record.last_seen_at > _idle() + TOUCH_EVERY:
        return "expired_idle"
    return None


def live_bounds(now: datetime | None = None) -> dict[str, datetime]:
    """The values of LIVE's parameters at `now`: sessions made and used after these still work."""
    now = now or utcnow()
    return {"live_created_after": now - _lifetime(), "live_seen_after": now - _idle() - TOUCH_EVERY}


# SQL condition: a session neither revoked nor run out, given `live_bounds()` as parameters; bound,
# so a statement using it is built once (the sessions page's was a sixth of that page's CPU)
LIVE = and_(UserSession.revoked_at.is_(None), UserSession.created_at >= bindparam("live_created_after"),
            UserSession.last_seen_at >= bindparam("live_seen_after"))


def live(now: datetime | None = None):
    """SQL condition: a session neither revoked nor run out (what the sessions page lists)."""
    bounds = live_bounds(now)
    return and_(UserSession.revoked_at.is_(None), UserSession.created_at >= bounds["live_created_after"],
                UserSession.last_seen_at >= bounds["live_seen_after"])


def current_session() -> UserSession | None:
    """The session record of this request's signed-in person, if any."""
    if not current_user.is_authenticated:  # loads the user, which finds the record
        return None
    return g.get("user_session")


def open_session(identity: Identity, *, provider: str, id_token: str | None, auth_time: datetime | None,
                 provider_sid: str | None, user_agent: str | None, ip_address: str | None) -> UserSession:
    record = UserSession(
        id=secrets.token_urlsafe(32),
        identity_id=identity.id,
        provider=provider,
        provider_sid=provider_sid,
        id_token=id_token,
        auth_time=auth_time,
        user_agent=(user_agent or "")[:500] or None,
        ip_address=ip_address,
    )
    db.session.add(record)
    db.session.flush()
    return record


def revoke(sessions_query, reason: str) -> int:
    """End every still-active session the query selects; returns how many ended."""
    result = db.session.execute(
        update(UserSession)
        .where(UserSession.id.in_(sessions_query), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason)
    )
    return result.rowcount


def revoke_identity_sessions(identity_id: int, reason: str) -> int:
    return revoke(select(UserSession.id).where(UserSession.identity_id == identity_id), reason)
