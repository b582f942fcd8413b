"""Personal data as staff see it by default: masked, until a deliberate, logged reveal (SPEC P11)."""
from __future__ import annotations


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
