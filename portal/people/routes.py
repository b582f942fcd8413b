"""Authorized persons (/account/people), a person's request (/access/request), rooms and
recordings (/rooms), and the moderators' queue (/staff/requests)."""
from __future__ import annotations

from pathlib import PurePosixPath
from urllib.parse import parse_qsl, urlsplit

from flask import (Blueprint, current_app, flash, make_response, redirect, request,
                   url_for)
from flask_babel import get_locale
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from portal.auth.recent import recent_auth_required
from portal.customers.ownership import owned_customer_or_404
from portal.db_types import local_today
from portal.extensions import db, limiter
from portal.people import access, activity_kinds, history, services  # noqa: F401  (activity_kinds registers log labels)
from portal.people import moderation as queue_module
from portal.people import serving
from portal.people.formatting import template_helpers
from portal.people.forms import AccessRequestForm, ApproveForm, ConfirmForm, DelegateForm, RejectForm, ScopeForm
from portal.people.models import AccessRequest, AccessRequestStatus, Delegate
from portal.staff.conflicts import staff_self
from portal.web import phrases
from portal.web.errors import error_page
from portal.web.i18n import _, _l
from portal.web.masking import mask_email, mask_name, staff_customer_name
from portal.web.nav import nav_item
from portal.web.navigation import safe_next
from portal.web.notices import Notice, fact_source, notice_provider
from portal.web.permissions import ends_with_the_contract, role_required
from portal.web.boundaries import int64
from portal.web.render import render, wants_fragment

people = Blueprint("people", __name__)
rooms = Blueprint("rooms", __name__, url_prefix="/rooms")
moderation = Blueprint("moderation", __name__, url_prefix="/staff/requests")
blueprints = [people, rooms, moderation]
ends_with_the_contract(people, except_endpoints=frozenset({"people.request_access"}))

nav_item("rooms.index", _l("Rooms and recordings"), "customer_or_delegate", order=20)
nav_item("people.index", _l("Authorized persons"), "customer", order=30)
nav_item("moderation.queue", _l("Access requests"), "moderator", order=60)

for _blueprint in blueprints:
    _blueprint.context_processor(template_helpers)


@fact_source
def delegation_facts(params) -> dict:
    """Whether the identity is a live delegate of anyone (`people_is_delegate`: the navigation
    shows rooms to delegates)."""
    return {"people_is_delegate": select(Delegate.id).where(
        Delegate.identity_id == params.identity_id, access.live_delegation(params.today)).exists()}


@fact_source(customers_only=True)
def persons_asking_facts(params) -> dict:
    """For a customer: how many persons wait for their answer (read with the other page facts)."""
    return {"people_waiting": select(func.count(AccessRequest.id)).where(
        AccessRequest.customer_id == params.customer_id,
        AccessRequest.status == AccessRequestStatus.AWAITING_CUSTOMER).scalar_subquery()}


@notice_provider
def persons_asking(facts) -> list[Notice]:
    """Tell a customer that persons wait for their answer, on every page until they answer."""
    waiting = facts.get("people_waiting")
    if not waiting:
        return []
    return [Notice(phrases.persons_asking(waiting),
                   url_for("people.index", _anchor="requests"), _("Answer them"))]


# a page that shows a form's errors; base.html's htmx-config swaps 4xx answers like any other
FAILED_FORM = 422


def _language() -> str:
    return str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])


# --- the customer's people page ---------------------------------------------------------------

def _people_page(customer, form, *, block=None, status=200, message=None, endorse_forms=None):
    everyone = access.people_of(customer.id)
    day = local_today()
    awaiting = [p.latest_request for p in everyone if p.state(day) == "awaiting_customer"]
    listed = [p for p in everyone if p.state(day) != "awaiting_customer"]
    return render("people/index.html", block=block, status=status, customer=customer, form=form,
                  listed=listed, awaiting=awaiting, endorse_forms=endorse_forms or {},
                  # the endorsement form is shown only beside a person asking (a form costs ~1 ms)
                  blank_scope=ScopeForm(customer, formdata=None) if awaiting else None, message=message)


@people.get("/account/people")
@login_required
def index():
    """The customer's authorized persons, the persons asking for access, and the form to add one."""
    customer = owned_customer_or_404(current_user)
    return _people_page(customer, DelegateForm(customer, formdata=None))


@people.post("/account/people")
@login_required
def add():
    """Add a person: an access request for a moderator."""
    customer = owned_customer_or_404(current_user)
    form = DelegateForm(customer)
    if form.validate_on_submit():
        try:
            delegate = services.add_delegate(
                customer, current_user, name=form.name.data, email=form.email.data, rooms=form.chosen_rooms(),
                recordings=form.recordings.data, expires_on=form.expires_on.data, today=local_today(),
                language=_language())
        except services.PeopleError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            message = _("%(name)s was added. MCX checks every new person; you will get an e-mail with the decision.",
                        name=delegate.name)
            if wants_fragment():
                return _people_page(customer, DelegateForm(customer, formdata=None), block="people_section",
                                    message=message)
            flash(message, "success")
            return redirect(url_for("people.index"), code=303)
    return _people_page(customer, form, block="people_section", status=FAILED_FORM)


