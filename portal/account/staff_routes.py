"""Privacy officers: correction requests to decide, and disclosures made under a legal duty."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from portal.account import services
from portal.account.forms import ActionForm, DecisionForm, DisclosureForm
from portal.extensions import db
from portal.staff.conflicts import staff_self
from portal.transparency import display
from portal.transparency.registry import CORRECTION_FIELDS, CORRECTION_STATUSES
from portal.web.boundaries import int64
from portal.web.i18n import _, _l
from portal.web.nav import nav_item
from portal.web.permissions import role_required
from portal.web.render import render

bp = Blueprint("account_staff", __name__, url_prefix="/staff")

nav_item("account_staff.corrections", _l("Correction requests"), "privacy_officer", order=60)
nav_item("account_staff.new_disclosure", _l("Legal disclosures"), "privacy_officer", order=61)


def _corrections_page(revealed: int | None = None, forms: dict | None = None, error=None, status: int = 200):
    show = "decided" if request.args.get("show") == "decided" else "pending"
    page = services.staff_corrections(show == "pending", request.args.get("cursor", type=int64))
    return render("account/staff_corrections.html", status=status, page=page, show=show, revealed=revealed,
                  forms=forms or {}, error=error, action=ActionForm(), decision=DecisionForm(),
                  fields=CORRECTION_FIELDS, statuses=CORRECTION_STATUSES, masked=display.masked,
                  mine=staff_self(current_user), own_case=services.OWN_CASE_MESSAGE)


@bp.get("/corrections")
@role_required("privacy_officer")
def corrections():
    """Correction requests, oldest waiting first; personal data masked until revealed."""
    return _corrections_page()


@bp.post("/corrections/<int:request_id>/reveal")
@role_required("privacy_officer")
def reveal_correction(request_id: int):
    """Show one request's values unmasked; the customer sees the reveal in their activity log."""
    correction = services.correction_or_404(request_id)
    services.reveal_correction(correction, current_user)
    db.session.commit()
    return _corrections_page(revealed=correction.id)


@bp.post("/corrections/<int:request_id>/<any(approve, reject):decision>")
@role_required("privacy_officer")
def decide_correction(request_id: int, decision: str):
    """Approve (the change is applied) or reject (with a reason) a correction request."""
    correction = services.correction_or_404(request_id)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            services.decide_correction(correction, current_user, decision == "approve", form.note.data)
        except services.AccountError as error:
            db.session.rollback()
            if error.field is None:
                return _corrections_page(error=error.message, status=400)
            form.note.errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Request %(number)s: approved and applied.", number=correction.id) if decision == "approve"
                  else _("Request %(number)s: rejected.", number=correction.id), "info")
            return redirect(url_for("account_staff.corrections"), code=303)
    return _corrections_page(forms={correction.id: form}, status=400)


@bp.route("/disclosures/new", methods=["GET", "POST"])
@role_required("privacy_officer")
def new_disclosure():
    """Record a disclosure of a customer's data made under a legal duty (SPEC P7)."""
    form = DisclosureForm()
    if form.validate_on_submit():
        try:
            services.record_disclosure(
                current_user, customer_number=form.customer_number.data, disclosed_on=form.disclosed_on.data,
                recipient=form.recipient.data, legal_basis=form.legal_basis.data,
                data_disclosed=form.data_disclosed.data)
        except services.AccountError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            db.session.commit()
            flash(_("The disclosure was recorded; customer %(number)s sees it in their activity log.",
                    number=form.customer_number.data.strip()), "info")
            return redirect(url_for("account_staff.new_disclosure"), code=303)
        return render("account/staff_disclosure.html", form=form, status=400)
    return render("account/staff_disclosure.html", form=form, status=400 if request.method == "POST" else 200)
