"""The deletion receipt's document, one format for every deletion: a termination's, one the owner
asked for, and a retention run's (GDPR art. 17 and 5(2): the controller shows what was erased).

JSON: a header and totals, then one recording per line, in id order — readable in any editor
and quick to write for 100,000 recordings.
"""
from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select

from portal.extensions import db
from portal.storage import Removed
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
