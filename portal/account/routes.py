"""The account home: who you are and what you can reach."""
from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from portal.account import services
from portal.web.nav import nav_item
from portal.web.render import render

bp = Blueprint("account", __name__, url_prefix="/account")
blueprints = [bp]

nav_item("account.home", _l("Your account"), "signed_in", order=0)


@bp.get("/")
@login_required
def home():
    """Accounts you own, accounts you are a delegate for, and staff areas."""
    return render(
        "account/home.html",
        owned=services.owned_account(current_user),
        delegations=services.active_delegations(current_user),
        roles=sorted(r.role for r in current_user.staff_roles),
    )
