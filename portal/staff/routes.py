"""Routes of the staff domain: e-mail the portal could not deliver."""
from __future__ import annotations

from flask import Blueprint, request

from portal.staff import outbox
from portal.web.boundaries import int64
from portal.web.i18n import _l
from portal.web.nav import nav_item
from portal.web.permissions import role_required
from portal.web.render import render

bp = Blueprint("staff", __name__, url_prefix="/staff")

nav_item("staff.undelivered_mail", _l("Undelivered e-mail"), "privacy_officer", order=62)


@bp.get("/outbox")
@role_required("privacy_officer")
def undelivered_mail():
    """Messages the outbox gave up on, newest first, with their error; addresses masked."""
    page = outbox.parked(request.args.get("before", type=int64))
    return render("staff/outbox.html", page=page, kinds=outbox.KINDS)


blueprints = [bp]
