"""The import format (SPEC P2, "Import format") as pydantic models: the one place its rules live.

`flask portal import-schema` prints the JSON Schema generated from these models (committed as
docs/import-schema.json) so the CRM team can check an export before sending it. Rules the
JSON Schema cannot say (the NIP check digit, a Polish postal code when the country is PL,
e-mail syntax) are validators here too, so the importer and the schema never disagree on shape.

Bounds follow the database columns (portal/customers/models.py): texts fit their String(n),
`duration_s` fits a 32-bit Integer and `size_bytes` a 64-bit BigInteger on SQLite and
PostgreSQL alike, and moments lie in years 1900..2999.
"""
from __future__ import annotations

import re
from pathlib import PurePosixPath
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from email_validator import SPECIAL_USE_DOMAIN_NAMES, EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from portal.consents.models import PRODUCT_NOTIFICATIONS, Channel, ConsentSource
from portal.customers.identifiers import nip_is_valid
from portal.customers.models import CustomerKind, RoomKind, Service
from portal.db_types import utcnow

# an import carries what the order form or staff recorded; "portal" events only the portal makes
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
_PL_POSTAL_CODE = re.compile(r"\d{2}-\d{3}")
_POSTAL_CODE = re.compile(POSTAL_CODE_PATTERN)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"\+?[0-9][0-9 -]*[0-9]")


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


def _blank_is_none(value: object) -> object:
    if isinstance(value, str):
        return value.strip() or None
    return value


def _text(max_length: int, pattern: str | None = None) -> object:
    # constraints first, so pydantic-core checks them (and the JSON Schema shows them); the
    # before-validator wraps the whole
    return Annotated[str, Field(min_length=1, max_length=max_length, pattern=pattern), BeforeValidator(_strip)]


def _optional_text(max_length: int) -> object:
    return Annotated[Annotated[str, Field(max_length=max_length)] | None, BeforeValidator(_blank_is_none)]


def _choice(values: tuple[str, ...]) -> object:
    return Annotated[Literal[tuple(str(v) for v in values)], BeforeValidator(_strip)]  # type: ignore[misc]


# a plain ASCII address email_validator accepts and would normalize only by lower-casing the domain;
# checked here because the full validator costs ~50 µs an address, most of a customer's validation
_PLAIN_EMAIL = re.compile(
    r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*)"
    r"@((?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})")
_SPECIAL_USE = tuple(SPECIAL_USE_DOMAIN_NAMES)


def _email(value: str) -> str:
    plain = _PLAIN_EMAIL.fullmatch(value)
    if plain and len(plain[1]) <= 64 and len(plain[2]) <= 253 and "xn--" not in plain[2].lower():
        domain = plain[2].lower()
        if not any(domain == name or domain.endswith("." + name) for name in _SPECIAL_USE):
            return f"{plain[1]}@{domain}"
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        raise PydanticCustomError("email", "not an e-mail address") from None


def _phone(value: str | None) -> str | None:
    if value is not None and (not _PHONE.fullmatch(value) or not 9 <= sum(c.isdigit() for c in value) <= 15):
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


def _posix(value: str) -> str:
    """The path as PurePosixPath spells it ("a//b/./c/" is "a/b/c"), without its cost for plain paths."""
    if "//" in value or "/." in value or value.startswith(".") or value.endswith("/"):
        return PurePosixPath(value).as_posix()
    return value


def _service(value: str) -> str:
    if value not in tuple(Service):
        raise PydanticCustomError("service", 'unknown service "{value}" (one of {allowed})',
                                  {"value": value, "allowed": ", ".join(Service)})
    return value


Text64 = _text(64)
Key = _text(64, KEY_PATTERN)
Email = Annotated[str, Field(min_length=1, max_length=254), BeforeValidator(_strip),
                  AfterValidator(_email), Field(json_schema_extra={"format": "email"})]
Day = Annotated[date, BeforeValidator(_day)]
Moment = Annotated[datetime, BeforeValidator(_moment)]
NonEmpty = Annotated[str, Field(min_length=1), BeforeValidator(_strip)]
ServiceCode = Annotated[str, Field(min_length=1), BeforeValidator(_strip), AfterValidator(_service),
                        WithJsonSchema({"type": "string", "enum": list(Service)})]


class _Record(BaseModel):
    # a field the format does not know is an error, not silently dropped data
    model_config = ConfigDict(extra="forbid", frozen=True)


