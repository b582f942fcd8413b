"""A customer's export record as a digest, so a re-import knows an unchanged customer by one
comparison instead of validating and comparing every child row (issue 16).

The digest covers the record exactly as the file gives it (every field, canonically serialized)
and the version of the format's rules; the database keeps it per customer
(portal/customers/fingerprints.py) only while nothing the import reads about that customer has
changed. So "same digest" means: the record passed every rule of this format version before,
and applying it again would change nothing and report nothing kept or not restored. What a
digest cannot vouch for is checked for every customer regardless: the file's size and identity
on disk, and the rules across records (duplicates, one file for two recordings).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from types import SimpleNamespace

from sqlalchemy import null, select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from portal.crm_import.schema import json_schema
from portal.crm_import.sql import fetch, within, write_many
from portal.crm_import.values import posix_path
from portal.customers.fingerprints import CustomerImportFingerprint as Fingerprint
from portal.customers.models import Customer
from portal.extensions import db

# bump when a rule changes that the JSON Schema does not show (a validator in schema.py or
# values.py, a check in checks.py): every stored digest then stops matching once
RULES_VERSION = 1
_SALT = hashlib.sha256(f"{RULES_VERSION}\n{json.dumps(json_schema(), sort_keys=True)}".encode()).digest()


def digest(raw: object) -> str | None:
    """The SHA-256 (64 hex digits) of one raw export item, as parsed (dicts, lists, str, int,
    Decimal, bool, None), with the rules' version; key order and white space between tokens do
    not matter, every value does. None for an item no valid record can be (an integer too long
    for Python to print), so it never matches."""
    try:
        text = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    except ValueError:
        return None
    return hashlib.sha256(_SALT + text.encode()).hexdigest()


def number_of(raw: object) -> str | None:
    """The customer number of a raw item as the schema reads it (stripped), or None."""
    number = raw.get("number") if isinstance(raw, dict) else None
    return number.strip() if isinstance(number, str) else None


def unchanged(items: list[tuple[int, object]]) -> dict[int, int]:
    """Of (index, raw item) pairs, those whose customer holds the item's digest, found in one
    query: index → customer id. Only items whose customer holds a digest are hashed."""
    numbers = {index: number for index, raw in items if (number := number_of(raw)) is not None}
    query = (select(Customer.number, Customer.id, Fingerprint.digest)
             .join(Fingerprint, Fingerprint.customer_id == Customer.id)
             .where(within(Customer.number, set(numbers.values())), Fingerprint.digest.is_not(None)))
    stored = {row.number: (row.id, row.digest) for row in fetch(query)} if numbers else {}
    found = {}
    for index, raw in items:
        held = stored.get(numbers.get(index))
        if held is not None and held[1] == digest(raw):
            found[index] = held[0]
    return found


def hold(numbers: Iterable[str]) -> None:
    """Before the import writes a batch (PostgreSQL only), forget the digests of the batch's
    customers that exist, in one upsert that also locks their digest rows until the import
    commits. The import's triggers leave its own writes alone (IMPORT_WRITES_DIGESTS), so without
    this lock another transaction's change to such a customer (a room renamed, a person removed)
    could forget the digest and commit before `remember` wrote the file's digest over it, and
    the next import would skip a customer that differs from its file; with it, that change's
    forgetting upsert waits for the import and clears the digest after it."""
    if db.session.get_bind().dialect.name != "postgresql":
        return  # SQLite's triggers fire for the import's writes too, and writers queue anyway
    existing = select(Customer.id, null()).where(within(Customer.number, numbers))
    db.session.execute(pg_insert(Fingerprint).from_select(["customer_id", "digest"], existing)
                       .on_conflict_do_update(index_elements=["customer_id"], set_={"digest": None}))


def remember(digests: dict[int, str | None]) -> None:
    """Store customer id → digest (None: forgotten), after the import's own writes for those
    customers; one statement (sql.write_many). On PostgreSQL the import's triggers left its
    writes alone, so this is also what forgets the old digest of a customer it wrote to."""
    if digests:
        write_many(Fingerprint.__table__, [{"customer_id": key, "digest": value} for key, value in digests.items()],
                   ["customer_id"], ("digest",))


def light(raw: dict) -> SimpleNamespace:
    """What the rules across records read of an item known valid (its digest matched): the
    customer and contract numbers and the recordings' keys and files, normalized as schema.py
    normalizes them, without validating the rest again."""
    rooms = [SimpleNamespace(key=room["key"].strip(), recordings=[
        SimpleNamespace(key=rec["key"].strip(), file=posix_path(rec["file"].strip()), size_bytes=rec["size_bytes"],
                        sha256=rec["sha256"].strip().lower())
        for rec in room.get("recordings") or []]) for room in raw.get("rooms") or []]
    contract = SimpleNamespace(number=raw["contract"]["number"].strip())
    return SimpleNamespace(number=raw["number"].strip(), contract=contract, rooms=rooms)
