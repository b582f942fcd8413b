"""The customer look-up (/staff/customers), for moderators and privacy officers: exact matches only,
a masked overview, reveals by deliberate POST; every look-up and reveal is audited and look-ups are
rate-limited per staff member (PORTAL_STAFF_LOOKUP_RATE_LIMIT)."""
from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, make_response, request
from flask_login import current_user, login_required

from portal.customers.models import Customer
from portal.extensions import db, limiter
from portal.staff import lookup
from portal.transparency import display
from portal.transparency.registry import CHANNELS, CONTRACT_STATUSES, DELEGATE_STATUSES, ROOM_KINDS, SERVICES
from portal.web import masking
from portal.web.errors import error_page
from portal.web.i18n import _, _l
from portal.web.nav import nav_item
from portal.web.render import render

bp = Blueprint("staff_lookup", __name__, url_prefix="/staff/customers")

nav_item("staff_lookup.search", _l("Find a customer"), "staff", order=51)

BY_LABELS = {"number": _l("Customer number"), "nip": _l("Tax ID (NIP)"), "email": _l("E-mail"),
             "phone": _l("Phone")}


def support_staff_required(view):
    """Moderators and privacy officers; anyone else signed in gets 403."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not (current_user.has_role("moderator") or current_user.has_role("privacy_officer")):
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _limit() -> str:
    return current_app.config["STAFF_LOOKUP_RATE_LIMIT"]


def _staff_key() -> str:
    return f"staff-lookup:{current_user.get_id()}"


def _too_many(_limit):
    body, status = error_page(429, _("Too many look-ups"),
                              _("You have looked up many customers in a short time. Please try again later."))
    return make_response(body, status)


def _page(customer: Customer | None, by: str, value: str, searched: bool, revealed: str | None = None,
          status: int = 200):
    view = lookup.overview(customer.id) if customer else None
    return render("staff/customers.html", status=status, by=by, value=value, searched=searched, view=view,
                  revealed=revealed, by_labels=BY_LABELS, masked=display.masked, mask=masking,
                  revealable=lookup.REVEALABLE, channels=CHANNELS, contract_statuses=CONTRACT_STATUSES,
                  delegate_statuses=DELEGATE_STATUSES, room_kinds=ROOM_KINDS, services=SERVICES)


@bp.get("", endpoint="search")
@support_staff_required
def search():
    """Find one customer by number, NIP, e-mail or phone (exact); each look-up is audited."""
    by = request.args.get("by", "number")
    by = by if by in lookup.BY else "number"
    value = request.args.get("value", "").strip()[:254]
    if not value:
        return _page(None, by, "", searched=False)
    with limiter.limit(_limit, key_func=_staff_key, on_breach=_too_many):
        customer = lookup.find(by, value)
        lookup.record_lookup(current_user, by, customer)
        db.session.commit()
    return _page(customer, by, value, searched=True)


@bp.post("/<int:customer_id>/reveal/<field>")
@support_staff_required
def reveal(customer_id: int, field: str):
    """Show one field unmasked; recorded, and the customer sees it in their activity log."""
    customer = db.get_or_404(Customer, customer_id)
    if field not in lookup.REVEALABLE:
        abort(404)
    lookup.reveal(current_user, customer, field)
    db.session.commit()
    return _page(customer, "number", customer.number, searched=True, revealed=field)
