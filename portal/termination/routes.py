"""Contract termination: the customer's pages, the receipt, and the privacy officers' queue."""
from __future__ import annotations

import base64
import hashlib

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from portal.auth.recent import is_recent, recent_auth_required
from portal.customers.models import ContractStatus, Customer
from portal.customers.ownership import owned_customer_or_404
from portal.db_types import local_today
from portal.extensions import db
from portal.staff.conflicts import staff_self
from portal.termination import activity_kinds  # noqa: F401  (registers log labels)
from portal.termination import services
from portal.termination.forms import TerminationRequestForm, WithdrawForm
from portal.termination.models import TerminationRequest, TerminationStatus
from portal.termination.texts import KEPT_AFTER_TERMINATION, STATUS_LABELS, removed_from_storage
from portal.web import masking
from portal.web.boundaries import int64
from portal.web.i18n import _, _l
from portal.web.nav import nav_item
from portal.web.notices import Notice, fact_source, notice_provider
from portal.web.permissions import role_required
from portal.web.phrases import day
from portal.web.render import render, wants_fragment

bp = Blueprint("termination", __name__, url_prefix="/account/termination")
staff_bp = Blueprint("termination_staff", __name__, url_prefix="/staff/terminations")
blueprints = [bp, staff_bp]

nav_item("termination.overview", _l("Contract termination"), "customer", order=80)
nav_item("termination_staff.queue", _l("Terminations"), "privacy_officer", order=90)

RECEIPT_PAGE = 100


def _export_url() -> str | None:
    """The data export, once the account domain serves it (SPEC: GET /account/export.json)."""
    for rule in current_app.url_map.iter_rules():
        if rule.rule == "/account/export.json":
            return rule.rule
    return None


@bp.get("")
@login_required
def overview():
    """Where the customer's termination stands, and what it does."""
    customer = owned_customer_or_404(current_user)
    today = local_today()
    termination = services.latest_termination(customer.id)
    return render("termination/overview.html", customer=customer, termination=termination, today=today,
                  consequences=services.consequences(customer, today), kept=KEPT_AFTER_TERMINATION,
                  withdraw_form=WithdrawForm(), human_size=services.human_size, export_url=_export_url(),
                  recent=is_recent())


@bp.route("/request", methods=["GET", "POST"])
@recent_auth_required
def request_form():
    """Request termination: see what it does, type the customer number, confirm."""
    customer = owned_customer_or_404(current_user)
    today = local_today()
    contract = customer.contract
    if services.open_termination(customer.id) is not None or contract is None \
            or contract.status == ContractStatus.TERMINATED:
        # a second submission of the same form lands here: the one request is on the overview
        return redirect(url_for(".overview"), code=303)
    form = TerminationRequestForm()
    if form.validate_on_submit():
        try:
            services.request_termination(customer, current_user, form.customer_number.data, today=today)
        except services.CustomerNumberMismatch as error:
            db.session.rollback()
            form.customer_number.errors.append(str(error))
        except services.TerminationError as error:
            db.session.rollback()
            flash(str(error), "error")
            return redirect(url_for(".overview"), code=303)
        else:
            db.session.commit()
            flash(_("We received your termination request and sent you an acknowledgement by e-mail."), "success")
            return redirect(url_for(".overview"), code=303)
    return render("termination/request.html", status=422 if form.errors else 200, customer=customer, form=form,
                  consequences=services.consequences(customer, today), kept=KEPT_AFTER_TERMINATION,
                  human_size=services.human_size)


@bp.post("/withdraw")
@login_required
def withdraw():
    """Withdraw the open termination request (until its effective date)."""
    customer = owned_customer_or_404(current_user)
    try:
        services.withdraw_termination(customer, current_user, today=local_today())
    except services.TerminationError as error:
        db.session.rollback()
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(_("You withdrew your termination request. Your contract continues."), "success")
    return redirect(url_for(".overview"), code=303)


