"""Route guards: who may reach a view at all. Data-level scoping lives in each domain's getters."""
from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required

from portal.web.i18n import _l


def role_required(role: str):
    """Only staff holding `role` reach the view; everyone else gets 403."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.has_role(role):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_role = role
        return wrapped

    return decorator


def ends_with_the_contract(blueprint, *, endpoints: set[str] | None = None,
                           except_endpoints: frozenset[str] = frozenset()) -> None:
    """After termination the customer keeps read access to what is still held (data page, export,
    activity, receipt); the pages of `blueprint` that change the account answer 410 instead."""

    @blueprint.before_request
    def refuse_after_termination():
        from flask import request

        from portal.web.errors import error_page

        if request.endpoint in except_endpoints or (endpoints is not None and request.endpoint not in endpoints):
            return None
        if not current_user.is_authenticated or current_user.customer_id is None:
            return None
        contract = current_user.customer.contract
        if contract is not None and contract.status == "terminated":
            return error_page(410, _l("Your contract has ended"),
                              _l("This part of the portal closed with your contract. Your data page, your export and the deletion receipt are still available."))
        return None
