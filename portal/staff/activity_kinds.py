"""How the staff console's and data-subject requests' audit events read: in the customer's activity
log (registered here) and in the privacy officer's audit-log reader (KIND_LABELS)."""
from __future__ import annotations

from portal.audit_kinds import describe, register_kind, registered_kinds
from portal.dsar.texts import KINDS as DSAR_KINDS
from portal.dsar.texts import STATUSES as DSAR_STATUSES
from portal.web.i18n import _l

register_kind("customer_looked_up", "access", _l("MCX staff found your account in the customer look-up"),
              staff_label=_l("MCX staff found the customer in the customer look-up"))
register_kind("audit_log_read", "access", _l("An MCX privacy officer read the log of your data"),
              staff_label=_l("An MCX privacy officer read the audit log"))
register_kind("audit_log_exported", "access", _l("An MCX privacy officer exported the log of your data"),
              staff_label=_l("An MCX privacy officer exported the audit log"))
register_kind("dsar_filed", "changes", _l("Data request filed"),
              [("case", _l("Case"), None), ("request_kind", _l("What"), DSAR_KINDS)])
register_kind("dsar_extended", "changes", _l("Deadline of a data request extended"),
              [("case", _l("Case"), None), ("due_on", _l("New due date"), None)])
register_kind("dsar_answered", "changes", _l("MCX answered a data request"), [("case", _l("Case"), None)])
register_kind("dsar_closed", "changes", _l("Data request closed"),
              [("case", _l("Case"), None), ("outcome", _l("Outcome"), DSAR_STATUSES)])

# kinds written by modules that register no words of their own (the audit chain, the CRM import)
register_kind("audit_chain_keyed", "other", _l("Audit log signing key put to use"))
register_kind("import", "other", _l("Import from the MCX order system"))


def kind_labels() -> dict[str, object]:
    """Every kind the reader offers as a filter, with its words for staff (third person)."""
    return {kind: describe(kind).staff_label or describe(kind).label for kind in sorted(registered_kinds())}

