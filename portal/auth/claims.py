"""What a provider says about a person is hostile input: bounded and cleaned before it is stored.

OIDC Core §2 bounds `sub` to 255 ASCII characters; the portal's columns bound the rest (name 200,
e-mail 254 as RFC 5321 §4.5.3.1.3 allows, `sid` 255). PostgreSQL refuses NUL in text and values
longer than the column, so anything unbounded would end in a 500 instead of a sign-in page.
"""
from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

MAX_SUBJECT = 255
MAX_NAME = 200
MAX_EMAIL = 254
MAX_SID = 255

# OIDC Core §2: `sub` is ASCII; control characters would not survive storage or display intact
_PRINTABLE_ASCII = re.compile(r"[\x20-\x7e]+")


class UnusableClaims(ValueError):
    """The assertion cannot identify a person (e.g. `sub` too long or not printable ASCII)."""


def check_subject(sub) -> str:
    """`sub` as OIDC Core §2 defines it; raises UnusableClaims otherwise."""
    if not isinstance(sub, str) or not 0 < len(sub) <= MAX_SUBJECT or not _PRINTABLE_ASCII.fullmatch(sub):
        raise UnusableClaims("sub must be 1 to 255 printable ASCII characters")
    return sub


def clean_text(value, limit: int) -> str | None:
    """A single line of text without control characters, at most `limit` characters; None if empty."""
    if not isinstance(value, str):
        return None
    text = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in value)
    text = " ".join(text.split())[:limit].strip()
    return text or None


def clean_sid(value) -> str | None:
    """The provider's session id, kept only if it could be matched exactly later."""
    if isinstance(value, str) and 0 < len(value) <= MAX_SID and _PRINTABLE_ASCII.fullmatch(value):
        return value
    return None


def single_address(value) -> str | None:
    """The e-mail claim if it is exactly one address (no display name, list or stray text), else None."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_EMAIL:
        return None
    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        return None
    # the validator may normalise (e.g. the domain's case); the claim must have been only the address
    return value if checked.normalized.lower() == value.lower() else None
