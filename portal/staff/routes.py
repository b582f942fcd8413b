"""Routes of the staff domain: the staff home, undelivered e-mail, the audit-log reader and the
customer look-up. Rules live in the modules beside this one."""
from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request, stream_with_context
from flask_login import current_user, login_required

from portal.db_types import local_today
from portal.extensions import db
from portal.staff import audit_reader, chain, home, outbox
from portal.staff.activity_kinds import kind_labels  # importing it registers the kinds' words
from portal.staff.lookup_routes import bp as lookup_bp
from portal.web.boundaries import int64
from portal.web.masking import mask_email
from portal.web.i18n import _l
from portal.web.nav import nav_item
from portal.web.permissions import role_required
from portal.web.render import render

bp = Blueprint("staff", __name__, url_prefix="/staff")

nav_item("staff.home", _l("Staff home"), "staff", order=50)
nav_item("staff.audit_log", _l("Audit log"), "privacy_officer", order=63)
nav_item("staff.undelivered_mail", _l("Undelivered e-mail"), "privacy_officer", order=62)


@bp.get("", endpoint="home")
@login_required
def home_page():
    """Each role's queues with how many wait (bounded, "1000+") and the oldest waiting age; 403 for
    anyone without a staff role."""
    roles = {role.role for role in current_user.staff_roles}
    if not roles:
        abort(403)
    queues, overdue = home.counts(roles, local_today())
    return render("staff/home.html", queues=queues, overdue=overdue, cap=home.CAP)


@bp.get("/outbox")
@role_required("privacy_officer")
def undelivered_mail():
    """Messages the outbox gave up on, newest first, with their error; addresses masked."""
    page = outbox.parked(request.args.get("before", type=int64))
    return render("staff/outbox.html", page=page, kinds=outbox.KINDS)


def _zone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


@bp.get("/audit")
@role_required("privacy_officer")
def audit_log():
    """The audit log, newest first, filtered; each event with its chain position and status. The
    reading is itself recorded (SPEC P11)."""
    filters = audit_reader.AuditFilters.from_args(request.args)
    # recorded (and committed) first: the page then lists its own reading, and the events it reads
    # are not expired by a commit after them
    audit_reader.record_reading(current_user, "audit_log_read", filters, audit_reader.filtered_customer_id(filters))
    db.session.commit()
    page = audit_reader.page(filters, _zone(), request.args.get("before", type=int64))
    state = chain.chain_state()
    return render("staff/audit.html", filters=filters, page=page, state=state, kinds=kind_labels(),
                  verified=chain.VERIFIED, unsealed=chain.UNSEALED, mask_email=mask_email)


@bp.get("/audit/export.jsonl")
@role_required("privacy_officer")
def audit_export():
    """The filtered view as JSON Lines (one event per line), streamed; the export is recorded first."""
    filters = audit_reader.AuditFilters.from_args(request.args)
    audit_reader.record_reading(current_user, "audit_log_exported", filters,
                                audit_reader.filtered_customer_id(filters))
    db.session.commit()
    response = Response(stream_with_context(audit_reader.export_lines(filters, _zone())),
                        mimetype="application/jsonl")
    response.headers["Content-Disposition"] = 'attachment; filename="audit-log.jsonl"'
    response.headers["Cache-Control"] = "no-store"
    return response

blueprints = [bp, lookup_bp]
