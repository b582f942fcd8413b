"""What the portal holds about one customer, category by category, exactly as the registry declares.

Each list category has one query whose columns are labelled with the registry's field keys;
the data page reads a page of it (keyset on `cursor`), the export streams all of it. A value a
field derives from other rows (a delegate's rooms) is filled in per batch, so neither the page
nor the export issues a query per row.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Integer, Select, bindparam, or_, select, true
from sqlalchemy.orm import selectinload

from portal.account.models import CorrectionRequest, LegalDisclosure
from portal.audit import AuditEvent
from portal.auth.models import Identity, UserSession
from portal.consents.models import ConsentEvent, PolicyAcknowledgement, PolicyVersion
from portal.customers.models import Contract, Customer, Recording, Room
from portal.dsar.models import DataSubjectRequest, DsarAnswer
from portal.dsar.models import case_number as dsar_case_number
from portal.extensions import db
from portal.mail import OutboxMessage
from portal.people.models import AccessRequest, Delegate, DelegateStatus, delegate_rooms
from portal.termination.models import DeletedRecording, DeletionReceipt, TerminationRequest
from portal.transparency import activity
from portal.transparency.registry import Category
from portal.transparency.together import Together
from portal.web.boundaries import int64

PAGE_SIZE = 20
STREAM_BATCH = 1000


@dataclass(frozen=True)
class ListSource:
    """How to read one list category of a customer."""

    query: Callable[[int], Select]  # customer id → labelled columns; `cursor` is the keyset column
    newest_first: bool = False
    enrich: Callable[[int, list[dict]], None] | None = None  # fills derived fields of a batch
    # (customer id, cursor to continue below or None, limit) → one page, newest first, for a
    # category that cannot be one ordered query without reading other customers' rows
    keyset: Callable[[int, object | None, int], Select] | None = None
    streamed_by_keyset: bool = True  # False: the export reads `query` in one ordered pass instead


def _delegate_rooms(customer_id: int, rows: list[dict]) -> None:
    ids = [row["cursor"] for row in rows]
    names: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for delegate_id, name in db.session.execute(
            select(delegate_rooms.c.delegate_id, Room.name).join(Room, Room.id == delegate_rooms.c.room_id)
            .where(delegate_rooms.c.delegate_id.in_(ids)).order_by(Room.id)
        ):
            names[delegate_id].append(name)
    for row in rows:
        row["rooms"] = names[row["cursor"]]


_ACTIVITY_COLUMNS = (AuditEvent.id.label("cursor"), AuditEvent.at, AuditEvent.kind, AuditEvent.data,
                     AuditEvent.actor_identity_id.label("actor"))


def _activity_query(customer_id: int) -> Select:
    return select(*_ACTIVITY_COLUMNS).where(activity.belongs_to(customer_id))


def _activity_keyset(customer_id: int, before: int | None, limit: int) -> Select:
    """A page of the activity log in `_activity_query`'s columns, read by activity.page_ids()."""
    return (select(*_ACTIVITY_COLUMNS).where(AuditEvent.id.in_(activity.page_ids(customer_id, limit, before)))
            .order_by(AuditEvent.id.desc()))


def _activity_enrich(customer_id: int, rows: list[dict]) -> None:
    actors = activity.Actors(customer_id, {row["actor"] for row in rows})
    for row in rows:
        row["who"] = actors.code(row.pop("actor"))
        entry = activity.describe(row["kind"])
        data = json.loads(row.pop("data"))
        known = row["kind"] in activity.registered_kinds()
        # a kind nobody described shows its details only when they are the customer's own doing
        row["details"] = entry.exported(data) if known else (data if row["who"] in ("you", "mcx") else {})


def _recordings_columns() -> Select:
    return (select(Recording.id.label("cursor"), Room.name.label("room"), Recording.title, Recording.started_at,
                   Recording.duration_s, Recording.size_bytes, Recording.sha256)
            .join(Room, Room.id == Recording.room_id))


