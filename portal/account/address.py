"""The customer corrects their own postal address (GDPR art. 16), at once, like their phone.

The rules are the import's (portal/crm_import/importer.py): a street of at most 200 characters, a
city of at most 100, a country as an ISO 3166-1 alpha-2 code, and in Poland a postal code NN-NNN.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, fields

from portal import audit
from portal.account.services import AccountError
from portal.auth.models import Identity
from portal.customers.models import Customer
from portal.extensions import db
from portal.web.i18n import _

_PL_POSTAL_CODE = re.compile(r"\d{2}-\d{3}")
_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]{0,15}")
_COUNTRY = re.compile(r"[A-Z]{2}")


@dataclass(frozen=True)
class PostalAddress:
    street: str
    postal_code: str
    city: str
    country: str


def _line(value: str | None, field: str, limit: int) -> str:
    """One line of printable text, trimmed, 1..limit characters (it is printed on invoices)."""
    value = " ".join((value or "").split())
    if not value:
        raise AccountError(_("This field is required."), field)
    if len(value) > limit:
        raise AccountError(_("At most %(limit)s characters.", limit=limit), field)
    if any(unicodedata.category(ch).startswith("C") for ch in value):
        raise AccountError(_("Use letters, digits and punctuation only."), field)
    return value


def parse(street: str | None, postal_code: str | None, city: str | None, country: str | None) -> PostalAddress:
    """The address as typed, checked; raises AccountError(message, field) for the first wrong field."""
    country = (country or "").strip().upper()
    if not _COUNTRY.fullmatch(country):
        raise AccountError(_("Enter the country as a two-letter code, e.g. PL."), "country")
    code = (postal_code or "").strip()
    if country == "PL" and not _PL_POSTAL_CODE.fullmatch(code):
        raise AccountError(_("Enter a Polish postal code as NN-NNN, e.g. 00-001."), "postal_code")
    if not _POSTAL_CODE.fullmatch(code):
        raise AccountError(_("Enter a postal code: letters, digits, spaces and dashes."), "postal_code")
    return PostalAddress(_line(street, "street", 200), code, _line(city, "city", 100), country)


def change_address(customer: Customer, identity: Identity, address: PostalAddress) -> list[str]:
    """Set the customer's postal address now; returns the names of the fields that changed
    (empty when nothing did). Audited with field names only, never the values, so the activity
    log shows the change without becoming a second copy of the address."""
    changed = [f.name for f in fields(address) if getattr(customer, f.name) != getattr(address, f.name)]
    if not changed:
        return []
    for name in changed:
        setattr(customer, name, getattr(address, name))
    audit.record("contact_address_changed", actor_id=identity.id, customer_id=customer.id, fields=changed)
    db.session.flush()
    return changed
