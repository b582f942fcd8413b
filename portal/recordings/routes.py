"""A room's page with its recordings and retention, deleting recordings now with a receipt, and
ZIPs of recordings (issue 17; SPEC P8, P9; GDPR art. 17, 20, 5(1)(e))."""
from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta

from flask import Blueprint, Response, abort, current_app, flash, make_response, redirect, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import insert, select

from portal import audit
from portal.auth.recent import recent_auth_required
from portal.customers.models import Customer, Room
from portal.customers.ownership import owned_customer_or_404
from portal.db_types import local_today
from portal.extensions import db
from portal.people import access
from portal.people.formatting import template_helpers
from portal.people.models import RecordingAccessEvent
from portal.recordings import activity_kinds, archive, deletion, retention  # noqa: F401
from portal.recordings.forms import ConfirmDeletionForm, RetentionForm
from portal.storage import recording_store
from portal.termination.models import DeletedRecording, DeletionReceipt
from portal.termination.services import human_size
from portal.web.boundaries import int64
from portal.web.errors import error_page
from portal.web.i18n import _, _l
from portal.web.navigation import page_showing, safe_next
from portal.web.permissions import ends_with_the_contract
from portal.web.render import render, wants_fragment

bp = Blueprint("recording_control", __name__, url_prefix="/rooms")
blueprints = [bp]
bp.context_processor(template_helpers)
# after termination there is nothing left to delete or keep: those two close with the contract
ends_with_the_contract(bp, endpoints={"recording_control.delete", "recording_control.set_retention"})

MAX_SELECTED = 500
RECEIPT_PAGE = 100
RECEIPTS_PAGE = 20


@bp.context_processor
def helpers():
    return {"human_size": human_size}


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


def _keyset(value: str | None) -> tuple[datetime, int] | None:
    """`before=<microseconds since 1970>-<id>` → (started_at, id); None when absent or unusable
    (the first page)."""
    if not value:
        return None
    micros, _, ident = value.partition("-")
    try:
        return EPOCH + int64(micros) * MICROSECOND, int64(ident)
    except (ValueError, OverflowError):
        return None


@bp.app_template_global()
def keyset_value(started_at: datetime, recording_id: int) -> str:
    """The `before` value of the page after the recording (exact: whole microseconds)."""
    return f"{(started_at - EPOCH) // MICROSECOND}-{recording_id}"


# --- a room -------------------------------------------------------------------------------------

def _room_page(room: Room, as_owner: bool, form: RetentionForm | None = None, *, status: int = 200,
               message: str | None = None, block: str | None = None):
    page = access.room_page(room, as_owner, _keyset(request.args.get("before")))
    if form is None and as_owner:
        form = RetentionForm(formdata=None, keep="months" if room.retention_months else "forever",
                             months=room.retention_months)
    expiry = ({r.id: retention.expires_on(r.started_at, room.retention_months) for r in page.recordings}
              if room.retention_months else {})
    return render("recordings/room.html", block=block, status=status, page=page, room=room, form=form,
                  expiry=expiry, message=message, keyset_value=keyset_value,
                  before=request.args.get("before"))


@bp.get("/<int:room_id>")
@login_required
def room(room_id: int):
    """One room: its recordings newest first, a keyset page at a time ("older recordings"), and
    for the owner the retention setting and the date each recording will be deleted."""
    found, as_owner = access.visible_room_or_404(room_id)
    return _room_page(found, as_owner)


@bp.post("/<int:room_id>/retention")
@login_required
def set_retention(room_id: int):
    """The owner sets how long the room keeps its recordings; it applies from the next run."""
    customer = owned_customer_or_404(current_user)
    found = db.session.scalar(select(Room).where(Room.id == room_id, Room.customer_id == customer.id)) \
        or abort(404)
    form = RetentionForm()
    if not form.validate_on_submit():
        return _room_page(found, True, form, status=422, block="retention")
    try:
        changed = retention.set_retention(found, form.chosen_months(), current_user.id)
    except retention.RetentionError as error:
        db.session.rollback()
        form.months.errors.append(str(error))
        return _room_page(found, True, form, status=422, block="retention")
    db.session.commit()
    if not changed:
        message = _("Nothing changed.")
    elif found.retention_months is None:
        message = _("The recordings of %(room)s are kept until the contract ends.", room=found.name)
    else:
        message = _("From the next daily run, recordings of %(room)s older than %(months)d months are deleted.",
                    room=found.name, months=found.retention_months)
    if wants_fragment():
        return _room_page(found, True, None, message=message, block="retention")
    flash(message, "success")
    return redirect(url_for(".room", room_id=found.id), code=303)


