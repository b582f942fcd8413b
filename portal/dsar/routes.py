"""Routes of data-subject requests: the customer files and follows them (/account/requests); privacy
officers work the queue (/staff/data-requests). Rules live in portal.dsar.services."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, request, url_for
from flask_login import current_user

from portal.customers.ownership import owned_customer_or_404, owner_required
from portal.db_types import local_today
from portal.dsar import queue as case_queue
from portal.dsar import services
from portal.dsar.forms import AnswerForm, CloseForm, ExtendForm, FileRequestForm
from portal.dsar.models import DataSubjectRequest
from portal.dsar.texts import KINDS, OWN_CASE, STATUSES
from portal.extensions import db
from portal.staff.conflicts import staff_self
from portal.web import masking
from portal.web.i18n import _, _l
from portal.web.nav import nav_item
from portal.web.permissions import role_required
from portal.web.phrases import day
from portal.web.render import render

bp = Blueprint("dsar", __name__, url_prefix="/account/requests")
staff_bp = Blueprint("dsar_staff", __name__, url_prefix="/staff/data-requests")

nav_item("dsar.index", _l("Your data requests"), "customer", order=45)
nav_item("dsar_staff.queue", _l("Data-subject requests"), "privacy_officer", order=59)


def _customer_page(form: FileRequestForm | None = None, status: int = 200):
    # owner_required has checked that the account is theirs
    return render("dsar/index.html", status=status, form=form or FileRequestForm(),
                  cases=services.customer_requests(current_user.customer_id), kinds=KINDS, statuses=STATUSES)


@bp.get("")
@owner_required
def index():
    """The customer's data-subject requests with their status and answers, and the form to file one."""
    return _customer_page()


@bp.post("")
@owner_required
def file():
    """File a request (GDPR art. 15-21); it is acknowledged by e-mail with its due date (art. 12(3))."""
    customer = owned_customer_or_404(current_user)
    form = FileRequestForm()
    if form.validate_on_submit():
        try:
            case = services.file_request(customer, current_user, form.kind.data, form.text.data)
        except services.DsarError as error:
            db.session.rollback()
            getattr(form, error.field or "text").errors.append(error.message)
        else:
            db.session.commit()
            flash(_("We received your request %(case)s. We will answer by %(date)s; you will get an e-mail.",
                    case=case.case_number, date=day(case.due_on)), "success")
            return redirect(url_for("dsar.index", _anchor=f"case-{case.id}"), code=303)
    return _customer_page(form, status=400)


# ---------------------------------------------------------------------------------------------
# privacy officers

def _case_page(case: DataSubjectRequest, forms: dict | None = None, error=None, status: int = 200):
    forms = forms or {}
    return render("dsar/staff_case.html", status=status, case=case, kinds=KINDS, statuses=STATUSES,
                  today=local_today(), masked_name=masking.staff_customer_name(case.customer),
                  own_case=OWN_CASE if staff_self(current_user).concerns_customer(case.customer_id) else None,
                  extend_form=forms.get("extend") or ExtendForm(), answer_form=forms.get("answer") or AnswerForm(),
                  close_form=forms.get("close") or CloseForm(), error=error)


@staff_bp.get("")
@role_required("privacy_officer")
def queue():
    """Open cases by due date, overdue marked (or closed ones); keyset pages."""
    show = "closed" if request.args.get("show") == "closed" else "open"
    page = case_queue.open_cases(request.args.get("after"), show=show)
    return render("dsar/staff_queue.html", page=page, show=show, kinds=KINDS, statuses=STATUSES,
                  today=local_today(), masked=masking.staff_customer_name)



@staff_bp.get("/<int:case_id>")
@role_required("privacy_officer")
def case(case_id: int):
    """One case: the request, its deadline, answers, and the decisions still open."""
    return _case_page(services.request_or_404(case_id))


def _decision(case_id: int, form_class, name: str, act, done_message):
    case = services.request_or_404(case_id)
    form = form_class()
    if form.validate_on_submit():
        try:
            act(case, form)
        except services.DsarError as error:
            db.session.rollback()
            case = services.request_or_404(case_id)
            if error.field and hasattr(form, error.field):
                getattr(form, error.field).errors.append(error.message)
                return _case_page(case, {name: form}, status=400)
            return _case_page(case, error=error.message, status=409)
        db.session.commit()
        flash(done_message(case), "success")
        return redirect(url_for("dsar_staff.case", case_id=case_id), code=303)
    return _case_page(case, {name: form}, status=400)


@staff_bp.post("/<int:case_id>/extend")
@role_required("privacy_officer")
def extend(case_id: int):
    """Extend the deadline by two months, once, with a reason the customer reads (GDPR art. 12(3))."""
    return _decision(case_id, ExtendForm, "extend",
                     lambda case, form: services.extend(case, current_user, form.reason.data),
                     lambda case: _("Extended: the new due date is %(date)s. The customer is told why.",
                                    date=day(case.due_on)))


@staff_bp.post("/<int:case_id>/answer")
@role_required("privacy_officer")
def answer(case_id: int):
    """Send the customer an answer: they read it in the portal and receive it by e-mail."""
    return _decision(case_id, AnswerForm, "answer",
                     lambda case, form: services.answer(case, current_user, form.text.data),
                     lambda case: _("The answer was sent to the customer."))


@staff_bp.post("/<int:case_id>/close")
@role_required("privacy_officer")
def close(case_id: int):
    """Close the case as done or refused (a refusal with its reasons, GDPR art. 12(4))."""
    return _decision(case_id, CloseForm, "close",
                     lambda case, form: services.close(case, current_user, form.outcome.data, form.reason.data),
                     lambda case: _("Case %(case)s is closed.", case=case.case_number))


blueprints = [bp, staff_bp]
