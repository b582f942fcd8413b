"""Which recording downloads and playbacks the owner's activity log shows (SPEC P8: every download
is logged; the customer's activity log and download count are true; issue 11 item 7).

Every response that serves bytes of a recording — a 200 or a 206 of any range — is accounted for:
it is either logged, or it continues a download or playback this same sign-in session of the same
person already logged for the same recording less than `SAME_DOWNLOAD_WINDOW` ago. Which byte a
range starts at decides nothing, so no choice of `Range` (``bytes=1-``, ``bytes=-N``, …) fetches a
recording unlogged; a second session (another browser, a new sign-in) is another download. HEAD,
304, 412 and 416 serve no bytes and are never logged (the caller does not call in).
"""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from portal import audit
from portal.audit import AuditEvent
from portal.auth.models import Identity
from portal.db_types import utcnow
from portal.extensions import db
from portal.people.access import RecordingAccess
from portal.people.models import RecordingAccessEvent

# A player fetches a recording range by range as it is watched, and a client resumes a broken
# download with `Range: bytes=<n>-`: those follow-ups belong to one download. Ten minutes covers a
# player's buffering and a resume after a dropped connection; a playback going on for longer may be
# logged again — counting a download twice is the safe error, not counting it at all is not (P8).
SAME_DOWNLOAD_WINDOW = timedelta(minutes=10)


def session_tag(session_id: str | None) -> str | None:
    """A tag for the sign-in session, stored in the event instead of the session id itself (the id
    is the bearer secret in the session cookie). None when there is no session id."""
    if not session_id:
        return None
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()[:32]


def _already_logged(access: RecordingAccess, identity: Identity, mode: str, tag: str) -> bool:
    since = utcnow() - SAME_DOWNLOAD_WINDOW
    recent = db.session.scalars(
        select(AuditEvent).where(AuditEvent.kind == "recording_downloaded",
                                 AuditEvent.actor_identity_id == identity.id,
                                 AuditEvent.customer_id == access.customer_id,
                                 AuditEvent.at >= since))
    for event in recent:
        details = event.details
        if (details.get("recording_id") == access.recording.id and details.get("mode") == mode
                and details.get("session") == tag):
            return True
    return False


def record_download(access: RecordingAccess, identity: Identity, *, mode: str, session_id: str | None) -> bool:
    """Account for a response that served bytes of `access.recording` to `identity` in the sign-in
    session `session_id` (`mode` is "download" or "playback"). Returns True when a
    `recording_downloaded` event was appended (flushed; the caller commits), False when the response
    continues a download already logged (see the module docstring). A request without a session id
    is always logged."""
    tag = session_tag(session_id)
    # this person's download decisions are serialized, so two parallel first ranges of one
    # playback log it once
    audit.lock_chain("recording_downloaded", identity.id)
    if tag is not None and _already_logged(access, identity, mode, tag):
        return False
    event = audit.record("recording_downloaded", actor_id=identity.id, customer_id=access.customer_id,
                         recording_id=access.recording.id, room_id=access.room.id, mode=mode,
                         delegate_id=access.delegate_id, session=tag)
    # the recording's access history finds its events through this indexed column
    db.session.add(RecordingAccessEvent(audit_event_id=event.id, recording_id=access.recording.id))
    db.session.flush()
    return True