# --- deleting now ---------------------------------------------------------------------------

def _chosen_ids(values: list[str]) -> list[int]:
    ids = []
    for value in values[:MAX_SELECTED]:
        try:
            ids.append(int64(value))
        except ValueError:
            continue
    return ids


@bp.route("/delete", methods=["GET", "POST"])
@recent_auth_required
def delete():
    """The owner deletes recordings now: the chosen ones are named on a confirmation page (title,
    room, size); confirming deletes them for good and shows the receipt. Never a delegate."""
    customer = owned_customer_or_404(current_user)
    source = request.form if request.method == "POST" else request.args
    selected = deletion.owned_selection(customer.id, _chosen_ids(source.getlist("recording")))
    if not selected.recordings:
        # back to the page whose form was sent empty (a room's page, or the rooms list), with the error
        flash(_("Choose at least one recording to delete."), "warning")
        return redirect(page_showing(safe_next(source.get("back"), "rooms.index")), code=303)
    form = ConfirmDeletionForm()
    if request.method == "POST" and form.validate_on_submit():
        ids = [recording.id for recording, _room in selected.recordings]
        try:
            receipt_id = deletion.delete_now(customer.id, current_user.id, ids, recording_store())
        except deletion.DeletionFailed:
            db.session.rollback()
            flash(_("Some files could not be deleted yet. They are hidden from everyone, and we finish "
                    "the deletion automatically; the receipt follows."), "warning")
            return redirect(url_for(".receipts"), code=303)
        if receipt_id is None:
            # a second confirmation (a double click) found the first one had marked them all
            flash(_("These recordings are already being deleted: their receipt is in the list."), "info")
            return redirect(url_for(".receipts"), code=303)
        flash(_("Deleted for good. This is your receipt."), "success")
        return redirect(url_for(".receipt", receipt_id=receipt_id), code=303)
    return render("recordings/confirm_delete.html", status=400 if request.method == "POST" else 200,
                  selected=selected, form=form)


def _receipt_or_404(receipt_id: int, customer: Customer) -> DeletionReceipt:
    receipt = db.session.scalar(select(DeletionReceipt).where(
        DeletionReceipt.id == receipt_id, DeletionReceipt.customer_id == customer.id,
        DeletionReceipt.termination_id.is_(None), DeletionReceipt.issued_at.is_not(None)))
    return receipt or abort(404)


@bp.get("/receipts")
@login_required
def receipts():
    """The owner's receipts of recordings deleted on request or by retention, newest first."""
    customer = owned_customer_or_404(current_user)
    before = request.args.get("before", type=int64)
    items = deletion.receipts_of(customer.id, before, RECEIPTS_PAGE + 1)
    older = items[RECEIPTS_PAGE - 1].id if len(items) > RECEIPTS_PAGE else None
    return render("recordings/receipts.html", receipts=items[:RECEIPTS_PAGE], older=older, before=before,
                  pending=deletion.open_receipt_count(customer.id))


@bp.get("/receipts/<int:receipt_id>")
@login_required
def receipt(receipt_id: int):
    """One deletion receipt: what went, when, who asked; each recording with its checksum."""
    customer = owned_customer_or_404(current_user)
    found = _receipt_or_404(receipt_id, customer)
    after = request.args.get("after", default=0, type=int64)
    items = list(db.session.scalars(
        select(DeletedRecording).where(DeletedRecording.receipt_id == found.id,
                                       DeletedRecording.recording_id > after)
        .order_by(DeletedRecording.recording_id).limit(RECEIPT_PAGE + 1)))
    next_after = items[RECEIPT_PAGE - 1].recording_id if len(items) > RECEIPT_PAGE else None
    return render("recordings/receipt.html", customer=customer, receipt=found, items=items[:RECEIPT_PAGE],
                  after=after, next_after=next_after)


