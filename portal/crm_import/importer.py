"""`portal import`: load customers from the order system's JSON export (SPEC P2, "Import format").

The whole document is validated first, every error collected with the record and field it
concerns; only a document without a single error is applied. Applying is an upsert by
customer number that flushes and never commits (the CLI commits). Nothing that is in the
database but not in the file is deleted: the portal adds delegates and consent events of its
own, and an export that lost a recording must not destroy it.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePosixPath

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import select

from portal import audit
from portal.consents.models import PRODUCT_NOTIFICATIONS, Channel, ConsentEvent, ConsentSource, PolicyVersion
from portal.customers.identifiers import nip_is_valid
from portal.customers.models import (
    Contract,
    ContractService,
    ContractStatus,
    Customer,
    CustomerKind,
    Recording,
    Room,
    RoomKind,
    Service,
)
from portal.db_types import utcnow
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus
from portal.storage import LocalDirectoryStore, StorageError, recording_store

# an import carries what the order form or staff recorded; "portal" events only the portal makes
IMPORT_CONSENT_SOURCES = (ConsentSource.ORDER_FORM.value, ConsentSource.STAFF.value)
DELEGATE_SOURCE = "order_form"
# delegates the customer removed or a moderator rejected stay so, whatever an older export says
FINAL_DELEGATE_STATUSES = (DelegateStatus.REMOVED.value, DelegateStatus.REJECTED.value)

CUSTOMER_FIELDS = ("number", "kind", "company_name", "tax_id", "first_name", "last_name", "email",
                   "phone", "address", "contract", "rooms", "authorized_persons", "consents")
ADDRESS_FIELDS = ("street", "postal_code", "city", "country")
CONTRACT_FIELDS = ("number", "signed_on", "services")
ROOM_FIELDS = ("key", "name", "kind", "recordings")
RECORDING_FIELDS = ("key", "title", "started_at", "duration_s", "file", "size_bytes", "sha256")
PERSON_FIELDS = ("name", "email", "rooms", "recordings")
CONSENT_FIELDS = ("purpose", "channel", "granted", "at", "source")

_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9/._-]*")
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_PHONE = re.compile(r"\+?[0-9][0-9 -]*[0-9]")
_PL_POSTAL_CODE = re.compile(r"\d{2}-\d{3}")
_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 -]*")
_COUNTRY = re.compile(r"[A-Z]{2}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HASH_CHUNK = 1024 * 1024


class ImportFailed(Exception):
    """The document has errors; nothing was imported. `errors` names each record and field."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} error(s): nothing was imported")
        self.errors = errors


@dataclass
class Address:
    street: str
    postal_code: str
    city: str
    country: str


@dataclass
class ContractData:
    number: str
    signed_on: date
    services: list[str]


@dataclass
class RecordingData:
    key: str
    title: str
    started_at: datetime
    duration_s: int
    file: str
    size_bytes: int
    sha256: str


@dataclass
class RoomData:
    key: str
    name: str
    kind: str
    recordings: list[RecordingData]


@dataclass
class PersonData:
    name: str
    email: str
    room_keys: list[str]
    recordings: bool


@dataclass
class ConsentData:
    path: str
    purpose: str
    channel: str
    granted: bool
    at: datetime
    source: str

    @property
    def key(self) -> tuple[str, str, datetime, str]:
        """What makes a consent event unique (the table's unique constraint, per customer)."""
        return self.purpose, self.channel, self.at, self.source

    def describe(self) -> str:
        return f"{self.purpose}/{self.channel}/{self.at.astimezone(UTC).isoformat()}/{self.source}"


@dataclass
class CustomerData:
    path: str
    number: str
    kind: str
    company_name: str | None
    tax_id: str | None
    first_name: str
    last_name: str
    email: str
    phone: str | None
    address: Address
    contract: ContractData
    rooms: list[RoomData]
    persons: list[PersonData]
    consents: list[ConsentData]


