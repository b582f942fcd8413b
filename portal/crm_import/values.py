"""The import format's field types: texts, keys, e-mail addresses, phone numbers, dates and moments,
each with the bounds of the database column it lands in (portal/customers/models.py) and the
wording of its error (SPEC P2, "Import format"). The models in schema.py are built from these.
"""
from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import PurePosixPath
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field, WithJsonSchema
from pydantic_core import PydanticCustomError

from portal.consents.models import ConsentSource
from portal.customers.models import Service

IMPORT_CONSENT_SOURCES = (ConsentSource.ORDER_FORM.value, ConsentSource.STAFF.value)
INT32_MAX = 2**31 - 1  # Recording.duration_s is an Integer column
INT64_MAX = 2**63 - 1  # Recording.size_bytes is a BigInteger column
YEARS = (1900, 2999)

# patterns are anchored: pydantic searches, it does not match the whole string
NUMBER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9/._-]*$"
KEY_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
COUNTRY_PATTERN = r"^[A-Z]{2}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
POSTAL_CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9 -]*$"
# the message each pattern's mismatch prints (today's wording, kept for the CRM team's scripts)
PATTERN_MESSAGES = {
    NUMBER_PATTERN: "may hold only letters, digits, '/', '.', '_' and '-'",
    KEY_PATTERN: "may hold only letters, digits, '.', '_' and '-'",
    COUNTRY_PATTERN: "must be a two-letter country code in capitals, e.g. PL",
    SHA256_PATTERN: "must be 64 hexadecimal digits",
}
PL_POSTAL_CODE = re.compile(r"\d{2}-\d{3}")
POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"\+?[0-9][0-9 -]*[0-9]")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _blank_is_none(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")


def _no_control_characters(value: str | None) -> str | None:
    # PostgreSQL cannot store a NUL in text (the import ended in a traceback), and no one-line
    # field of the format (names, titles, paths) holds a line break or other control character
    if value is not None and _CONTROL.search(value):
        raise PydanticCustomError("control_character", "may not hold control characters (line breaks, NUL)")
    return value


def text(max_length: int, pattern: str | None = None) -> object:
    # constraints first, so pydantic-core checks them (and the JSON Schema shows them); the
    # before-validator wraps the whole
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=pattern),
                     AfterValidator(_no_control_characters)]


def optional_text(max_length: int) -> object:
    return Annotated[Annotated[str, Field(max_length=max_length)] | None, BeforeValidator(_blank_is_none),
                     AfterValidator(_no_control_characters)]


def choice(values: tuple[str, ...]) -> object:
    return Annotated[Literal[tuple(str(v) for v in values)], BeforeValidator(_strip)]  # type: ignore[misc]


# a plain ASCII address email_validator accepts and would normalize only by lower-casing the domain;
# checked here because the full validator costs ~50 µs an address, most of a customer's validation
_PLAIN_EMAIL = re.compile(
    r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})")
_SPECIAL_USE = frozenset(SPECIAL_USE_DOMAIN_NAMES)


def _email(value: str) -> str:
    plain = _PLAIN_EMAIL.fullmatch(value)
    if plain and len(plain[1]) <= 64 and len(plain[2]) <= 253 and "xn--" not in plain[2].lower():
        domain = plain[2].lower()
        if domain.rpartition(".")[2] not in _SPECIAL_USE:  # each special-use name is one label
            return f"{plain[1]}@{domain}"
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise PydanticCustomError("email", "not an e-mail address") from None


def phone_number(value: str | None) -> str | None:
    # the pattern leaves digits, spaces, "-" and one leading "+": the rest are digits
    digits = len(value) - value.count(" ") - value.count("-") - value.count("+") if value is not None else 0
    if value is not None and (not _PHONE.fullmatch(value) or not 9 <= digits <= 15):
        raise PydanticCustomError("phone", "not a phone number (digits, spaces, + and -, 9 to 15 digits)")
    return value


def _string_only(value: object) -> str | None:
    """A string stripped for the parsers below; other JSON types are refused as today."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "must be a string")
    value = value.strip()
    if not value:
        raise PydanticCustomError("string_too_short", "must not be empty")
    return value


def _in_years(moment: date, value: str) -> None:
    if not YEARS[0] <= moment.year <= YEARS[1]:
        raise PydanticCustomError("out_of_range", 'is out of range (years {low} to {high}): "{value}"',
                                  {"low": YEARS[0], "high": YEARS[1], "value": value})


def _day(value: object) -> object:
    text = _string_only(value)
    if text is None:
        return None
    try:
        if not _DATE.fullmatch(text):
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("day", 'not a date (YYYY-MM-DD): "{value}"', {"value": text}) from None
    _in_years(day, text)
    return day


def _moment(value: object) -> object:
    text = _string_only(value)
    if text is None:
        return None
    if len(text) > 40:
        raise PydanticCustomError("string_too_long", "is longer than 40 characters")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise PydanticCustomError("moment", 'not an ISO-8601 date and time: "{value}"', {"value": text}) from None
    if moment.tzinfo is None:
        raise PydanticCustomError("moment_naive", 'needs a time zone, e.g. 2025-01-15T09:00:00Z (not "{value}")',
                                  {"value": text})
    _in_years(moment, text)
    return moment.astimezone(UTC)  # in range, so this cannot overflow


def posix_path(value: str) -> str:
    """The path as PurePosixPath spells it ("a//b/./c/" is "a/b/c"), without its cost for plain paths."""
    if "//" in value or "/." in value or value.startswith(".") or value.endswith("/"):
        return PurePosixPath(value).as_posix()
    return value


_SERVICES = frozenset(Service)


def _service(value: str) -> str:
    if value not in _SERVICES:
        raise PydanticCustomError("service", 'unknown service "{value}" (one of {allowed})',
                                  {"value": value, "allowed": ", ".join(Service)})
    return value


Text64 = text(64)
Key = text(64, KEY_PATTERN)
Email = Annotated[str, Field(min_length=1, max_length=254),
                  AfterValidator(_email), Field(json_schema_extra={"format": "email"})]
Day = Annotated[date, BeforeValidator(_day)]
Moment = Annotated[datetime, BeforeValidator(_moment)]
NonEmpty = Annotated[str, Field(min_length=1), AfterValidator(_no_control_characters)]
ServiceCode = Annotated[str, Field(min_length=1), AfterValidator(_service),
                        WithJsonSchema({"type": "string", "enum": list(Service)})]
