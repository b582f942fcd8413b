"""The words of data-subject requests, shared by pages, e-mails, the data page and the activity log
(the registry of personal data declares them; they are named here for the domain's own use)."""
from __future__ import annotations

from portal.transparency.registry import DSAR_KINDS as KINDS  # noqa: F401
from portal.transparency.registry import DSAR_STATUSES as STATUSES  # noqa: F401
from portal.web.i18n import _l

OWN_CASE = _l("This case concerns an account you own or act for; another privacy officer must decide it.")