@dataclass
class ImportReport:
    """What one import run changed, and what the database holds that the file does not mention."""

    customers_created: int = 0
    customers_updated: int = 0
    customers_unchanged: int = 0
    rooms_created: int = 0
    rooms_updated: int = 0
    recordings_created: int = 0
    recordings_updated: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    consent_events_added: int = 0
    not_in_file: list[str] = field(default_factory=list)
    persons_not_restored: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {name: value for name, value in asdict(self).items() if isinstance(value, int)}

    def summary(self) -> list[str]:
        lines = [
            f"customers: {self.customers_created} created, {self.customers_updated} updated, "
            f"{self.customers_unchanged} unchanged",
            f"rooms: {self.rooms_created} created, {self.rooms_updated} updated",
            f"recordings: {self.recordings_created} created, {self.recordings_updated} updated",
            f"authorized persons: {self.persons_created} created, {self.persons_updated} updated",
            f"consent events: {self.consent_events_added} added",
        ]
        lines += [f"kept, not in file: {item}" for item in self.not_in_file]
        lines += [f"not restored: {item}" for item in self.persons_not_restored]
        return lines


def load_file(path: Path | str) -> dict:
    """Read an import document; unreadable files and invalid JSON are an ImportFailed too."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except OSError as error:
        raise ImportFailed([f"{path}: cannot be read ({error.strerror})"]) from error
    except UnicodeDecodeError as error:
        raise ImportFailed([f"{path}: not UTF-8 text"]) from error
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, column {error.colno}"
        raise ImportFailed([f"{path}: not valid JSON ({where}: {error.msg})"]) from error
    if not isinstance(document, dict):
        raise ImportFailed([f"{path}: must hold a JSON object with a \"customers\" list"])
    return document


def import_customers(document: dict, recordings_dir: Path) -> ImportReport:
    """Validate the whole document, then upsert every customer in it; raise ImportFailed on any error."""
    errors: list[str] = []
    customers = _Parser(recordings_dir, errors).document(document)
    if not errors:
        _check_against_database(customers, errors)
    if errors:
        raise ImportFailed(errors)
    report = ImportReport()
    for customer in customers:
        _apply(customer, report)
    db.session.flush()
    audit.record("import", customers=len(customers), **report.counts())
    return report


# --- reading and validating -------------------------------------------------------------------

def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class _Node:
    """One JSON object of the document: reads its fields, noting each problem under its path.

    A field that is missing or invalid yields a placeholder value; that is safe because a
    document with any error is never applied.
    """

    def __init__(self, data: dict, path: str, errors: list[str], fields: tuple[str, ...]):
        self.data, self.path, self.errors = data, path, errors
        self.failed: set[str] = set()
        for name in data:
            if name not in fields:
                self.fail(name, "unknown field")

    def at(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def fail(self, name: str, message: str) -> None:
        self.failed.add(name)
        self.errors.append(f"{self.at(name)}: {message}")

    def ok(self, name: str) -> bool:
        return name not in self.failed

    def require(self, name: str) -> object:
        value = self.data.get(name)
        if value is None:
            self.fail(name, "is required")
        return value

    def text(self, name: str, max_len: int) -> str:
        value = self.require(name)
        if isinstance(value, str) and not value.strip():
            self.fail(name, "must not be empty")
        return "" if value is None else self.optional_text(name, max_len) or ""

    def optional_text(self, name: str, max_len: int) -> str | None:
        """The stripped string, or None when it is absent or blank."""
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            self.fail(name, "must be a string")
            return None
        value = value.strip()
        if not value:
            return None
        if len(value) > max_len:
            self.fail(name, f"is longer than {max_len} characters")
            return None
        return value

    def choice(self, name: str, allowed: tuple[str, ...]) -> str:
        value = self.text(name, 64)
        if value and value not in allowed:
            self.fail(name, f"must be one of {', '.join(allowed)} (not \"{value}\")")
        return value

    def flag(self, name: str, default: bool | None = None) -> bool:
        value = self.data.get(name)
        if value is None and default is not None:
            return default
        if value is None:
            self.fail(name, "is required")
        elif not isinstance(value, bool):
            self.fail(name, "must be true or false")
        return value is True

    def count(self, name: str) -> int:
        value = self.require(name)
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.fail(name, "must be a whole number, 0 or more")
            return 0
        return value

    def day(self, name: str) -> date:
        value = self.text(name, 10)
        if not value:
            return date.min
        try:
            if not _DATE.fullmatch(value):
                raise ValueError
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, f"not a date (YYYY-MM-DD): \"{value}\"")
            return date.min

    def moment(self, name: str) -> datetime:
        value = self.text(name, 40)
        if not value:
            return _EPOCH
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(name, f"not an ISO-8601 date and time: \"{value}\"")
            return _EPOCH
        if moment.tzinfo is None:
            self.fail(name, f"needs a time zone, e.g. 2025-01-15T09:00:00Z (not \"{value}\")")
            return _EPOCH
        return moment

    def child(self, name: str, fields: tuple[str, ...]) -> _Node | None:
        value = self.require(name)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(name, "must be a JSON object")
            return None
        return _Node(value, self.at(name), self.errors, fields)

    def _items(self, name: str) -> Iterator[tuple[str, object]]:
        value = self.data.get(name)
        if value is None:
            return
        if not isinstance(value, list):
            self.fail(name, "must be a list")
            return
        for index, item in enumerate(value):
            yield f"{self.at(name)}[{index}]", item

    def children(self, name: str, fields: tuple[str, ...]) -> Iterator[_Node]:
        """The objects of an optional list, each as a node of its own."""
        for path, item in self._items(name):
            if isinstance(item, dict):
                yield _Node(item, path, self.errors, fields)
            else:
                self.errors.append(f"{path}: must be a JSON object")

    def strings(self, name: str) -> Iterator[tuple[str, str]]:
        """(path, value) for each string of an optional list."""
        for path, item in self._items(name):
            if isinstance(item, str) and item.strip():
                yield path, item.strip()
            else:
                self.errors.append(f"{path}: must be a non-empty string")




def _email(node: _Node, name: str) -> str:
    value = node.text(name, 254)
    if not value:
        return ""
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError:
        node.fail(name, "not an e-mail address")
        return ""


def _phone(node: _Node, name: str) -> str | None:
    value = node.optional_text(name, 32)
    if value is None:
        return None
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.fullmatch(value) or not 9 <= digits <= 15:
        node.fail(name, "not a phone number (digits, spaces, + and -, 9 to 15 digits)")
    return value


def _key(node: _Node, name: str) -> str:
    value = node.text(name, 64)
    if value and not _KEY.fullmatch(value):
        node.fail(name, "may hold only letters, digits, '.', '_' and '-'")
    return value


def _duplicates(items: list[tuple[str, str]], what: str) -> list[str]:
    """Errors for each (path, value) whose value an earlier item already had."""
    first: dict[str, str] = {}
    errors = []
    for path, value in items:
        if not value:
            continue
        if value in first:
            errors.append(f"{path}: {what} \"{value}\" appears twice (first at {first[value]})")
        else:
            first[value] = path
    return errors


class _Parser:
    """Turns the document into typed records, checking recording files on the way."""

    def __init__(self, recordings_dir: Path, errors: list[str]):
        self.root = recordings_dir.resolve()
        self.errors = errors

    def document(self, document: object) -> list[CustomerData]:
        if not isinstance(document, dict):
            self.errors.append("document: must be a JSON object with a \"customers\" list")
            return []
        top = _Node(document, "", self.errors, ("customers",))
        if top.require("customers") is None:
            return []
        customers = [self.customer(node) for node in top.children("customers", CUSTOMER_FIELDS)]
        self.errors += _duplicates([(f"{c.path}.number", c.number) for c in customers], "customer number")
        self.errors += _duplicates(
            [(f"{c.path}.contract.number", c.contract.number) for c in customers], "contract number"
        )
        return customers

    def customer(self, node: _Node) -> CustomerData:
        number = node.text("number", 32)
        if number and not _NUMBER.fullmatch(number):
            node.fail("number", "may hold only letters, digits, '/', '.', '_' and '-'")
        kind = node.choice("kind", tuple(CustomerKind))
        company_name, tax_id = self.company(node, kind)
        first_name, last_name = node.text("first_name", 100), node.text("last_name", 100)
        email, phone = _email(node, "email"), _phone(node, "phone")
        address = self.address(node.child("address", ADDRESS_FIELDS))
        contract = self.contract(node.child("contract", CONTRACT_FIELDS))
        rooms = [self.room(child) for child in node.children("rooms", ROOM_FIELDS)]
        self.errors += _duplicates([(f"{node.at('rooms')}[{i}].key", r.key) for i, r in enumerate(rooms)],
                                   "room key")
        persons = self.persons(list(node.children("authorized_persons", PERSON_FIELDS)), {r.key for r in rooms})
        consents = [self.consent(child) for child in node.children("consents", CONSENT_FIELDS)]
        self.errors += _duplicates([(c.path, c.describe()) for c in consents], "consent event")
        return CustomerData(
            path=node.path, number=number, kind=kind, company_name=company_name, tax_id=tax_id,
            first_name=first_name, last_name=last_name, email=email, phone=phone,
            address=address, contract=contract, rooms=rooms, persons=persons, consents=consents,
        )

    def company(self, node: _Node, kind: str) -> tuple[str | None, str | None]:
        name = node.optional_text("company_name", 200)
        tax_id = node.optional_text("tax_id", 20)
        if kind == CustomerKind.PERSON:
            for field_name in ("company_name", "tax_id"):
                if not _blank(node.data.get(field_name)):
                    node.fail(field_name, "is only for kind company (this customer is a person)")
            return None, None
        if kind == CustomerKind.COMPANY:
            for field_name in ("company_name", "tax_id"):
                if _blank(node.data.get(field_name)):
                    node.fail(field_name, "is required for a company")
            if tax_id is not None:
                tax_id = re.sub(r"[\s-]", "", tax_id)
                if not nip_is_valid(tax_id):
                    node.fail("tax_id", "not a valid NIP (10 digits with a correct check digit)")
        return name, tax_id

    def address(self, node: _Node | None) -> Address:
        if node is None:
            return Address("", "", "", "")
        street, city = node.text("street", 200), node.text("city", 100)
        country = node.text("country", 8)
        if country and not _COUNTRY.fullmatch(country):
            node.fail("country", "must be a two-letter country code in capitals, e.g. PL")
        postal_code = node.text("postal_code", 16)
        if postal_code and country == "PL" and not _PL_POSTAL_CODE.fullmatch(postal_code):
            node.fail("postal_code", f"not a Polish postal code (NN-NNN): \"{postal_code}\"")
        elif postal_code and not _POSTAL_CODE.fullmatch(postal_code):
            node.fail("postal_code", f"not a postal code: \"{postal_code}\"")
        return Address(street, postal_code, city, country)

    def contract(self, node: _Node | None) -> ContractData:
        if node is None:
            return ContractData("", date.min, [])
        number, signed_on = node.text("number", 64), node.day("signed_on")
        if node.require("services") == []:
            node.fail("services", "must list at least one service")
        services = list(node.strings("services"))
        for path, service in services:
            if service not in tuple(Service):
                self.errors.append(f"{path}: unknown service \"{service}\" (one of {', '.join(Service)})")
        self.errors += _duplicates(services, "service")
        return ContractData(number, signed_on, [service for _, service in services])

    def room(self, node: _Node) -> RoomData:
        key, name = _key(node, "key"), node.text("name", 200)
        kind = node.choice("kind", tuple(RoomKind))
        recordings = [self.recording(child) for child in node.children("recordings", RECORDING_FIELDS)]
        if recordings and kind and kind != RoomKind.RECORDED_VIDEO_ROOM:
            node.fail("recordings", f"only a {RoomKind.RECORDED_VIDEO_ROOM} has recordings (this is a {kind})")
        self.errors += _duplicates(
            [(f"{node.at('recordings')}[{i}].key", r.key) for i, r in enumerate(recordings)], "recording key"
        )
        return RoomData(key, name, kind, recordings)

    def recording(self, node: _Node) -> RecordingData:
        recording = RecordingData(
            key=_key(node, "key"), title=node.text("title", 300), started_at=node.moment("started_at"),
            duration_s=node.count("duration_s"), file=node.text("file", 500),
            size_bytes=node.count("size_bytes"), sha256=node.text("sha256", 64).lower(),
        )
        if recording.sha256 and not _SHA256.fullmatch(recording.sha256):
            node.fail("sha256", "must be 64 hexadecimal digits")
        if node.ok("file"):
            recording.file = PurePosixPath(recording.file).as_posix()
            self.check_file(node, recording)
        return recording

    def check_file(self, node: _Node, recording: RecordingData) -> None:
        """The file must be in the recording store and be what the record says it is, checked from
        the store's own answer (issue 19): the size always; the SHA-256 where the store keeps one
        (an object uploaded with a SHA-256 checksum), or by reading a local file, which keeps none.
        An object without a stored checksum is taken on its size: reading it would download it."""
        store = recording_store() if current_app.config.get("RECORDINGS_URL") else LocalDirectoryStore(self.root)
        try:
            stat = store.stat(recording.file) if self.inside_root(recording.file) is not None else False
        except StorageError:
            stat = False
        if stat is False:
            node.fail("file", "must be a relative path inside the recordings directory (no \"..\", not absolute)")
        elif stat is None:
            node.fail("file", f"no such file in the recordings directory: {recording.file}")
        elif node.ok("size_bytes") and stat.size != recording.size_bytes:
            node.fail("size_bytes", f"does not match the file (expected {recording.size_bytes}, file has {stat.size})")
        elif node.ok("sha256") and node.ok("size_bytes"):
            digest = stat.sha256 or (store.sha256(recording.file) if isinstance(store, LocalDirectoryStore) else None)
            if digest is not None and digest != recording.sha256:
                node.fail("sha256", f"does not match the file (expected {recording.sha256}, file has {digest})")

    def inside_root(self, relative: str) -> Path | None:
        path = PurePosixPath(relative)
        if path.is_absolute() or ".." in path.parts or "\\" in relative or "\x00" in relative:
            return None
        # resolving follows symlinks, so a link pointing outside the directory is refused too
        target = (self.root / path).resolve()
        return target if target.is_relative_to(self.root) and target != self.root else None

    def persons(self, nodes: list[_Node], room_keys: set[str]) -> list[PersonData]:
        persons = []
        for node in nodes:
            name, email = node.text("name", 200), _email(node, "email")
            rooms = list(node.strings("rooms"))
            for path, key in rooms:
                if key not in room_keys:
                    self.errors.append(f"{path}: no room with key \"{key}\"")
            persons.append(PersonData(name, email, room_keys=list(dict.fromkeys(key for _, key in rooms)),
                                      recordings=node.flag("recordings", False)))
        self.errors += _duplicates(
            [(f"{node.at('email')}", p.email.lower()) for node, p in zip(nodes, persons)], "e-mail"
        )
        return persons

    def consent(self, node: _Node) -> ConsentData:
        consent = ConsentData(
            path=node.path, purpose=node.text("purpose", 64), channel=node.choice("channel", tuple(Channel)),
            granted=node.flag("granted"), at=node.moment("at"), source=node.choice("source", IMPORT_CONSENT_SOURCES),
        )
        if consent.purpose and consent.purpose != PRODUCT_NOTIFICATIONS:
            node.fail("purpose", f"only \"{PRODUCT_NOTIFICATIONS}\" can be imported (not \"{consent.purpose}\")")
        if consent.at > utcnow():
            node.fail("at", "is in the future")
        return consent


def file_sha256(path: Path) -> str:
    """The file's SHA-256, read in chunks so recordings of any size fit in memory."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_against_database(customers: list[CustomerData], errors: list[str]) -> None:
    """What only the database can tell: contract numbers taken, terminated customers, consent conflicts."""
    for data in customers:
        customer = _customer(data.number)
        taken = db.session.scalar(select(Contract).where(Contract.number == data.contract.number))
        if taken is not None and (customer is None or taken.customer_id != customer.id):
            errors.append(f"{data.path}.contract.number: \"{data.contract.number}\" is already the contract "
                          f"of customer {taken.customer.number}")
        if customer is None:
            continue
        if customer.contract is not None and customer.contract.status == ContractStatus.TERMINATED:
            # P9: a terminated customer's recordings were deleted for good; an old export must not revive them
            errors.append(f"{data.path}.number: the contract of {data.number} is terminated; "
                          "remove this customer from the file")
        recorded = {_event_key(event): event.granted for event in _consent_events(customer)}
        for consent in data.consents:
            if recorded.get(consent.key, consent.granted) != consent.granted:
                errors.append(f"{consent.path}.granted: contradicts the consent event already recorded "
                              "for this channel, moment and source (consent events are never changed)")


