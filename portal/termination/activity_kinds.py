"""How the termination domain's audit events read in the customer's activity log and the staff
audit-log reader."""
from __future__ import annotations

from portal.audit_kinds import register_kind
from portal.web.i18n import _l

register_kind("termination_requested", "changes", _l("Contract termination requested"))
register_kind("termination_withdrawn", "changes", _l("Contract termination withdrawn"))
register_kind("termination_confirmed", "changes", _l("Contract termination confirmed by MCX"))
register_kind("termination_started", "changes", _l("Deletion of the account's data started"))
register_kind("termination_delegates_removed", "changes", _l("Authorized persons removed at the contract's end"))
register_kind("termination_deletion_failed", "changes", _l("Deleting the account's data failed; it will be retried"))
register_kind("termination_completed", "changes", _l("Contract terminated; the account's data deleted"))