def _recordings_query(customer_id: int) -> Select:
    return _recordings_columns().where(Room.customer_id == customer_id)


def _recordings_keyset(customer_id: int, after: int | None, limit: int) -> Select:
    """A page of the recordings, oldest first by id. On PostgreSQL each of the customer's rooms
    gives the ids of its first `limit` recordings from recordings(room_id, id) (LATERAL, ids only,
    so an index-only scan in order beats fetching a room's rows and sorting them), and the page
    sorts at most rooms × limit ids, not all 100,000 of a big customer (issue 15)."""
    if db.session.get_bind().dialect.name != "postgresql":
        query = _recordings_query(customer_id)
        if after is not None:
            query = query.where(Recording.id > after)
        return query.order_by(Recording.id).limit(limit)
    rooms = select(Room.id).where(Room.customer_id == customer_id).subquery()
    first = select(Recording.id).where(Recording.room_id == rooms.c.id)
    if after is not None:
        first = first.where(Recording.id > after)
    first = first.order_by(Recording.id).limit(limit).lateral()
    ids = select(first.c.id).select_from(rooms).join(first, true()).order_by(first.c.id).limit(limit)
    # the ids are the customer's already; filtering by customer again would lure the planner into
    # reading all their recordings from the rooms side
    return _recordings_columns().where(Recording.id.in_(ids)).order_by(Recording.id)


def _dsar_cases(customer_id: int, rows: list[dict]) -> None:
    for row in rows:
        row["case"] = dsar_case_number(row.pop("case_id"), row.pop("case_received_at"))