# --- applying ---------------------------------------------------------------------------------

def _customer(number: str) -> Customer | None:
    return db.session.scalar(select(Customer).where(Customer.number == number))


def _consent_events(customer: Customer) -> list[ConsentEvent]:
    return list(db.session.scalars(select(ConsentEvent).where(ConsentEvent.customer_id == customer.id)))


def _event_key(event: ConsentEvent) -> tuple[str, str, datetime, str]:
    return event.purpose, event.channel, event.at, event.source


def _assign(target: object, values: dict[str, object]) -> list[str]:
    """Set the attributes that differ; return their names (so unchanged rows stay untouched)."""
    changed = [name for name, value in values.items() if getattr(target, name) != value]
    for name in changed:
        setattr(target, name, values[name])
    return changed


def _apply(data: CustomerData, report: ImportReport) -> None:
    customer = _customer(data.number)
    created = customer is None
    if customer is None:
        customer = Customer(number=data.number)
        db.session.add(customer)
    changes = _assign(customer, {
        "kind": data.kind, "company_name": data.company_name, "tax_id": data.tax_id,
        "first_name": data.first_name, "last_name": data.last_name, "email": data.email,
        "phone": data.phone, "street": data.address.street, "postal_code": data.address.postal_code,
        "city": data.address.city, "country": data.address.country,
    })
    db.session.flush()
    if _upsert_contract(customer, data.contract):
        changes.append("contract")
    rooms = {room.key: room for room in customer.rooms}
    if _upsert_rooms(customer, rooms, data.rooms, report):
        changes.append("rooms")
    db.session.flush()
    if _upsert_persons(customer, rooms, data.persons, report):
        changes.append("authorized_persons")
    if _add_consent_events(customer, data.consents, report):
        changes.append("consents")

    if created:
        report.customers_created += 1
    elif changes:
        report.customers_updated += 1
    else:
        report.customers_unchanged += 1
        return
    # field names only: the audit log must not become a second copy of the personal data
    audit.record("customer_imported", customer_id=customer.id, number=customer.number,
                 created=created, changed=sorted(changes))


