"""What we hold about you: the data page, the export (JSON and printable) and the activity log
(GDPR art. 15 and 20; SPEC P3, P7)."""
from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    get_flashed_messages,
    request,
    stream_template,
    stream_with_context,
)
from flask_babel import get_locale
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from portal.auth.recent import recent_auth_required
from portal.customers.ownership import owned_customer_or_404, owner_required
from portal.db_types import utcnow
from portal.extensions import db
from portal.transparency import activity, display, export, inventory, services
from portal.transparency.registry import BASIS_LABELS, CUSTOMER_CATEGORIES, SOURCE_LABELS
from portal.web.boundaries import int64
from portal.web.i18n import _l
from portal.web.nav import nav_item
from portal.web.render import render

bp = Blueprint("transparency", __name__, url_prefix="/account")
blueprints = [bp]

nav_item("transparency.data", _l("Your data"), "customer", order=10)
nav_item("transparency.activity_log", _l("Activity log"), "customer", order=11)


@bp.app_context_processor
def registry_helpers():
    return {"show_value": display.value, "basis_labels": BASIS_LABELS, "source_labels": SOURCE_LABELS}


@bp.get("/data")
@owner_required
def data():
    """Every personal data category we hold, with its values, purpose, legal basis, source and retention."""
    customer = owned_customer_or_404(current_user)
    cursors = {key: inventory.parse_cursor(request.args.get(f"{key}_after")) for key in inventory.SOURCES}
    overview = services.data_overview(customer.id, cursors)
    section = request.args.get("section")
    context = dict(overview=overview, categories=CUSTOMER_CATEGORIES, cursors=cursors)
    if section in overview.pages:
        category = next(c for c in CUSTOMER_CATEGORIES if c.key == section)
        return render("transparency/data.html", block="category", category=category, **context)
    return render("transparency/data.html", **context)


@bp.get("/export.json")
@owner_required
@recent_auth_required
def export_json():
    """The complete export: one JSON document, streamed; every export is in the activity log."""
    customer = owned_customer_or_404(current_user)
    services.record_export(customer, current_user, "json")
    db.session.commit()
    now = utcnow()
    body = export.json_chunks(customer.id, now, str(get_locale()))
    response = Response(stream_with_context(body), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{export.filename(customer, now)}"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/export")
@owner_required
@recent_auth_required
def export_page():
    """The same export as a printable page, streamed as it is written."""
    customer = owned_customer_or_404(current_user)
    services.record_export(customer, current_user, "html")
    db.session.commit()
    # the session cookie is written before a streamed body: settle what the page takes from it now
    generate_csrf()
    get_flashed_messages(with_categories=True)
    identity, customer_id, number = current_user._get_current_object(), customer.id, customer.number

    @stream_with_context
    def page():
        # A streamed body is written after the request's database session was closed; the page
        # continues in a fresh one, to which the signed-in identity (shown in the header) moves.
        db.session.add(identity)
        loaded = inventory.load_customer(customer_id)
        yield from stream_template(
            "transparency/export.html", number=number, categories=CUSTOMER_CATEGORIES, generated_at=utcnow(),
            records={c.key: inventory.single_record(c, loaded) for c in CUSTOMER_CATEGORIES if not c.many},
            disclosure_recipients=services.disclosure_recipients(customer_id),
            rows=lambda key: inventory.stream(key, customer_id))

    return Response(page())


@bp.get("/activity")
@owner_required
def activity_log():
    """Everything that touched your data, newest first, filterable by kind."""
    customer = owned_customer_or_404(current_user)
    group = request.args.get("kind") if request.args.get("kind") in activity.GROUPS else None
    before = request.args.get("before", type=int64)
    log = services.activity_page(customer.id, group, before)
    return render("transparency/activity.html", block="events", log=log, group=group, groups=activity.GROUPS,
                  before=before, describe=activity.describe)