SOURCES: dict[str, ListSource] = {
    "rooms": ListSource(
        lambda cid: select(Room.id.label("cursor"), Room.name, Room.kind, Room.retention_months).where(Room.customer_id == cid)),
    # the export reads them in one pass ordered by id; the data page by keyset, room by room
    "recordings": ListSource(_recordings_query, keyset=_recordings_keyset, streamed_by_keyset=False),
    # only persons who are or were authorized (issue 11 item 4): one the customer declined, a
    # moderator rejected or still has to decide on is an access request, listed as one below
    "authorized_persons": ListSource(
        lambda cid: select(Delegate.id.label("cursor"), Delegate.name, Delegate.email, Delegate.recordings,
                           Delegate.expires_on, Delegate.status, Delegate.source, Delegate.created_at,
                           Delegate.removed_at)
        .where(Delegate.customer_id == cid, or_(activity.had_access(), Delegate.status == DelegateStatus.INVITED)),
        enrich=_delegate_rooms),
    "consent_events": ListSource(
        lambda cid: select(ConsentEvent.id.label("cursor"), ConsentEvent.at, ConsentEvent.purpose,
                           ConsentEvent.channel, ConsentEvent.granted, ConsentEvent.source,
                           ConsentEvent.collection_method, ConsentEvent.language,
                           PolicyVersion.version.label("policy_version"), ConsentEvent.receipt_id,
                           ConsentEvent.recorded_at)
        .outerjoin(PolicyVersion, PolicyVersion.id == ConsentEvent.policy_version_id)
        .where(ConsentEvent.customer_id == cid),
        newest_first=True),
    "policy_acknowledgements": ListSource(
        lambda cid: select(PolicyAcknowledgement.id.label("cursor"), PolicyVersion.version.label("policy_version"),
                           PolicyAcknowledgement.at)
        .join(PolicyVersion, PolicyVersion.id == PolicyAcknowledgement.policy_version_id)
        .where(PolicyAcknowledgement.customer_id == cid),
        newest_first=True),
    "access_requests": ListSource(
        lambda cid: select(AccessRequest.id.label("cursor"), Delegate.name.label("person"), AccessRequest.origin,
                           AccessRequest.message, AccessRequest.requester_language, AccessRequest.status, AccessRequest.created_at,
                           AccessRequest.decided_at, AccessRequest.decision_note)
        .join(Delegate, Delegate.id == AccessRequest.delegate_id).where(AccessRequest.customer_id == cid),
        newest_first=True),
    "termination_requests": ListSource(
        lambda cid: select(TerminationRequest.id.label("cursor"), TerminationRequest.status,
                           TerminationRequest.requested_at, TerminationRequest.effective_on,
                           TerminationRequest.receipt_acknowledged_at, TerminationRequest.confirmation_due_on,
                           TerminationRequest.confirmed_at, TerminationRequest.withdrawn_at,
                           TerminationRequest.started_at, TerminationRequest.completed_at)
        .where(TerminationRequest.customer_id == cid),
        newest_first=True),
    "deletion_receipts": ListSource(
        lambda cid: select(DeletionReceipt.id.label("cursor"), DeletionReceipt.reason, DeletionReceipt.issued_at,
                           DeletionReceipt.recordings_count, DeletionReceipt.total_bytes,
                           DeletionReceipt.document_sha256, DeletionReceipt.document)
        .where(DeletionReceipt.customer_id == cid),
        newest_first=True),
    "deleted_recordings": ListSource(
        lambda cid: select(DeletedRecording.id.label("cursor"), DeletedRecording.room_name.label("room"),
                           DeletedRecording.title, DeletedRecording.size_bytes, DeletedRecording.sha256,
                           DeletedRecording.deleted_at)
        .join(DeletionReceipt, DeletionReceipt.id == DeletedRecording.receipt_id)
        .where(DeletionReceipt.customer_id == cid)),
    "correction_requests": ListSource(
        lambda cid: select(CorrectionRequest.id.label("cursor"), CorrectionRequest.field,
                           CorrectionRequest.requested_value, CorrectionRequest.note, CorrectionRequest.status,
                           CorrectionRequest.created_at, CorrectionRequest.decided_at,
                           CorrectionRequest.decision_note).where(CorrectionRequest.customer_id == cid),
        newest_first=True),
    "legal_disclosures": ListSource(
        lambda cid: select(LegalDisclosure.id.label("cursor"), LegalDisclosure.disclosed_on,
                           LegalDisclosure.recipient, LegalDisclosure.legal_basis, LegalDisclosure.data_disclosed,
                           LegalDisclosure.recorded_at).where(LegalDisclosure.customer_id == cid),
        newest_first=True),
    "data_subject_requests": ListSource(
        lambda cid: select(DataSubjectRequest.id.label("cursor"), DataSubjectRequest.id.label("case_id"),
                           DataSubjectRequest.received_at.label("case_received_at"), DataSubjectRequest.kind,
                           DataSubjectRequest.text, DataSubjectRequest.language, DataSubjectRequest.status,
                           DataSubjectRequest.received_at, DataSubjectRequest.due_on, DataSubjectRequest.extended_at,
                           DataSubjectRequest.extension_reason, DataSubjectRequest.closed_at,
                           DataSubjectRequest.closing_reason).where(DataSubjectRequest.customer_id == cid),
        newest_first=True, enrich=_dsar_cases),
    "data_subject_request_answers": ListSource(
        lambda cid: select(DsarAnswer.id.label("cursor"), DataSubjectRequest.id.label("case_id"),
                           DataSubjectRequest.received_at.label("case_received_at"), DsarAnswer.text,
                           DsarAnswer.written_at)
        .join(DataSubjectRequest, DataSubjectRequest.id == DsarAnswer.request_id)
        .where(DataSubjectRequest.customer_id == cid),
        newest_first=True, enrich=_dsar_cases),
    "sign_ins": ListSource(
        lambda cid: select(Identity.id.label("cursor"), Identity.issuer, Identity.subject, Identity.email,
                           Identity.email_verified, Identity.name, Identity.created_at, Identity.last_sign_in_at)
        .where(Identity.customer_id == cid)),
    "sessions": ListSource(
        lambda cid: select(UserSession.created_at.label("cursor"), UserSession.provider, UserSession.user_agent,
                           UserSession.ip_address, UserSession.auth_time, UserSession.created_at,
                           UserSession.last_seen_at, UserSession.revoked_at, UserSession.revoked_reason)
        .join(Identity, Identity.id == UserSession.identity_id).where(Identity.customer_id == cid),
        newest_first=True),
    "activity_log": ListSource(_activity_query, newest_first=True, enrich=_activity_enrich, keyset=_activity_keyset),
    "emails": ListSource(
        lambda cid: select(OutboxMessage.id.label("cursor"), OutboxMessage.created_at, OutboxMessage.kind,
                           OutboxMessage.to_address, OutboxMessage.subject, OutboxMessage.body,
                           OutboxMessage.status, OutboxMessage.sent_at).where(OutboxMessage.customer_id == cid),
        newest_first=True),
}