def _upsert_contract(customer: Customer, data: ContractData) -> bool:
    contract = customer.contract
    changed = contract is None
    if contract is None:
        contract = Contract(customer=customer, number=data.number, signed_on=data.signed_on)
        db.session.add(contract)
    else:
        changed = bool(_assign(contract, {"number": data.number, "signed_on": data.signed_on}))
    present = {service.service: service for service in contract.services}
    wanted = set(data.services)
    for code in sorted(wanted - present.keys()):
        contract.services.append(ContractService(service=code))
    for code in present.keys() - wanted:
        contract.services.remove(present[code])
    return changed or wanted != present.keys()


def _upsert_rooms(customer: Customer, rooms: dict[str, Room], data: list[RoomData],
                  report: ImportReport) -> bool:
    """Create or update the file's rooms in `rooms` (by key); rooms the file omits are kept."""
    changed = False
    for room_data in data:
        room = rooms.get(room_data.key)
        if room is None:
            room = Room(customer=customer, key=room_data.key, name=room_data.name, kind=room_data.kind)
            db.session.add(room)
            rooms[room.key] = room
            report.rooms_created += 1
            changed = True
        elif _assign(room, {"name": room_data.name, "kind": room_data.kind}):
            report.rooms_updated += 1
            changed = True
        changed |= _upsert_recordings(customer, room, room_data.recordings, report)
    in_file = {room_data.key for room_data in data}
    report.not_in_file += [f"{customer.number}: room \"{key}\"" for key in rooms if key not in in_file]
    return changed