class Address(_Record):
    street: _text(200)
    city: _text(100)
    # before the postal code: which postal codes are valid depends on the country
    country: _text(8, COUNTRY_PATTERN)
    postal_code: _text(16)

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("country") == "PL" and not _PL_POSTAL_CODE.fullmatch(value):
            raise PydanticCustomError("postal_code", 'not a Polish postal code (NN-NNN): "{value}"', {"value": value})
        if not _POSTAL_CODE.fullmatch(value):
            raise PydanticCustomError("postal_code", 'not a postal code: "{value}"', {"value": value})
        return value


class Contract(_Record):
    number: Text64
    signed_on: Day
    services: Annotated[list[ServiceCode], Field(min_length=1)]


class Recording(_Record):
    key: Key
    title: _text(300)
    started_at: Moment
    duration_s: Annotated[StrictInt, Field(ge=0, le=INT32_MAX, description="seconds")]
    file: Annotated[_text(500), AfterValidator(_posix),
                    Field(description="path relative to the recordings directory")]
    size_bytes: Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
    sha256: Annotated[str, Field(min_length=1, max_length=64, pattern=SHA256_PATTERN),
                      BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)]


class Room(_Record):
    key: Key
    name: _text(200)
    kind: _choice(tuple(RoomKind))
    recordings: list[Recording] | None = None

    @field_validator("recordings", mode="before")
    @classmethod
    def _only_recorded_rooms(cls, value: object, info: ValidationInfo) -> object:
        kind = info.data.get("kind")
        if value and isinstance(value, list) and kind and kind != RoomKind.RECORDED_VIDEO_ROOM:
            raise PydanticCustomError("recordings", "only a {recorded} has recordings (this is a {kind})",
                                      {"recorded": RoomKind.RECORDED_VIDEO_ROOM.value, "kind": kind})
        return value


class Person(_Record):
    name: _text(200)
    email: Email
    rooms: list[NonEmpty] | None = None
    recordings: StrictBool | None = None


class Consent(_Record):
    purpose: Text64
    channel: _choice(tuple(Channel))
    granted: StrictBool
    at: Moment
    source: _choice(IMPORT_CONSENT_SOURCES)

    @field_validator("purpose")
    @classmethod
    def _importable(cls, value: str) -> str:
        if value != PRODUCT_NOTIFICATIONS:
            raise PydanticCustomError("purpose", 'only "{allowed}" can be imported (not "{value}")',
                                      {"allowed": PRODUCT_NOTIFICATIONS, "value": value})
        return value

    @field_validator("at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > utcnow():
            raise PydanticCustomError("future", "is in the future")
        return value


class Customer(_Record):
    """One customer of the export: who they are, their contract, rooms, delegates and consents."""

    number: _text(32, NUMBER_PATTERN)
    kind: _choice(tuple(CustomerKind))
    company_name: Annotated[_optional_text(200), Field(validate_default=True)] = None
    tax_id: Annotated[_optional_text(20), Field(validate_default=True)] = None
    first_name: _text(100)
    last_name: _text(100)
    email: Email
    phone: Annotated[_optional_text(32), AfterValidator(_phone)] = None
    address: Address
    contract: Contract
    rooms: list[Room] | None = None
    authorized_persons: list[Person] | None = None
    consents: list[Consent] | None = None

    @field_validator("company_name", "tax_id")
    @classmethod
    def _company_only(cls, value: str | None, info: ValidationInfo) -> str | None:
        kind = info.data.get("kind")
        if kind == CustomerKind.PERSON:
            if value is not None:
                raise PydanticCustomError("company_only", "is only for kind company (this customer is a person)")
            return None
        if kind == CustomerKind.COMPANY:
            if value is None:
                raise PydanticCustomError("company_required", "is required for a company")
            if info.field_name == "tax_id":
                value = re.sub(r"[\s-]", "", value)
                if not nip_is_valid(value):
                    raise PydanticCustomError("nip", "not a valid NIP (10 digits with a correct check digit)")
        return value


class ImportDocument(_Record):
    """The whole export: `{"customers": [...]}`; the importer streams it one customer at a time."""

    model_config = ConfigDict(extra="forbid", title="MCX portal import")
    customers: list[Customer]


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of the import format, as `flask portal import-schema` prints it."""
    schema = ImportDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