def _ordered(category_key: str, customer_id: int) -> Select:
    source = SOURCES[category_key]
    query = source.query(customer_id)
    cursor = query.selected_columns.cursor
    return query.order_by(cursor.desc() if source.newest_first else cursor)


# --- one record -----------------------------------------------------------------------------------

def load_customer(customer_id: int) -> Customer:
    return db.session.scalar(
        select(Customer).where(Customer.id == customer_id)
        .options(selectinload(Customer.contract).selectinload(Contract.services))
    )


def single_record(category: Category, customer: Customer, services: list[str] | None = None) -> dict | None:
    """The values of a one-record category (customer, contact, address, contract); `services`, when
    given, are the contract's services already read (otherwise they are loaded)."""
    if category.key == "contract":
        contract = customer.contract
        if contract is None:
            return None
        values = {f.key: getattr(contract, f.key) for f in category.fields if f.key != "services"}
        values["services"] = (services if services is not None
                              else [s.service for s in sorted(contract.services, key=lambda s: s.service)])
        return values
    return {f.key: getattr(customer, f.key) for f in category.fields}


# --- lists ---------------------------------------------------------------------------------------

@dataclass
class Page:
    rows: list[dict]
    next_cursor: object | None


CUSTOMER = bindparam("inventory_customer_id", type_=Integer())


def _page_query(category_key: str, customer_id, after: object | None, size: int) -> Select:
    source = SOURCES[category_key]
    if source.keyset:
        # a keyset of its own (issue 15): its LIMIT is inside, where the index can serve it
        return source.keyset(customer_id, after, size + 1)
    query = _ordered(category_key, customer_id)
    if after is not None:
        cursor = query.selected_columns.cursor
        query = query.where(cursor < after if source.newest_first else cursor > after)
    return query.limit(size + 1)


def _as_page(rows: list[dict], size: int) -> Page:
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, rows[-1]["cursor"] if more else None)


def page(category_key: str, customer_id: int, after: object | None = None, size: int = PAGE_SIZE) -> Page:
    """One page of a list category, `size` rows after the keyset `after` (a cursor of an earlier page)."""
    source = SOURCES[category_key]
    result = _as_page([dict(row) for row in db.session.execute(
        _page_query(category_key, customer_id, after, size)).mappings()], size)
    if source.enrich:
        source.enrich(customer_id, result.rows)
    return result


# the data page's statement for each shape (categories, which of them continue after a cursor,
# extra queries), built once: building it cost more CPU than running it
_TOGETHER: dict[tuple, Together] = {}
_TOGETHER_SHAPES = 64


