"""The deletion receipt's document, one format for every deletion: a termination's, one the owner
asked for, and a retention run's (GDPR art. 17 and 5(2): the controller shows what was erased).

JSON: a header and totals, then one recording per line, in id order — readable in any editor
and quick to write for 100,000 recordings.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import delete, insert, select

from portal.customers.models import Recording
from portal.extensions import db
from portal.storage import RecordingStore, Removed, StorageError
from portal.termination.models import DeletedRecording, DeletionReceipt

RECEIPT_SCHEMA = "mcx-deletion-receipt/1"


def write(receipt: DeletionReceipt, issued_at: datetime, customer_number: str,
          details: dict) -> tuple[str, int, int]:
    """The receipt's document: schema, ids, `issued_at`, the controller and `customer_number`,
    then `details` (what the deletion was), totals and the recordings. Returns (document, number
    of recordings, their total size in bytes)."""
    rows = db.session.execute(
        select(DeletedRecording.recording_id, DeletedRecording.room_name, DeletedRecording.title,
               DeletedRecording.size_bytes, DeletedRecording.sha256, DeletedRecording.deleted_at,
               DeletedRecording.versions_removed, DeletedRecording.delete_markers_removed)
        .where(DeletedRecording.receipt_id == receipt.id).order_by(DeletedRecording.recording_id)
    ).all()
    total = sum(r.size_bytes for r in rows)
    header = {
        "schema": RECEIPT_SCHEMA,
        "receipt_id": receipt.id,
        "issued_at": issued_at.isoformat(timespec="seconds"),
        "controller": "MCX Telecom",
        "customer_number": customer_number,
        **details,
        "totals": {"recordings": len(rows), "size_bytes": total},
    }
    entries = ",\n    ".join(
        json.dumps({"id": r.recording_id, "room": r.room_name, "title": r.title, "size_bytes": r.size_bytes,
                    "sha256": r.sha256, "deleted_at": r.deleted_at.isoformat(timespec="seconds"),
                    **_removed_entry(r)},
                   ensure_ascii=False)
        for r in rows
    )
    head = json.dumps(header, ensure_ascii=False, indent=2).removesuffix("\n}")
    document = head + ',\n  "recordings": [' + (f"\n    {entries}\n  " if rows else "") + "]\n}\n"
    return document, len(rows), total


def _removed_entry(row) -> dict:
    """`removed`: the stored versions and delete markers the permanent removal took away (issue 19);
    absent for rows from before the store reported it."""
    if row.versions_removed is None:
        return {}
    return {"removed": {"versions": row.versions_removed, "delete_markers": row.delete_markers_removed}}


def removed_columns(removed: Removed | None) -> dict:
    """The receipt line's account of what the store removed. A run that resumes after a crash
    finds the versions an earlier run removed already gone, and says so (zero): it never claims
    removals it did not see."""
    removed = removed or Removed()
    return {"versions_removed": removed.versions, "delete_markers_removed": removed.delete_markers}


def erase_batch(store: RecordingStore, receipt_id: int, batch: list, failures: dict[int, str], deleted_at) -> int:
    """Erase one batch of recordings (rows of id, file, title, size_bytes, sha256, name): the files
    first, then, for each file that is really gone, its receipt line and its row (flushed, not
    committed). A file the store refuses or still holds goes into `failures` (id -> reason) and
    keeps its row. Returns how many rows were deleted. The same step serves a termination, a
    deletion the owner asked for and a retention run (GDPR art. 17)."""
    removal = store.remove_many(row.file for row in batch)
    gone = []
    for row in batch:
        problem = removal.failures.get(row.file)
        if problem is None and store.exists(row.file):
            problem = StorageError(f"{row.file}: still there after deletion")
        if problem is not None:
            failures[row.id] = str(problem)
        else:
            gone.append(row)
    if not gone:
        return 0
    db.session.execute(insert(DeletedRecording.__table__), [
        {"receipt_id": receipt_id, "recording_id": row.id, "room_name": row.name, "title": row.title,
         "size_bytes": row.size_bytes, "sha256": row.sha256, "deleted_at": deleted_at,
         **removed_columns(removal.removed.get(row.file))}
        for row in gone])
    return db.session.execute(delete(Recording).where(Recording.id.in_([row.id for row in gone]))
                              .execution_options(synchronize_session=False)).rowcount