@people.post("/account/people/validate")
@login_required
def validate():
    """Inline validation while the customer fills in the form (htmx); changes nothing."""
    customer = owned_customer_or_404(current_user)
    form = DelegateForm(customer)
    form.validate()
    return _people_page(customer, form, block="add_form")


@people.route("/account/people/<int:delegate_id>/remove", methods=["GET", "POST"])
@recent_auth_required
def remove(delegate_id: int):
    """Confirm, then remove a person: their access and their open sessions end at once."""
    owned_customer_or_404(current_user)
    delegate = access.owned_delegate_or_404(delegate_id)
    form = ConfirmForm()
    if form.validate_on_submit():
        name = delegate.name
        try:
            services.remove_delegate(delegate, current_user)
        except services.PeopleError as error:
            db.session.rollback()
            flash(error.message, "warning")
        else:
            db.session.commit()
            flash(_("%(name)s no longer has access; any session they had open has ended.", name=name), "success")
        return redirect(url_for("people.index"), code=303)
    return render("people/remove.html", delegate=delegate, form=form)


@people.post("/account/people/requests/<int:request_id>/endorse")
@login_required
def endorse(request_id: int):
    """The customer agrees to a person's request, choosing the scope; a moderator decides next."""
    customer = owned_customer_or_404(current_user)
    access_request = access.awaiting_request_or_404(request_id)
    form = ScopeForm(customer)
    if form.validate_on_submit():
        try:
            services.endorse_request(access_request, current_user, rooms=form.chosen_rooms(),
                                     recordings=form.recordings.data, expires_on=form.expires_on.data,
                                     today=local_today())
        except services.PeopleError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Thank you. MCX now checks the request; you will get an e-mail with the decision."), "success")
            return redirect(url_for("people.index"), code=303)
    form.id_suffix = f"-r{access_request.id}"  # as people/index.html writes the request's fields
    return _people_page(customer, DelegateForm(customer, formdata=None), status=FAILED_FORM,
                        endorse_forms={access_request.id: form})


@people.post("/account/people/requests/<int:request_id>/decline")
@login_required
def decline(request_id: int):
    """The customer says no to a person's request."""
    owned_customer_or_404(current_user)
    access_request = access.awaiting_request_or_404(request_id)
    try:
        services.decline_request(access_request, current_user)
    except services.PeopleError as error:
        db.session.rollback()
        flash(error.message, "warning")
    else:
        db.session.commit()
        flash(_("The request was declined; the person is told by e-mail."), "success")
    return redirect(url_for("people.index"), code=303)


def _request_limit() -> str:
    return current_app.config["ACCESS_REQUEST_RATE_LIMIT"]


def _asking_identity() -> str:
    return f"access-request:{current_user.get_id()}"


def _too_many_requests(_limit):
    # each request sent e-mails a customer: a person cannot use the portal to flood customers
    body, status = error_page(429, _("Too many requests"),
                              _("You have sent many access requests in a short time. Please try again later."))
    return make_response(body, status)


@people.route("/access/request", methods=["GET", "POST"])
@login_required
def request_access():
    """A signed-in person asks a customer for access by customer number. The answer is the same
    whether or not that customer exists."""
    form = AccessRequestForm()
    if form.validate_on_submit():
        try:
            # counted before it is sent, in one atomic step of the limiter's store: counting only
            # after a success let many requests sent at the same moment all pass the check
            with limiter.limit(_request_limit, key_func=_asking_identity, on_breach=_too_many_requests):
                services.request_access(current_user, number=form.number.data, message=form.message.data,
                                        language=_language())
        except services.PeopleError as error:
            db.session.rollback()
            form.form_errors.append(error.message)
        else:
            db.session.commit()
            flash(_("Your request was sent. If %(number)s is the number of an MCX customer, the customer "
                    "decides on it, then MCX checks it; you will get an e-mail with the decision.",
                    number=form.number.data.strip()), "success")
            return redirect(url_for("people.request_access"), code=303)
    return render("people/request_access.html", form=form, status=FAILED_FORM if form.errors else 200,
                  blocked=services.access_request_blocker(current_user))


# --- rooms and recordings ---------------------------------------------------------------------

@rooms.get("", endpoint="index")
@login_required
def rooms_index():
    """The rooms the signed-in person may use, with the recordings they may see."""
    return render("people/rooms.html", accesses=access.visible_rooms())


@rooms.get("/recordings/<int:recording_id>/play")
@login_required
def play(recording_id: int):
    """Watch a recording in the browser."""
    found = access.visible_recording_or_404(recording_id)
    accesses, older = [], None
    if found.delegate_id is None:
        # the owner sees who played and downloaded it (P8); an authorized person does not
        accesses, older = history.history(found.recording.id, found.customer_id,
                                          request.args.get("history_before", type=int64))
    return render("people/play.html", recording=found.recording, room=found.room, accesses=accesses,
                  older=older, as_owner=found.delegate_id is None,
                  history_before=request.args.get("history_before", type=int64))


