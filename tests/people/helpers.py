"""Test data for the people domain: customers with rooms, real recording files, delegates."""
from __future__ import annotations

import hashlib
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.extensions import db
from portal.storage import recording_store
from tests import factories


def recording_file(in_room, title: str = "Nagranie", size: int = 1000, *, suffix: str = ".mp4",
                   content: bytes | None = None):
    """A recording whose file really exists in the recording store, with matching size and checksum."""
    recording = factories.recording(in_room, title=title)
    content = content if content is not None else bytes((i * 7 + recording.id) % 256 for i in range(size))
    recording.file = f"test/{recording.key}{suffix}"
    recording_store().put(recording.file, content)
    recording.size_bytes = len(content)
    recording.sha256 = hashlib.sha256(content).hexdigest()
    db.session.flush()
    return recording


def events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)))


def page_text(response) -> str:
    return response.get_data(as_text=True)


def count_statements(action) -> int:
    """How many SQL statements `action()` sends to the database."""
    from sqlalchemy import event

    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    return count


def stored_bytes(key: str) -> bytes:
    """The recording's bytes as the configured store (directory or S3) holds them."""
    with recording_store().open(key) as handle:
        return handle.read()
