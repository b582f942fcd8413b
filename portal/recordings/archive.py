"""All of a customer's recordings, or a room's, as one ZIP streamed with constant memory
(GDPR art. 20: portability; issue 17 item 3).

The archive is built by zipstream-ng, uncompressed (video does not compress) and sized: every
member's size is known from the database before the first byte, so the response has a
Content-Length, and ZIP64 records are written whenever a member, an offset or the count needs
them. Each file is read through the recording store in 1 MiB chunks; no temporary copy is made.
`manifest.json` comes first and names each recording (title, room, start, duration, size,
sha256) with its path in the archive.

Resuming with `Range` is not offered: zipstream-ng stamps each member with the time it is
written, so two requests do not produce the same bytes, and it cannot seek. The response says
`Accept-Ranges: none` (RFC 9110 §14.3) so a client restarts instead of splicing two archives.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

import zipstream.ng
from flask import current_app
from sqlalchemy import select
from zipstream import ZIP_STORED, ZipStream
from zlib_ng import zlib_ng

from portal.customers.models import Recording, Room
from portal.extensions import db
from portal.storage import RecordingStore, StorageError

CHUNK = 1024 * 1024

# zipstream-ng checksums every member with the standard library's CRC-32 (zlib's, ~1.5 GB/s on
# this hardware), the slowest step of a stored ZIP, slower than reading the file. zlib-ng computes
# the same CRC-32 (ISO 3309, as ZIP requires) with SIMD, about 10 times as fast; the function is
# swapped in the one module that uses it, with the same signature and results.
zipstream.ng.crc32 = zlib_ng.crc32
MANIFEST_SCHEMA = "mcx-recordings-manifest/1"


def _safe(text: str, fallback: str) -> str:
    """A path segment from a title or room name: no separators, no control characters."""
    cleaned = "".join(c if c.isalnum() or c in " -_.,()" else "_" for c in text).strip(" .")
    return cleaned[:120] or fallback


@dataclass
class Member:
    recording_id: int
    room_id: int
    room: str
    title: str
    started_at: str
    duration_s: int
    size_bytes: int
    sha256: str
    key: str
    path: str


def members(room_ids: list[int]) -> list[Member]:
    """The recordings of these rooms (not those being deleted), oldest first, with their paths in
    the archive: `<room>/<start> <title> (<id>)<suffix>`, unique by the recording id. The start is
    in the portal's zone (Europe/Warsaw, BABEL_DEFAULT_TIMEZONE), as the rooms pages show it; the
    manifest keeps the exact moment in UTC."""
    if not room_ids:
        return []
    rows = db.session.execute(
        select(Recording.id, Recording.room_id, Room.name, Recording.title, Recording.started_at,
               Recording.duration_s, Recording.size_bytes, Recording.sha256, Recording.file)
        .join(Room).where(Recording.room_id.in_(room_ids), Recording.deletion_receipt_id.is_(None))
        .order_by(Room.id, Recording.started_at, Recording.id)
    ).all()
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    out = []
    for row in rows:
        # the file name comes from the import, which lets control characters through: cleaned too
        suffix = "." + _safe(PurePosixPath(row.file).suffix[1:10], "mp4")
        stamp = row.started_at.astimezone(zone).strftime("%Y-%m-%d %H.%M")
        path = f"{_safe(row.name, f'room-{row.room_id}')}/{stamp} {_safe(row.title, 'recording')} ({row.id}){suffix}"
        out.append(Member(row.id, row.room_id, row.name, row.title, row.started_at.isoformat(timespec="seconds"),
                          row.duration_s, row.size_bytes, row.sha256, row.file, path))
    return out


def manifest(items: list[Member], customer_number: str) -> bytes:
    """manifest.json: what the archive holds, one recording per entry."""
    return json.dumps({
        "schema": MANIFEST_SCHEMA,
        "customer_number": customer_number,
        "recordings": [
            {"id": m.recording_id, "path": m.path, "title": m.title, "room": m.room, "started_at": m.started_at,
             "duration_s": m.duration_s, "size_bytes": m.size_bytes, "sha256": m.sha256}
            for m in items],
    }, ensure_ascii=False, indent=1).encode()


def unreadable(items: list[Member], store: RecordingStore) -> list[Member]:
    """The members whose file the store does not hold at the size the database promises (one stat
    each, before the first byte: the archive's length is announced up front)."""
    missing = []
    for member in items:
        try:
            facts = store.stat(member.key)
        except StorageError:
            facts = None
        if facts is None or facts.size != member.size_bytes:
            missing.append(member)
    return missing


def _chunks(store: RecordingStore, key: str) -> Iterator[bytes]:
    """The file's bytes, CHUNK at a time. Reading into one buffer and copying out is faster than
    `read(CHUNK)`, whose fresh 1 MiB allocation each time costs page faults (scripts/bench_zip.py)."""
    with store.open(key) as handle:
        readinto = getattr(handle, "readinto", None)
        if readinto is None:  # a store whose stream has no readinto
            while chunk := handle.read(CHUNK):
                yield chunk
            return
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        while count := readinto(buffer):
            yield view[:count].tobytes()


def build(items: list[Member], customer_number: str, store: RecordingStore) -> ZipStream:
    """The sized ZIP stream of `items` (iterate it for the bytes; `len()` is its exact size)."""
    stream = ZipStream(compress_type=ZIP_STORED, sized=True)
    stream.add(manifest(items, customer_number), "manifest.json")
    for member in items:
        stream.add(_chunks(store, member.key), member.path, size=member.size_bytes)
    return stream