def _upsert_recordings(customer: Customer, room: Room, data: list[RecordingData], report: ImportReport) -> bool:
    changed = False
    existing = {recording.key: recording for recording in room.recordings}
    for recording_data in data:
        values = {
            "title": recording_data.title, "started_at": recording_data.started_at,
            "duration_s": recording_data.duration_s, "file": recording_data.file,
            "size_bytes": recording_data.size_bytes, "sha256": recording_data.sha256,
        }
        recording = existing.get(recording_data.key)
        if recording is None:
            db.session.add(Recording(room=room, key=recording_data.key, **values))
            report.recordings_created += 1
            changed = True
        elif _assign(recording, values):
            report.recordings_updated += 1
            changed = True
    in_file = {recording_data.key for recording_data in data}
    report.not_in_file += [f"{customer.number}: recording \"{room.key}/{key}\""
                           for key in existing if key not in in_file]
    return changed


def _live(delegate: Delegate) -> bool:
    return delegate.status not in FINAL_DELEGATE_STATUSES


def _delegates_by_email(customer: Customer) -> dict[str, Delegate]:
    """The customer's delegates by lower-cased e-mail; a live delegation wins over an ended one."""
    delegates: dict[str, Delegate] = {}
    for delegate in db.session.scalars(
        select(Delegate).where(Delegate.customer_id == customer.id).order_by(Delegate.id)
    ):
        earlier = delegates.get(delegate.email.lower())
        if earlier is None or _live(delegate) or not _live(earlier):
            delegates[delegate.email.lower()] = delegate
    return delegates


