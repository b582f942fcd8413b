"""Who played and downloaded a recording, and when (SPEC P8: every download is logged; issue 17
item 4). Read from the audit events, found through `recording_access_events` (its key is
(recording_id, audit_event_id), so one page is one index range, newest first)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.extensions import db
from portal.people.models import Delegate, RecordingAccessEvent

PAGE = 20


@dataclass
class Access:
    event_id: int
    at: datetime
    what: str  # download | playback | archive
    who: str  # owner | delegate | staff
    delegate_name: str | None


def history(recording_id: int, customer_id: int, before: int | None = None,
            limit: int = PAGE) -> tuple[list[Access], int | None]:
    """One page of the recording's accesses, newest first, and the keyset (an event id) of the
    next page or None. Two queries whatever the page holds."""
    query = (
        select(AuditEvent.id, AuditEvent.at, AuditEvent.kind, AuditEvent.data, Identity.customer_id)
        .join(RecordingAccessEvent, RecordingAccessEvent.audit_event_id == AuditEvent.id)
        .outerjoin(Identity, Identity.id == AuditEvent.actor_identity_id)
        .where(RecordingAccessEvent.recording_id == recording_id, AuditEvent.customer_id == customer_id)
        .order_by(RecordingAccessEvent.audit_event_id.desc()).limit(limit + 1)
    )
    if before is not None:
        query = query.where(RecordingAccessEvent.audit_event_id < before)
    rows = db.session.execute(query).all()
    more = rows[limit - 1].id if len(rows) > limit else None
    rows = rows[:limit]
    parsed = [(row, AuditEvent(data=row.data).details) for row in rows]
    delegate_ids = {d.get("delegate_id") for _, d in parsed if isinstance(d.get("delegate_id"), int)}
    names = dict(db.session.execute(
        select(Delegate.id, Delegate.name).where(Delegate.id.in_(delegate_ids),
                                                 Delegate.customer_id == customer_id)).all()) if delegate_ids else {}
    out = []
    for row, details in parsed:
        delegate_id = details.get("delegate_id")
        if row.customer_id == customer_id:
            who = "owner"
        elif delegate_id in names:
            who = "delegate"
        else:
            who = "staff"
        what = "archive" if row.kind == "recordings_archive_downloaded" else (
            "playback" if details.get("mode") == "playback" else "download")
        out.append(Access(row.id, row.at, what, who, names.get(delegate_id)))
    return out, more
