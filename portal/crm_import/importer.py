"""`portal import`: load customers from the order system's JSON export (SPEC P2, "Import format").

One streamed pass over the file, then one over what it found, so memory does not grow with it:
1. validate every customer (schema.py), the rules across records and against the database
   (checks.py) and every recording file, collecting every error with the record and field it
   concerns; the valid customers whose digest is not stored go to a spool on disk (spool.py);
2. only if there was not a single error, apply the spooled customers in batches (apply.py),
   inside the caller's transaction: the CLI commits once at the end, and any failure rolls the
   whole import back.
"""
from __future__ import annotations

from pathlib import Path

from flask import current_app
from pydantic import ValidationError

from portal import audit
from portal.crm_import import checks, fingerprint, messages, stream
from portal.crm_import.apply import Applier
from portal.crm_import.progress import Progress, Silent
from portal.crm_import.report import ImportFailed, ImportReport
from portal.crm_import.schema import Customer as CustomerData
from portal.crm_import.spool import Spool, Valid
from portal.crm_import.sql import transaction_settings
from portal.customers.fingerprints import IMPORT_WRITES_DIGESTS
from portal.storage import LocalDirectoryStore, RecordingStore, recording_store

__all__ = ["ImportFailed", "ImportReport", "import_customers"]

BATCH = 1000  # customers per set-based write and per database check
MAX_ERRORS = 10_000  # kept and printed; further errors are counted, so a broken file stays cheap


def import_customers(source: Path | str | dict, recordings_dir: Path | None = None, *,
                     store: RecordingStore | None = None, verify_files: bool = False,
                     progress: Progress | None = None) -> ImportReport:
    """Validate the whole export, then upsert every customer in it; raise ImportFailed on any error.

    `source` is a path to the JSON export or an already parsed document; recording paths are
    relative to `recordings_dir` (default: the app's store). `verify_files` hashes every file,
    not only new or changed ones. Flushes, never commits.
    """
    source = stream.Source(source)
    if store is None:
        # an object store, when configured, holds the files whatever directory the caller names
        object_store = current_app.config.get("RECORDINGS_URL")
        store = recording_store() if object_store or recordings_dir is None else LocalDirectoryStore(recordings_dir)
    progress = progress or Silent()
    progress.total = max(source.size, 1)
    spool = Spool()
    try:
        # PostgreSQL plans each batch's statements for its own values: psycopg prepares a
        # statement after five runs, and the generic plan made while the tables were still small
        # (a sequential scan testing `number = ANY(…)` against a thousand values per row) was
        # then kept for every batch of a first import, growing with the table (most of its time
        # at 100,000 customers)
        with transaction_settings({"plan_cache_mode": "force_custom_plan"}):
            count, same = _validate(source, store, verify_files, progress, spool)
            report = ImportReport(customers_unchanged=same)
            progress.start_phase(1)
            if spool.customers:
                # every customer the import writes to gets its digest or a NULL from _apply, so
                # the digest triggers need not forget them first (portal/customers/fingerprints.py)
                with transaction_settings({IMPORT_WRITES_DIGESTS: "on"}):
                    applier = Applier(report)
                    for batch, records, bytes_read in spool.batches():
                        _apply(applier, batch)
                        progress.tick(records, bytes_read)
    finally:
        spool.close()
    audit.record("import", customers=report.customers, **report.counts())
    progress.finish(report.customers)
    return report


def _apply(applier: Applier, batch: list[Valid]) -> None:
    """Apply one batch of valid customers; store the digests of those the database now holds
    exactly as the file says, and a NULL (forgotten) for every other, whose writes the triggers
    left alone."""
    fingerprint.hold(item.number for item in batch)
    settled = applier.apply([item.data for item in batch])
    fingerprint.remember({applier.customer_ids[item.number]: item.digest if item.number in settled else None
                          for item in batch})