@bp.get("/receipts/<int:receipt_id>.json")
@login_required
def receipt_json(receipt_id: int):
    """The receipt document exactly as issued; its sha256 is the one the receipt page shows."""
    customer = owned_customer_or_404(current_user)
    body = _receipt_or_404(receipt_id, customer).document.encode()
    response = make_response(body)
    response.mimetype = "application/json"
    response.headers["Content-Disposition"] = f'attachment; filename="deletion-receipt-{receipt_id}.json"'
    response.headers["Repr-Digest"] = f"sha-256=:{base64.b64encode(hashlib.sha256(body).digest()).decode()}:"
    return response


# --- ZIPs -------------------------------------------------------------------------------------

def _scope_rooms(customer_number: str | None) -> tuple[Customer, list[int], int | None]:
    """(customer, room ids, delegate id) the signed-in person may take as a ZIP: all the owner's
    rooms, or the rooms of a live delegation with recordings of the customer `customer_number`."""
    if not customer_number or (current_user.customer_id is not None and customer_number == db.session.scalar(
            select(Customer.number).where(Customer.id == current_user.customer_id))):
        customer = owned_customer_or_404(current_user)
        return customer, [room.id for room in access.owned_rooms(customer.id)], None
    for delegation in access.delegated_rooms(current_user, local_today()):
        if delegation.customer.number == customer_number and delegation.recordings:
            return delegation.customer, [room.id for room in delegation.rooms], delegation.delegate_id
    abort(404)


def _zip_response(customer: Customer, room_ids: list[int], delegate_id: int | None, name: str,
                  room_id: int | None) -> Response:
    members = archive.members(room_ids)
    store = recording_store()
    unreadable = archive.unreadable(members, store)
    if unreadable:
        # a ZIP whose sizes were promised up front cannot skip a file half-way: refuse it whole
        current_app.logger.error("recordings archive refused: %d unreadable recording(s), ids %s",
                                 len(unreadable), [m.recording_id for m in unreadable[:20]])
        return error_page(503, _l("The archive is not available right now"),
                          _l("Some of the recordings cannot be read right now, so the ZIP would be "
                             "incomplete. Please try again later; we have been told."))
    stream = archive.build(members, customer.number, store)
    if request.method == "GET":
        # one event per download (no ranges: each request is a whole download), and each recording's
        # access history shows it
        event = audit.record("recordings_archive_downloaded", actor_id=current_user.id, customer_id=customer.id,
                             room_id=room_id, recordings=len(members),
                             bytes=sum(m.size_bytes for m in members), delegate_id=delegate_id)
        if members:
            db.session.execute(insert(RecordingAccessEvent.__table__),
                               [{"recording_id": m.recording_id, "audit_event_id": event.id} for m in members])
        db.session.commit()
    # the stream needs no request context and holds no database connection while the client reads
    response = Response(iter(stream), mimetype="application/zip")
    response.content_length = len(stream)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["Accept-Ranges"] = "none"
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/recordings.zip")
@login_required
def archive_all():
    """Every recording the person may take as one ZIP with manifest.json: the owner's own, or with
    `?of=<customer number>` those of the customer's rooms in their delegation's scope."""
    customer, room_ids, delegate_id = _scope_rooms(request.args.get("of"))
    return _zip_response(customer, room_ids, delegate_id, f"recordings-{customer.number}.zip", None)


@bp.get("/<int:room_id>/recordings.zip")
@login_required
def archive_room(room_id: int):
    """One room's recordings as one ZIP with manifest.json (owner, or a delegate whose scope
    includes the room and its recordings)."""
    found, as_owner = access.visible_room_or_404(room_id)
    delegate_id = None
    if not as_owner:
        delegate_id = next((d.delegate_id for d in access.delegated_rooms(current_user, local_today())
                            if d.recordings and any(r.id == found.id for r in d.rooms)), None)
    customer = db.session.get(Customer, found.customer_id)
    return _zip_response(customer, [found.id], delegate_id, f"recordings-{customer.number}-room-{found.id}.zip",
                         found.id)
