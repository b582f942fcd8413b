"""How the sign-in domain's audit events read in the customer's activity log and the staff
audit-log reader (sign_in and the identity links are registered by portal.transparency.activity)."""
from __future__ import annotations

from portal.audit_kinds import register_kind
from portal.web.i18n import _l

register_kind("sign_out", "sign_ins", _l("Sign-out from the portal"))
register_kind("sign_in_refused", "sign_ins", _l("Sign-in refused"))
register_kind("identity_link_refused", "sign_ins", _l("Connecting a sign-in identity refused"))
register_kind("identity_linked_role", "sign_ins", _l("Sign-in identity connected to an MCX staff role"))
register_kind("role_granted", "sign_ins", _l("MCX staff role granted"))
register_kind("backchannel_logout_refused", "sign_ins", _l("Sign-out request from an identity provider refused"))
