"""The rules one record cannot check alone: duplicates within a customer, across the file and
against the database, and the recording files themselves (SPEC P2, P9).

The validation pass hands this module one batch of customers at a time; what must be
remembered across batches (customer and contract numbers, which file each recording uses)
lives in `SeenKeys`, a temporary SQLite file, so memory stays flat however long the export.
"""
from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterable, Sequence

from sqlalchemy import select

from portal.consents.models import ConsentEvent
from portal.crm_import.schema import Customer as CustomerData
from portal.crm_import.sql import fetch, within
from portal.customers.models import Contract, ContractStatus, Customer, Recording, Room
from portal.extensions import db
from portal.storage import LocalDirectoryStore, RecordingStore, StorageError

OUTSIDE = 'must be a relative path inside the recordings directory (no "..", not absolute)'


class SeenKeys:
    """The first record to claim each key (a customer number, a file), kept on disk."""

    CHUNK = 500  # keys per look-up: under SQLite's oldest limit of 999 parameters

    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="portal-import-")
        self._db = sqlite3.connect(os.path.join(self._dir.name, "seen.sqlite3"))
        self._db.execute("PRAGMA journal_mode=OFF")
        self._db.execute("PRAGMA synchronous=OFF")
        self._db.execute("CREATE TABLE seen (kind TEXT, key TEXT, label TEXT, PRIMARY KEY (kind, key)) WITHOUT ROWID")

    def _known(self, kind: str, keys: Sequence[str]) -> dict[str, str]:
        # one statement per CHUNK keys (a statement per key cost more in the interpreter than in
        # SQLite); the text holds only placeholders, the same for every full chunk
        found: dict[str, str] = {}
        for start in range(0, len(keys), self.CHUNK):
            chunk = keys[start:start + self.CHUNK]
            marks = ", ".join("?" * len(chunk))
            found.update(self._db.execute(
                f"SELECT key, label FROM seen WHERE kind = ? AND key IN ({marks})",  # nosec B608
                (kind, *chunk)))
        return found

    def claim(self, kind: str, items: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
        """Claim each (key, label) in order; return (key, label, first label) for keys already claimed."""
        items = list(items)
        first = self._known(kind, list(dict.fromkeys(key for key, _ in items)))
        clashes, new = [], []
        for key, label in items:
            if key in first:
                clashes.append((key, label, first[key]))
            else:
                first[key] = label
                new.append((kind, key, label))
        self._db.executemany("INSERT INTO seen VALUES (?, ?, ?)", new)
        return clashes

    def contains(self, kind: str, keys: Sequence[str]) -> set[str]:
        return set(self._known(kind, list(dict.fromkeys(keys))))

    def close(self) -> None:
        self._db.close()
        self._dir.cleanup()


def duplicates(items: Iterable[tuple[str, str]], what: str) -> list[str]:
    """Errors for each (path, value) whose value an earlier item already had."""
    first: dict[str, str] = {}
    errors = []
    for path, value in items:
        if value in first:
            errors.append(f"{path}: {what} \"{value}\" appears twice (first at {first[value]})")
        else:
            first[value] = path
    return errors


def within_customer(path: str, data: CustomerData) -> list[str]:
    """Keys a customer lists twice, and delegates' rooms the customer does not have."""
    rooms = data.rooms or []
    errors = duplicates(((f"{path}.rooms[{i}].key", room.key) for i, room in enumerate(rooms)), "room key")
    for i, room in enumerate(rooms):
        errors += duplicates(((f"{path}.rooms[{i}].recordings[{j}].key", rec.key)
                              for j, rec in enumerate(room.recordings or [])), "recording key")
    errors += duplicates(((f"{path}.contract.services[{i}]", code) for i, code in enumerate(data.contract.services)),
                         "service")
    keys = {room.key for room in rooms}
    persons = data.authorized_persons or []
    for i, person in enumerate(persons):
        errors += [f"{path}.authorized_persons[{i}].rooms[{j}]: no room with key \"{key}\""
                   for j, key in enumerate(person.rooms or []) if key not in keys]
    errors += duplicates(((f"{path}.authorized_persons[{i}].email", p.email.lower()) for i, p in enumerate(persons)),
                         "e-mail")
    errors += duplicates(((f"{path}.consents[{i}]", f"{c.purpose}/{c.channel}/{c.at.isoformat()}/{c.source}")
                          for i, c in enumerate(data.consents or [])), "consent event")
    return errors


def clash_line(label: str, first: str) -> str | None:
    """The line for two recordings claiming one file, at the file's record; None if both are stored ones."""
    if label.startswith("customers["):
        return f"{label}.file: is the same file as {first}; a file belongs to one recording"
    if first.startswith("customers["):
        return f"{first}.file: is the same file as {label}; a file belongs to one recording"
    return None


def stored_label(number: str, room: str, key: str) -> str:
    return f'recording "{room}/{key}" of customer {number} (in the database)'


# --- recording files ----------------------------------------------------------------------------

def file_identity(store: RecordingStore, key: str) -> str | None:
    """What makes two keys one file: the device and inode for a directory (so a second path, a hard
    link or a symbolic link to one file is the same file), else the key itself; None if absent."""
    if isinstance(store, LocalDirectoryStore):
        try:
            # stat follows symbolic links; the key was already found inside the directory
            facts = os.stat(os.path.join(store.root, key))
        except OSError:
            return None
        return f"{facts.st_dev}:{facts.st_ino}"
    return key


def check_file(store: RecordingStore, path: str, rec, known: tuple | None, verify: bool) -> list[str]:
    """Errors for one recording's file: inside the store, present, the declared size and checksum.

    The checksum is computed only for a new recording, one whose file, size or checksum differ
    from what the database holds (`known`), or when `verify` asks for every file. The one place
    the import asks the store about a file's size, so an object store's stat() (which may carry
    a checksum) answers it.
    """
    relative = rec.file
    if relative.startswith("/") or ".." in relative.split("/") or "\\" in relative or "\x00" in relative:
        return [f"{path}.file: {OUTSIDE}"]
    try:
        # one stat (one HeadObject on S3), not an existence test and then a stat
        facts = store.stat(relative)
    except StorageError:
        return [f"{path}.file: {OUTSIDE}"]
    if facts is None:
        return [f"{path}.file: no such file in the recordings directory: {relative}"]
    size, digest = facts.size, facts.sha256
    if size != rec.size_bytes:
        return [f"{path}.size_bytes: does not match the file (expected {rec.size_bytes}, file has {size})"]
    if verify or known != (relative, rec.size_bytes, rec.sha256) or digest is not None:
        digest = digest or store.sha256(relative)
        if digest != rec.sha256:
            return [f"{path}.sha256: does not match the file (expected {rec.sha256}, file has {digest})"]
    return []


# --- what the database says about a batch --------------------------------------------------------

def against_database(batch: list[tuple[int, CustomerData]]) -> tuple[list[tuple[int, str]], dict, dict]:
    """Errors only the database can show, for a batch of valid customers, in a few queries.

    Returns (errors as (index, line), stored recordings by (number, room key, key) → (file, size,
    sha256), and stored customers by number → id).
    """
    numbers = [data.number for _, data in batch]
    errors: list[tuple[int, str]] = []
    stored = {row.number: row for row in fetch(
        select(Customer.id, Customer.number, Contract.status).outerjoin(Contract, Contract.customer_id == Customer.id)
        .where(within(Customer.number, numbers)))}
    taken = dict(db.session.execute(
        select(Contract.number, Customer.number).join(Customer, Customer.id == Contract.customer_id)
        .where(within(Contract.number, [data.contract.number for _, data in batch]))).all())
    ids = [row.id for row in stored.values()]
    recorded: dict[int, dict[tuple, bool]] = {}
    for event in fetch(select(
            ConsentEvent.customer_id, ConsentEvent.purpose, ConsentEvent.channel, ConsentEvent.at,
            ConsentEvent.source, ConsentEvent.granted).where(within(ConsentEvent.customer_id, ids))):
        key = (event.purpose, event.channel, event.at, event.source)
        recorded.setdefault(event.customer_id, {})[key] = event.granted
    recordings = {(row.number, row.room, row.key): (row.file, row.size_bytes, row.sha256) for row in fetch(
        select(Customer.number, Room.key.label("room"), Recording.key, Recording.file, Recording.size_bytes,
               Recording.sha256).join(Room, Room.id == Recording.room_id)
        .join(Customer, Customer.id == Room.customer_id)
        .where(within(Room.customer_id, ids)))}
    for index, data in batch:
        path, owner = f"customers[{index}]", stored.get(data.number)
        holder = taken.get(data.contract.number)
        if holder is not None and holder != data.number:
            errors.append((index, f"{path}.contract.number: \"{data.contract.number}\" is already the contract "
                                  f"of customer {holder}"))
        if owner is None:
            continue
        if owner.status == ContractStatus.TERMINATED:
            # P9: a terminated customer's recordings were deleted for good; an old export must not revive them
            errors.append((index, f"{path}.number: the contract of {data.number} is terminated; "
                                  "remove this customer from the file"))
        events = recorded.get(owner.id, {})
        for i, consent in enumerate(data.consents or []):
            if events.get((consent.purpose, consent.channel, consent.at, consent.source), consent.granted) \
                    != consent.granted:
                errors.append((index, f"{path}.consents[{i}].granted: contradicts the consent event already "
                                      "recorded for this channel, moment and source "
                                      "(consent events are never changed)"))
    return errors, recordings, {number: row.id for number, row in stored.items()}


def stored_recordings_of_others(seen: SeenKeys, store: RecordingStore) -> Iterable[tuple[str, str]]:
    """(file identity, label) of stored recordings of customers the file does not mention, read in
    keyset pages; their files stay theirs, so a file record must not claim them."""
    last = 0
    while True:
        rows = db.session.execute(
            select(Recording.id, Customer.number, Room.key.label("room"), Recording.key, Recording.file)
            .join(Room, Room.id == Recording.room_id).join(Customer, Customer.id == Room.customer_id)
            .where(Recording.id > last).order_by(Recording.id).limit(2000)).all()
        if not rows:
            return
        last = rows[-1].id
        in_file = seen.contains("number", [row.number for row in rows])
        for row in rows:
            if row.number not in in_file and (identity := file_identity(store, row.file)) is not None:
                yield identity, stored_label(row.number, row.room, row.key)