def _upsert_persons(customer: Customer, rooms: dict[str, Room], data: list[PersonData],
                    report: ImportReport) -> bool:
    changed = False
    delegates = _delegates_by_email(customer)
    for person in data:
        scope = [rooms[key] for key in person.room_keys]
        delegate = delegates.get(person.email.lower())
        if delegate is None:
            delegate = Delegate(customer_id=customer.id, name=person.name, email=person.email,
                                recordings=person.recordings, status=DelegateStatus.ACTIVE,
                                source=DELEGATE_SOURCE)
            delegate.rooms = scope
            db.session.add(delegate)
            report.persons_created += 1
            changed = True
        elif not _live(delegate):
            report.persons_not_restored.append(f"{customer.number}: {person.email} ({delegate.status} in the portal)")
        elif _update_delegate(delegate, person, scope):
            report.persons_updated += 1
            changed = True
    in_file = {person.email.lower() for person in data}
    report.not_in_file += [
        f"{customer.number}: authorized person {delegate.email}"
        for email, delegate in delegates.items()
        if email not in in_file and delegate.source == DELEGATE_SOURCE and _live(delegate)
    ]
    return changed


def _update_delegate(delegate: Delegate, person: PersonData, scope: list[Room]) -> bool:
    changes = _assign(delegate, {"name": person.name, "recordings": person.recordings})
    if set(delegate.rooms) != set(scope):
        delegate.rooms = scope
        changes.append("rooms")
    return bool(changes)


def _policy_version_at(moment: datetime) -> int | None:
    """The policy version in force at `moment`, which the consent was given under (P12)."""
    return db.session.scalar(
        select(PolicyVersion.id).where(PolicyVersion.published_at <= moment)
        .order_by(PolicyVersion.published_at.desc()).limit(1)
    )


def _add_consent_events(customer: Customer, data: list[ConsentData], report: ImportReport) -> bool:
    """Append the file's consent events the customer does not have yet (events are never changed)."""
    recorded = {_event_key(event) for event in _consent_events(customer)}
    added = 0
    for consent in data:
        if consent.key in recorded:
            continue
        db.session.add(ConsentEvent(
            receipt_id=str(uuid.uuid4()), customer_id=customer.id, purpose=consent.purpose,
            channel=consent.channel, granted=consent.granted, at=consent.at, source=consent.source,
            collection_method=f"{consent.source}_import", policy_version_id=_policy_version_at(consent.at),
        ))
        added += 1
    report.consent_events_added += added
    return added > 0