def pages(category_keys: list[str], customer_id: int, cursors: dict[str, object], size: int = PAGE_SIZE,
          extra: dict[str, Callable] | None = None) -> tuple[dict[str, Page], dict[str, list[dict]]]:
    """One page of each list category (as `page` reads it) and the rows of each `extra` query (a
    function of the customer-id bound parameter), all in ONE statement (`Together`), so the data
    page costs the same few statements however many categories the registry lists (issue #15,
    item 3). A delegate's rooms come with them."""
    extra = extra or {}
    continued = tuple(key for key in category_keys if cursors.get(key) is not None)
    # per dialect too: a keyset may be written differently for each (LATERAL on PostgreSQL), and
    # one process can serve both (the restore drill's app beside the suite's SQLite one)
    dialect = db.session.get_bind().dialect.name
    shape = (dialect, tuple(category_keys), continued, size, tuple(extra.items()))
    together = _TOGETHER.get(shape)
    if together is None:
        branches = {key: _page_query(key, CUSTOMER, _after(key) if key in continued else None, size)
                    for key in category_keys}
        if "authorized_persons" in branches:
            listed = branches["authorized_persons"].subquery()
            branches["authorized_persons"] = select(listed)
            branches[_ROOMS_OF_LISTED] = (
                select(delegate_rooms.c.delegate_id, Room.id.label("room_id"), Room.name)
                .join(Room, Room.id == delegate_rooms.c.room_id)
                .where(delegate_rooms.c.delegate_id.in_(select(listed.c.cursor))))
        together = Together({**branches, **{name: build(CUSTOMER) for name, build in extra.items()}})
        if len(_TOGETHER) >= _TOGETHER_SHAPES:
            _TOGETHER.clear()
        _TOGETHER[shape] = together
    read = together.read({"inventory_customer_id": customer_id,
                          **{f"inventory_after_{key}": cursors[key] for key in continued}})
    result = {}
    for key in category_keys:
        source = SOURCES[key]
        rows = sorted(read[key], key=lambda row: row["cursor"], reverse=source.newest_first)
        result[key] = _as_page(rows, size)
    if "authorized_persons" in result:
        names: dict[int, list[str]] = {}
        for row in sorted(read[_ROOMS_OF_LISTED], key=lambda row: row["room_id"]):
            names.setdefault(row["delegate_id"], []).append(row["name"])
        for row in result["authorized_persons"].rows:
            row["rooms"] = names.get(row["cursor"], [])
    for key in category_keys:
        enrich = SOURCES[key].enrich
        if enrich is not None and enrich is not _delegate_rooms:
            enrich(customer_id, result[key].rows)
    return result, {name: read[name] for name in extra}


def _after(key: str):
    return bindparam(f"inventory_after_{key}", type_=SOURCES[key].query(CUSTOMER).selected_columns.cursor.type)


_ROOMS_OF_LISTED = "authorized_persons:rooms"


def stream(category_key: str, customer_id: int, batch: int = STREAM_BATCH) -> Iterator[dict]:
    """Every row of a list category, read `batch` rows at a time (flat memory)."""
    source = SOURCES[category_key]
    if source.keyset and source.streamed_by_keyset:
        yield from _keyset_stream(source, customer_id, batch)
        return
    result = db.session.execute(_ordered(category_key, customer_id).execution_options(yield_per=batch))
    for partition in result.mappings().partitions():
        rows = [dict(row) for row in partition]
        if source.enrich:
            source.enrich(customer_id, rows)
        yield from rows


def _keyset_stream(source: ListSource, customer_id: int, batch: int) -> Iterator[dict]:
    """Every row, one keyset page of `batch` rows at a time, each page its own short query."""
    before = None
    while True:
        rows = [dict(row) for row in db.session.execute(source.keyset(customer_id, before, batch)).mappings()]
        if not rows:
            return
        before = rows[-1]["cursor"]
        if source.enrich:
            source.enrich(customer_id, rows)
        yield from rows
        if len(rows) < batch:
            return


def parse_cursor(value: str | None) -> int | None:
    """A keyset cursor from a URL (a 64-bit id, as `int64` reads it); anything else means the first page."""
    try:
        return int64(value) if value else None
    except ValueError:
        return None


# --- JSON -------------------------------------------------------------------------------------

def json_value(value):
    """A value as the export writes it: dates and times in ISO-8601 (times with their zone), the rest as is."""
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def json_record(category: Category, values: dict) -> dict:
    """Exactly the registry's fields of the category, in the registry's order."""
    return {f.key: json_value(values[f.key]) for f in category.fields}