@rooms.get("/recordings/<int:recording_id>")
@login_required
def download(recording_id: int):
    """Download a recording (HTTP Range supported, so an interrupted download can resume)."""
    return _stream(access.visible_recording_or_404(recording_id), as_attachment=True, mode="download")


@rooms.get("/recordings/<int:recording_id>/media")
@login_required
def media(recording_id: int):
    """The recording as the play page's <video> element fetches it, range by range."""
    return _stream(access.visible_recording_or_404(recording_id), as_attachment=False, mode="playback")


def _download_name(recording) -> str:
    suffix = PurePosixPath(recording.file).suffix or ".mp4"
    title = "".join(c if c.isalnum() or c in " -_.,()" else "_" for c in recording.title).strip() or "recording"
    return f"{title}{suffix}"


def _stream(found: access.RecordingAccess, *, as_attachment: bool, mode: str):
    return serving.serve_recording(found, as_attachment=as_attachment, mode=mode,
                                   download_name=_download_name(found.recording))


# --- moderators -------------------------------------------------------------------------------

@moderation.context_processor
def moderation_helpers():
    me = None

    def concerns(access_request) -> bool:
        nonlocal me  # who the moderator is, looked up once per page however many cards it shows
        me = me or staff_self(current_user)
        return services.concerns(access_request, me)

    return {"mask_email": mask_email, "mask_name": mask_name, "staff_customer_name": staff_customer_name,
            "concerns": concerns}


@moderation.get("")
@role_required("moderator")
def queue():
    """Pending requests, oldest first, with their age; filters; keyset pages."""
    filters = queue_module.QueueFilters.from_args(request.args)
    after = request.args.get("after") or None
    page = queue_module.pending_queue(filters, after)
    return render("people/queue.html", block="queue", page=page, filters=filters, after=after,
                  queue_url=request.full_path.rstrip("?"), blank_approve=ApproveForm(formdata=None),
                  blank_reject=RejectForm(formdata=None))


def _card(access_request, *, revealed=False, message=None, category="success", status=200,
          approve_form=None, reject_form=None, queue_total=None):
    """The request's card: alone for htmx, or on the request's own page."""
    approve_form, reject_form = approve_form or ApproveForm(formdata=None), reject_form or RejectForm(formdata=None)
    # the card's fields carry the request's id (people/_moderation.html): the error summary's links too
    approve_form.id_suffix = reject_form.id_suffix = f"-{access_request.id}"
    return render("people/request.html", block="request_card", status=status, req=access_request,
                  revealed=revealed, message=message, message_category=category, queue_total=queue_total,
                  next_url=safe_next(request.form.get("next") or request.args.get("next"), "moderation.queue"),
                  approve_form=approve_form, reject_form=reject_form)


@moderation.get("/<int:request_id>")
@role_required("moderator")
def detail(request_id: int):
    """One request, masked."""
    return _card(queue_module.request_or_404(request_id))


@moderation.post("/<int:request_id>/reveal")
@role_required("moderator")
def reveal(request_id: int):
    """Show the contact data unmasked; the reveal is logged for the customer to see."""
    access_request = queue_module.request_or_404(request_id)
    services.reveal_contact_data(access_request, current_user)
    db.session.commit()
    return _card(access_request, revealed=True)


@moderation.post("/<int:request_id>/approve")
@role_required("moderator")
def approve(request_id: int):
    """Approve, with an optional note; the person is invited."""
    access_request = queue_module.request_or_404(request_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return _card(access_request, approve_form=form, status=FAILED_FORM)
    return _decide(access_request, approve=True, note=form.note.data, approve_form=form)


@moderation.post("/<int:request_id>/reject")
@role_required("moderator")
def reject(request_id: int):
    """Reject, with the reason (required)."""
    access_request = queue_module.request_or_404(request_id)
    form = RejectForm()
    if not form.validate_on_submit():
        return _card(access_request, reject_form=form, status=FAILED_FORM)
    return _decide(access_request, approve=False, note=form.reason.data, reject_form=form)


def _queue_total_on_page() -> int | None:
    """The pending count for the queue page (with its filters) the decision was made on, if any."""
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    if current.path != url_for("moderation.queue"):
        return None
    filters = queue_module.QueueFilters.from_args(MultiDict(parse_qsl(current.query)))
    return queue_module.pending_queue(filters, page_size=1).total


def _decide(access_request, *, approve: bool, note: str | None, approve_form=None, reject_form=None):
    try:
        services.decide(access_request, current_user, approve=approve, note=note)
    except services.PeopleError as error:
        db.session.rollback()
        message, category = error.message, "warning"
    else:
        db.session.commit()
        message = _("Approved; the person is invited by e-mail.") if approve else _("Rejected; the customer is told why.")
        category = "success"
    if wants_fragment():
        return _card(access_request, message=message, category=category, approve_form=approve_form,
                     reject_form=reject_form, queue_total=_queue_total_on_page())
    flash(message, category)
    return redirect(safe_next(request.form.get("next"), "moderation.queue"), code=303)
