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
from datetime import datetime
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    ValidationInfo,
    field_validator,
)
from pydantic_core import PydanticCustomError

from portal.consents.models import PRODUCT_NOTIFICATIONS, Channel
from portal.crm_import.values import (
    COUNTRY_PATTERN,
    IMPORT_CONSENT_SOURCES,
    INT32_MAX,
    INT64_MAX,
    NUMBER_PATTERN,
    PL_POSTAL_CODE,
    POSTAL_CODE,
    SHA256_PATTERN,
    Day,
    Email,
    Key,
    Moment,
    NonEmpty,
    ServiceCode,
    Text64,
    choice,
    optional_text,
    phone_number,
    posix_path,
    text,
)
from portal.customers.identifiers import nip_is_valid
from portal.customers.models import CustomerKind, RoomKind
from portal.db_types import utcnow

__all__ = ["Customer", "ImportDocument", "json_schema"]


class _Record(BaseModel):
    # a field the format does not know is an error, not silently dropped data
    # every text is stripped by pydantic-core itself, before its length and pattern are checked
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Address(_Record):
    street: text(200)
    city: text(100)
    # before the postal code: which postal codes are valid depends on the country
    country: text(8, COUNTRY_PATTERN)
    postal_code: text(16)

    @field_validator("postal_code")
    @classmethod
    def _postal_code(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("country") == "PL" and not PL_POSTAL_CODE.fullmatch(value):
            raise PydanticCustomError("postal_code", 'not a Polish postal code (NN-NNN): "{value}"', {"value": value})
        if not POSTAL_CODE.fullmatch(value):
            raise PydanticCustomError("postal_code", 'not a postal code: "{value}"', {"value": value})
        return value


class Contract(_Record):
    number: Text64
    signed_on: Day
    services: Annotated[list[ServiceCode], Field(min_length=1)]


class Recording(_Record):
    key: Key
    title: text(300)
    started_at: Moment
    duration_s: Annotated[StrictInt, Field(ge=0, le=INT32_MAX, description="seconds")]
    file: Annotated[text(500), AfterValidator(posix_path),
                    Field(description="path relative to the recordings directory")]
    size_bytes: Annotated[StrictInt, Field(ge=0, le=INT64_MAX)]
    sha256: Annotated[str, Field(min_length=1, max_length=64, pattern=SHA256_PATTERN),
                      BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)]


class Room(_Record):
    key: Key
    name: text(200)
    kind: choice(tuple(RoomKind))
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
    name: text(200)
    email: Email
    rooms: list[NonEmpty] | None = None
    recordings: StrictBool | None = None


class Consent(_Record):
    purpose: Text64
    channel: choice(tuple(Channel))
    granted: StrictBool
    at: Moment
    source: choice(IMPORT_CONSENT_SOURCES)

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

    number: text(32, NUMBER_PATTERN)
    kind: choice(tuple(CustomerKind))
    company_name: Annotated[optional_text(200), Field(validate_default=True)] = None
    tax_id: Annotated[optional_text(20), Field(validate_default=True)] = None
    first_name: text(100)
    last_name: text(100)
    email: Email
    phone: Annotated[optional_text(32), AfterValidator(phone_number)] = None
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

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, title="MCX portal import")
    customers: list[Customer]


def json_schema() -> dict:
    """The JSON Schema (draft 2020-12) of the import format, as `flask portal import-schema` prints it."""
    schema = ImportDocument.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema
