"""How the consents domain's audit events read in the customer's activity log."""
from __future__ import annotations

from portal.audit_kinds import register_kind
from portal.web.i18n import _l

CHANNELS = {"email": _l("e-mail"), "sms": _l("SMS"), "phone": _l("phone calls")}

register_kind("consent_given", "consents", _l("Consent to product news given"),
              [("channel", _l("Channel"), CHANNELS)])
register_kind("consent_withdrawn", "consents", _l("Consent to product news withdrawn"),
              [("channel", _l("Channel"), CHANNELS)])
register_kind("policy_acknowledged", "consents", _l("Privacy policy version acknowledged"),
              [("version", _l("Version"), None)])
register_kind("policy_published", "consents", _l("New privacy policy version published"),
              [("version", _l("Version"), None)])
