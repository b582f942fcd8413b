"""Personal data as staff see it by default: masked, until a deliberate, logged reveal (SPEC P11)."""
from __future__ import annotations

import re

# the legal forms of Polish (and common foreign) legal entities; a sole trader's firm name has none
# and, by law (Kodeks cywilny art. 43^4), carries the owner's own name, so it stays masked
LEGAL_ENTITY = re.compile(
    r"(\bsp\.?\s*z\s*o\.?\s*o\b|\bs\.?\s*a\.?$|\bs\.?\s*a\.?\s|\bsp\.?\s*[jkp]\.?$|\bs\.?\s*k\.?\s*a\b"
    r"|\bspółk|\bfundacj|\bstowarzyszeni|\bspółdzielni|\bgmbh\b|\bltd\b|\bllc\b|\binc\b)",
    re.IGNORECASE)


def mask_email(email: str | None) -> str:
    """`anna@example.pl` → `a***@example.pl`."""
    if not email or "@" not in email:
        return "***"
    local, domain = email.rsplit("@", 1)
    return f"{local[:1]}***@{domain}"


def mask_phone(phone: str | None) -> str:
    """`+48 600 100 200` → `+48 *** *** 200`: the country code and the last three digits."""
    if not phone:
        return ""
    digits = [c for c in phone if c.isdigit()]
    if len(digits) < 6:
        return "***"
    prefix = "+" + "".join(digits[:2]) + " " if phone.strip().startswith("+") else ""
    return f"{prefix}*** *** {''.join(digits[-3:])}"


def mask_name(name: str | None) -> str:
    """`Jan Nowak` → `J. N***`."""
    if not name:
        return ""
    parts = name.split()
    if len(parts) == 1:
        return f"{parts[0][:1]}***"
    return f"{parts[0][:1]}. {parts[-1][:1]}***"


def staff_customer_name(customer) -> str:
    """The customer's name as staff see it by default (SPEC "Staff views").

    A legal entity's name is not personal data and is shown whole: `Przykład Sp. z o.o.`.
    A private person's name is masked, and so is a sole trader's firm, which names its owner:
    `Jan Nowak Usługi IT` → `J. I***`.
    """
    name = customer.company_name if customer.kind == "company" and customer.company_name else None
    if name and LEGAL_ENTITY.search(name.strip()):
        return name
    return mask_name(customer.display_name)
