"""How the people domain's audit events read in the customer's activity log."""
from __future__ import annotations

from portal.audit_kinds import register_kind
from portal.web.i18n import _l

register_kind("recording_downloaded", "access", _l("Recording downloaded or played"), [
    ("mode", _l("How"), {"download": _l("downloaded"), "playback": _l("played in the browser")})])
register_kind("personal_data_revealed", "access", _l("An MCX moderator revealed the contact data of an access request"))
register_kind("delegate_added", "changes", _l("Authorized person added"))
register_kind("delegate_removed", "changes", _l("Authorized person removed"),
              [("sessions_revoked", _l("Their sessions ended"), None)])
register_kind("access_requested", "changes", _l("A person asked for access to your rooms"),
              staff_label=_l("A person asked for access to the customer's rooms"))
register_kind("access_request_endorsed", "changes", _l("You agreed to a person's request for access"),
              staff_label=_l("The customer agreed to a person's request for access"))
register_kind("access_request_declined", "changes", _l("A person's request for access was declined"))
register_kind("access_request_approved", "changes", _l("MCX approved access for an authorized person"))
register_kind("access_request_rejected", "changes", _l("MCX rejected access for an authorized person"))
