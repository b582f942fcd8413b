"""The customer's complete data export: one JSON document, streamed (SPEC "Machine-readable contracts").

The document's keys come from the registry and never change meaning; a change that breaks
readers raises SCHEMA_VERSION. Lists are read in batches and written as they are read, so
100,000 recordings need no more memory than 1,000 (see scripts/bench_export.py).
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app

from portal.customers.models import Customer
from portal.transparency import inventory
from portal.transparency.registry import BASIS_LABELS, CUSTOMER_CATEGORIES, SOURCE_LABELS, Category

SCHEMA = "mcx-privacy-portal/export"
SCHEMA_VERSION = 1
CHUNK = 64 * 1024


def filename(customer: Customer, moment: datetime) -> str:
    """`mcx-data-MCX-000123-2025-11-25.json`: who and when, safe in any file system.

    The day is the customer's, in Europe/Warsaw (BABEL_DEFAULT_TIMEZONE): at 00:30 on 1 March
    in Warsaw the file says 1 March, whatever UTC says (issue 12 item 8).
    """
    number = re.sub(r"[^A-Za-z0-9._-]", "-", customer.number)
    if moment.tzinfo is None:  # the database keeps UTC
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))
    return f"mcx-data-{number}-{local.date().isoformat()}.json"


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def about(category: Category) -> dict:
    """What the registry says of a category, in the reader's language."""
    return {
        "label": str(category.label),
        "purpose": str(category.purpose),
        "legal_basis": [str(basis) for basis in category.bases],
        "legal_basis_text": [str(BASIS_LABELS[basis]) for basis in category.bases],
        "sources": [str(source) for source in category.sources],
        "sources_text": [str(SOURCE_LABELS[source]) for source in category.sources],
        "retention": str(category.retention),
        "recipients": str(category.recipients),
        "fields": {f.key: str(f.label) for f in category.fields},
    }


def _pieces(customer: Customer, generated_at: datetime, language: str) -> Iterator[str]:
    yield ("{" + f'"schema":{_dumps(SCHEMA)},"schema_version":{SCHEMA_VERSION},'
           f'"generated_at":{_dumps(generated_at.isoformat())},"language":{_dumps(language)},'
           f'"customer_number":{_dumps(customer.number)},')
    yield '"registry":' + _dumps({c.key: about(c) for c in CUSTOMER_CATEGORIES}) + ',"data":{'
    for index, category in enumerate(CUSTOMER_CATEGORIES):
        yield ("," if index else "") + _dumps(category.key) + ":"
        if not category.many:
            record = inventory.single_record(category, customer)
            yield _dumps(None if record is None else inventory.json_record(category, record))
            continue
        yield "["
        first = True
        for row in inventory.stream(category.key, customer.id):
            yield ("" if first else ",") + _dumps(inventory.json_record(category, row))
            first = False
        yield "]"
    yield "}}"


def json_chunks(customer_id: int, generated_at: datetime, language: str) -> Iterator[str]:
    """The export document: its opening (schema, customer number) at once, then pieces of about
    64 KB. The opening goes out before any list is read, so the download starts within the
    request's own time (issue 15: the first byte waited for 64 KB, a whole typical export, 190 ms
    at scale) and no proxy in between waits on a silent connection."""
    customer = inventory.load_customer(customer_id)
    buffer: list[str] = []
    size, limit = 0, 1
    for piece in _pieces(customer, generated_at, language):
        buffer.append(piece)
        size += len(piece)
        if size >= limit:
            yield "".join(buffer)
            buffer, size, limit = [], 0, CHUNK
    if buffer:
        yield "".join(buffer)
