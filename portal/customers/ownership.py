"""The getter every customer page starts from: the account the signed-in identity owns.

Scoping happens here, at the data layer: a delegate, staff or an unlinked identity owns no
account and gets 404, whatever links a page shows."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.auth.models import Identity
from portal.customers.models import Customer
from portal.extensions import db


def owned_customer_or_404(identity: Identity) -> Customer:
    """The customer account `identity` owns; anyone else gets 404."""
    customer = db.session.get(Customer, identity.customer_id) if identity.customer_id is not None else None
    if customer is None:
        abort(404)
    return customer


def owner_required(view):
    """Only the owner of a customer account reaches the view; anyone else gets 404."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        owned_customer_or_404(current_user)
        return view(*args, **kwargs)

    return wrapped