@bp.get("/confirmation")
@login_required
def confirmation():
    """The confirmation on a durable medium: a standalone HTML document to keep."""
    customer = owned_customer_or_404(current_user)
    termination = services.latest_termination(customer.id)
    if termination is None or termination.confirmed_at is None or termination.status == TerminationStatus.WITHDRAWN:
        abort(404)
    body = render_template("termination/confirmation_document.html", customer=customer,
                           contract=customer.contract, termination=termination,
                           services=services.service_labels(customer.contract))
    response = make_response(body)
    if request.args.get("download"):
        response.headers["Content-Disposition"] = \
            f'attachment; filename="termination-confirmation-{customer.number}.html"'
    return response


def _completed_or_404(customer: Customer) -> TerminationRequest:
    termination = services.completed_termination(customer.id)
    if termination is None or termination.receipt is None or termination.receipt.document is None:
        abort(404)
    return termination


@bp.get("/receipt")
@login_required
def receipt():
    """The deletion receipt: every deleted recording with its checksum, page by page."""
    customer = owned_customer_or_404(current_user)
    termination = _completed_or_404(customer)
    after = request.args.get("after", default=0, type=int64)
    items = services.receipt_items(termination.receipt, after, RECEIPT_PAGE + 1)
    next_after = items[RECEIPT_PAGE - 1].recording_id if len(items) > RECEIPT_PAGE else None
    return render("termination/receipt.html", customer=customer, termination=termination,
                  receipt=termination.receipt, items=items[:RECEIPT_PAGE], after=after, next_after=next_after,
                  kept=KEPT_AFTER_TERMINATION, human_size=services.human_size, export_url=_export_url(),
                  removed_from_storage=removed_from_storage)


@bp.get("/receipt.json")
@login_required
def receipt_json():
    """The receipt document exactly as issued; its sha256 is the one the receipt page shows."""
    customer = owned_customer_or_404(current_user)
    receipt = _completed_or_404(customer).receipt
    body = receipt.document.encode()
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="deletion-receipt-{customer.number}.json"'
    # RFC 9530: lets a client check the download without the page
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
    return response


@fact_source(customers_only=True)
def termination_facts(params) -> dict:
    """For a customer: the status and effective day of their newest termination request."""
    return services.latest_termination_facts(params.customer_id)


@notice_provider
def termination_notice(facts) -> list[Notice]:
    """A customer whose contract is ending or has ended sees where it stands on every page."""
    status = facts.get("termination_status")
    if status is None or status == TerminationStatus.WITHDRAWN or (request.endpoint or "").startswith("termination."):
        return []
    if status == TerminationStatus.COMPLETED:
        return [Notice(_("Your contract has ended and your recordings were permanently deleted."),
                       url_for("termination.receipt"), _("Deletion receipt"))]
    return [Notice(_("Your contract ends on %(date)s.", date=day(facts["termination_effective_on"])),
                   url_for("termination.overview"), _("Contract termination"), level="warning")]


# ---------------------------------------------------------------------------------------------
# privacy officers


def _masked(termination: TerminationRequest) -> dict:
    customer = termination.customer
    return {"name": masking.staff_customer_name(customer), "email": masking.mask_email(customer.email)}


@staff_bp.get("")
@role_required("privacy_officer")
def queue():
    """Termination requests with their 14-day confirmation deadline (personal data masked)."""
    show = "closed" if request.args.get("show") == "closed" else "open"
    page = services.staff_queue(show, request.args.get("after", type=int64))
    return render("termination/staff_queue.html", block="queue", page=page, show=show,
                  today=local_today(), masked=_masked, status_labels=STATUS_LABELS,
                  mine=staff_self(current_user))


@staff_bp.post("/<int:termination_id>/confirm")
@role_required("privacy_officer")
def confirm(termination_id: int):
    """Confirm a request on a durable medium: the customer gets the confirmation e-mail."""
    db.get_or_404(TerminationRequest, termination_id)
    try:
        services.confirm_termination(termination_id, current_user)
    except services.TerminationError as error:
        db.session.rollback()
        message, category = str(error), "warning"
    else:
        db.session.commit()
        message, category = _("Confirmed. The customer receives the confirmation by e-mail."), "success"
    if wants_fragment():
        termination = db.session.get(TerminationRequest, termination_id)
        return render("termination/staff_queue.html", block="row", t=termination, today=local_today(),
                      masked=_masked, status_labels=STATUS_LABELS, mine=staff_self(current_user), announce={"message": message, "category": category})
    flash(message, category)
    return redirect(url_for(".queue"), code=303)
