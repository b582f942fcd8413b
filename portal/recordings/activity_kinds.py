"""How the recordings domain's audit events read in the customer's activity log."""
from __future__ import annotations

from portal.audit_kinds import register_kind
from portal.web.i18n import _l

REASONS = {"on_request": _l("you deleted them"), "retention": _l("the room's retention period passed"),
           "termination": _l("the contract ended")}

register_kind("recordings_deletion_started", "changes", _l("Deletion of recordings started"), [
    ("reason", _l("Why"), REASONS), ("recordings", _l("Recordings"), None)])
register_kind("recordings_deleted", "changes", _l("Recordings deleted for good"), [
    ("reason", _l("Why"), REASONS), ("recordings", _l("Recordings"), None),
    ("receipt_id", _l("Receipt number"), None)])
register_kind("recordings_deletion_failed", "changes", _l("Some recording files could not be deleted yet"), [
    ("failed", _l("Recordings"), None)])
register_kind("room_retention_changed", "changes", _l("Retention of a room's recordings changed"), [
    ("room", _l("Room"), None), ("after", _l("Months (empty: until the contract ends)"), None)])
register_kind("recordings_archive_downloaded", "access", _l("Recordings downloaded as a ZIP"), [
    ("recordings", _l("Recordings"), None)])