def _validate(source: stream.Source, store: RecordingStore, verify: bool, progress: Progress,
              spool: Spool) -> tuple[int, int]:
    """The first pass: raise ImportFailed with every error found, or return (customers in the
    file, how many of them hold their record's digest) with the file sound and every other
    customer, validated, in `spool`."""
    errors: list[str] = []
    seen = checks.SeenKeys()
    count = same = 0
    try:
        with source.open() as reader:
            raws: list[tuple[int, object]] = []
            for index, raw in stream.checked_customers(source, reader, errors):
                count = index + 1
                raws.append((index, raw))
                if len(raws) == BATCH:
                    same += _check_raw(raws, seen, store, verify, errors, spool, reader.bytes_read)
                    raws = []
                    progress.tick(count, reader.bytes_read)
            same += _check_raw(raws, seen, store, verify, errors, spool, reader.bytes_read)
        for identity, label in checks.stored_recordings_of_others(seen, store):
            for _, _, first in seen.claim("file", [(identity, label)]):
                if (line := checks.clash_line(label, first)) is not None:
                    errors.append(line)
    finally:
        seen.close()
    if errors:
        shown = errors[:MAX_ERRORS]
        if len(errors) > MAX_ERRORS:
            shown.append(f"… and {len(errors) - MAX_ERRORS} more error(s)")
        raise ImportFailed(shown)
    return count, same


def _check_raw(raws: list[tuple[int, object]], seen: checks.SeenKeys, store: RecordingStore,
               verify: bool, errors: list[str], spool: Spool, bytes_read: int) -> int:
    """Check one batch of raw items (ending `bytes_read` into the file), adding to `errors`;
    spool the valid items whose digest their customer does not hold (while the file has no
    error: after one, nothing is applied); return how many hold it. An item whose digest its
    customer holds was valid and is applied already: only the rules a digest cannot vouch for
    are checked (its files, duplicates across the file)."""
    if not raws:
        return 0
    found: list[str] = []
    same = fingerprint.unchanged(raws)
    batch: list[tuple[int, object]] = []
    valid: list[Valid] = []
    for index, raw in raws:
        if index in same:
            batch.append((index, fingerprint.light(raw)))
            continue
        path = f"customers[{index}]"
        try:
            data = CustomerData.model_validate(raw)
        except ValidationError as failure:
            found += messages.lines(path, failure)
            continue
        found += checks.within_customer(path, data)
        batch.append((index, data))
        valid.append(Valid(data.number, fingerprint.digest(raw), data))
    errors += found + _check_batch(batch, seen, store, verify, set(same))
    if not errors:
        spool.add(valid, raws[-1][0] + 1, bytes_read)
    return len(same)


def _check_batch(batch: list[tuple[int, CustomerData]], seen: checks.SeenKeys, store: RecordingStore,
                 verify: bool, same: set[int] = frozenset()) -> list[str]:
    """Errors across records for one batch: duplicates in the file, the database, recording files.

    The customers at the indexes in `same` hold their record's digest: the database holds what
    they say, so only their files and keys are checked, not the database's rules again."""
    if not batch:
        return []
    found: list[tuple[int, str]] = []
    for kind, what, value in (("number", "customer number", lambda d: d.number),
                              ("contract", "contract number", lambda d: d.contract.number)):
        field = "number" if kind == "number" else "contract.number"
        for key, label, first in seen.claim(kind, ((value(d), f"customers[{i}].{field}") for i, d in batch)):
            found.append((_index_of(label), f"{label}: {what} \"{key}\" appears twice (first at {first})"))
    database, stored, _ = checks.against_database([(i, d) for i, d in batch if i not in same])
    found += database
    by_customer: dict[str, list[tuple[str, str, str]]] = {}
    for (number, room_key, key), (file, _, _) in stored.items():
        by_customer.setdefault(number, []).append((room_key, key, file))
    claims = []
    for index, data in batch:
        in_file = set()
        for r, room in enumerate(data.rooms or []):
            for j, rec in enumerate(room.recordings or []):
                path = f"customers[{index}].rooms[{r}].recordings[{j}]"
                in_file.add((room.key, rec.key))
                known = (rec.file, rec.size_bytes, rec.sha256) if index in same else stored.get(
                    (data.number, room.key, rec.key))
                problems = checks.check_file(store, path, rec, known, verify)
                found += [(index, line) for line in problems]
                if not problems and (identity := checks.file_identity(store, rec.file)) is not None:
                    claims.append((identity, path))
        # a stored recording the file leaves out keeps its file: nobody else may claim it
        for room_key, key, file in by_customer.get(data.number, []):
            if (room_key, key) not in in_file and (identity := checks.file_identity(store, file)) is not None:
                claims.append((identity, checks.stored_label(data.number, room_key, key)))
    for _, label, first in seen.claim("file", claims):
        if (line := checks.clash_line(label, first)) is not None:
            found.append((_index_of(line), line))
    found.sort(key=lambda item: item[0])
    return [line for _, line in found]


def _index_of(line: str) -> int:
    return int(line[10:line.index("]")]) if line.startswith("customers[") else -1
