"""E-mail addresses the portal can deliver to, and header values that stay on one line.

- A domain goes out in its IDNA (punycode) form (RFC 5891), so `anna@przykład.pl` is delivered
  by any mail server as `anna@xn--przykad-rjb.pl`.
- A local part with characters outside ASCII needs SMTPUTF8 (RFC 6531) at every hop; unless
  PORTAL_SMTP_UTF8 says the portal's mail server offers it, such an address is refused at the form.
- A header value (subject, display name) never carries a line break or another line separator:
  RFC 5322 §2.2 lets a header end at CRLF, and Python refuses to build such a header at all.
"""
from __future__ import annotations

import re
import unicodedata

import idna
from email_validator import EmailNotValidError, validate_email
from flask import current_app

from portal.web.i18n import _l

# CR, LF, VT, FF, the C1 "next line" and the Unicode line and paragraph separators, besides
# every other control character: a header value is one line of printable text
_BREAKS = re.compile(r"[\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029]+")


class UndeliverableAddress(ValueError):
    """An address the portal cannot deliver to; `message` says why, for the person who typed it."""

    def __init__(self, message):
        super().__init__(str(message))
        self.message = message


NOT_AN_ADDRESS = _l("Enter an e-mail address, e.g. name@example.pl.")
NON_ASCII_LOCAL_PART = _l("We cannot deliver e-mail to this address: the part before the @ may contain only "
                          "Latin letters without accents, digits and . _ - +. Please give another address.")


def single_line(value: str | None, limit: int | None = None) -> str:
    """`value` as one line: line separators and control characters become spaces, runs of
    spaces one space; cut to `limit` characters when given."""
    text = _BREAKS.sub(" ", value or "")
    text = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in text)
    text = " ".join(text.split())
    return text[:limit] if limit else text


def deliverable(value: str, smtputf8: bool | None = None) -> str:
    """The address normalized (RFC 6531/5891: NFC, Unicode domain) if the portal can deliver to it.

    Raises UndeliverableAddress: not an address, or a non-ASCII local part while the mail server
    lacks SMTPUTF8 (`smtputf8`, by default PORTAL_SMTP_UTF8).
    """
    if smtputf8 is None:
        smtputf8 = current_app.config.get("SMTP_UTF8", False)
    try:
        checked = validate_email((value or "").strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        raise UndeliverableAddress(NOT_AN_ADDRESS) from None
    if checked.smtputf8 and not smtputf8:
        raise UndeliverableAddress(NON_ASCII_LOCAL_PART)
    return checked.normalized


def on_the_wire(address: str) -> str:
    """The form an address takes in the envelope and headers: the domain in IDNA (punycode).

    ASCII unless the local part is not (then only a server with SMTPUTF8 takes it).
    Raises UndeliverableAddress when it is not an address at all.
    """
    try:
        checked = validate_email(single_line(address), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError as error:
        raise UndeliverableAddress(str(error)) from None
    return checked.ascii_email or f"{checked.local_part}@{checked.ascii_domain}"


def variants(address: str) -> set[str]:
    """The lower-cased spellings of one address (as typed, Unicode and punycode domain), so that
    a count by address cannot be dodged by writing the domain the other way."""
    forms = {address.strip().lower()}
    try:
        checked = validate_email(address.strip(), check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return forms
    forms.add(checked.normalized.lower())
    forms.add(f"{checked.local_part}@{checked.ascii_domain}".lower())
    return forms


def matching_key(address: str | None) -> str | None:
    """The one form in which two addresses are compared to link or recognise a person.

    The local part is case-folded only for ASCII letters (RFC 5321 §2.4 lets a server treat it
    as case-sensitive; folding ASCII is the common courtesy); any other character is kept as it
    is, without Unicode case folding or NFC/NFKC, so a look-alike such as KELVIN SIGN (U+212A),
    İ (U+0130) or fullwidth letters never equals an ASCII address. The domain is compared in its
    IDNA form (RFC 5891), lower-cased; a domain that is not valid IDNA keeps its own spelling.
    Returns None for a value that is not local@domain.
    """
    if not address:
        return None
    local, at, domain = address.strip().rpartition("@")
    if not at or not local or not domain:
        return None
    if local.isascii():
        local = local.lower()
    if domain.isascii():
        domain = domain.lower()
    else:
        try:
            # strict IDNA 2008 without the UTS #46 mapping: fullwidth or other look-alike
            # characters are refused instead of being mapped to the ASCII they resemble
            domain = idna.encode(domain, uts46=False).decode("ascii").lower()
        except idna.IDNAError:
            pass
    return f"{local}@{domain}"


def same_address(first: str | None, second: str | None) -> bool:
    """True when both are addresses with the same `matching_key`."""
    key = matching_key(first)
    return key is not None and key == matching_key(second)


def lookup_spellings(address: str) -> list[str]:
    """Lower-cased spellings to narrow a database search by `func.lower(column)`; a superset of
    the matches, so callers keep only the rows for which `same_address` holds."""
    forms = variants(address)
    key = matching_key(address)
    if key:
        forms.add(key.lower())
        local, _at, domain = key.rpartition("@")
        try:
            forms.add(f"{local}@{idna.decode(domain)}".lower())
        except idna.IDNAError:
            pass
    return sorted(forms)
