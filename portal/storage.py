"""Where recording files live, behind one small interface (issue 19).

Two stores implement it: a local directory (the embedded default, PORTAL_RECORDINGS_DIR) and an
S3-compatible object store (PORTAL_RECORDINGS_URL=s3://bucket/prefix, `portal.storage_s3`). Code
that serves, imports or deletes recordings only speaks to `recording_store()`:

- `exists(key)`, `size(key)`, `stat(key)` (size and, where the store keeps one, the SHA-256);
- `open(key, start, end)`: a readable stream of bytes [start, end), so a Range request reads only
  the range from the store (RFC 9110 §14);
- `put(key, data)` (tests, the demo data);
- `delete(key)` / `delete_many(keys)` / `remove_many(keys)`: permanent removal; an object store
  removes every version and delete marker, and `remove_many` reports what it removed, for the
  deletion receipt (GDPR art. 17).
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class StorageError(Exception):
    """A recording file could not be read or removed."""


@dataclass(frozen=True)
class ObjectStat:
    """What the store says about a stored recording without reading it: its size in bytes and its
    SHA-256 (hex) when the store keeps one (an object uploaded with a SHA-256 checksum), else None."""

    size: int
    sha256: str | None = None


@dataclass(frozen=True)
class Removed:
    """What the permanent removal of one key took away: stored versions (a local file counts as
    one) and delete markers (versioned buckets only). Zero of both: it was already gone."""

    versions: int = 0
    delete_markers: int = 0

    def as_dict(self) -> dict:
        return {"versions": self.versions, "delete_markers": self.delete_markers}


@dataclass
class Removal:
    """The outcome of `remove_many`: what was removed per key, and the keys that could not be."""

    removed: dict[str, Removed] = field(default_factory=dict)
    failures: dict[str, StorageError] = field(default_factory=dict)


class RecordingStore(Protocol):
    description: str  # where recordings live, for logs and the deployment checks (no secrets)

    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def stat(self, key: str) -> ObjectStat | None:
        """Size and stored checksum, or None when there is no such recording. Raises StorageError
        for a key that is not a valid recording name or when the store cannot answer."""
    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        """Bytes [start, end) of the recording (to its end when `end` is None), to read and close."""
    def sha256(self, key: str) -> str: ...
    def put(self, key: str, data: bytes) -> None: ...
    def delete(self, key: str) -> None:
        """Remove the file for good; a file already gone is not an error."""
    def delete_many(self, keys: Iterable[str]) -> dict[str, StorageError]:
        """Remove these files for good, as `delete` does each; returns the keys that could not
        be removed, with the reason. Every other removal is durable when it returns (an object
        store maps this to its batch delete)."""
    def remove_many(self, keys: Iterable[str]) -> Removal:
        """`delete_many`, also saying what each removal took away."""


class _Limited:
    """A file read from `start` up to `end` (exclusive), as a file-like object."""

    def __init__(self, handle: BinaryIO, remaining: int | None):
        self._handle, self._remaining = handle, remaining

    def read(self, size: int = -1) -> bytes:
        if self._remaining is not None:
            size = self._remaining if size < 0 else min(size, self._remaining)
        data = self._handle.read(size)
        if self._remaining is not None:
            self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._handle.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class LocalDirectoryStore:
    """Recording files under one directory; keys are paths relative to it."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self._root = str(self.root)
        self.description = f"directory {self._root}"
        # directory part of a key → its resolved path; a purge resolves each directory once
        self._directories: dict[str, str] = {}

    def path(self, key: str) -> Path:
        return Path(self._resolve(key))

    def _inside(self, resolved: str) -> bool:
        return resolved == self._root or resolved.startswith(self._root + os.sep)

    def _resolve(self, key: str) -> str:
        """The real path of `key`, which must lie inside the root (symbolic links followed)."""
        if "\x00" in key or "\\" in key:
            raise StorageError(f"{key!r} is not a recording file name")
        head, _, name = key.rpartition("/")
        directory = self._directories.get(head)
        if directory is None:
            directory = os.path.realpath(os.path.join(self._root, head))
            if not self._inside(directory):
                raise StorageError(f"{key!r} is outside the recordings directory")
            self._directories[head] = directory
        if name in ("", ".", ".."):
            raise StorageError(f"{key!r} does not name a file")
        candidate = os.path.join(directory, name)
        if os.path.islink(candidate):
            candidate = os.path.realpath(candidate)
            if not self._inside(candidate):
                raise StorageError(f"{key!r} is outside the recordings directory")
        return candidate

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._resolve(key))

    def size(self, key: str) -> int:
        try:
            return self.path(key).stat().st_size
        except OSError as error:
            raise StorageError(f"{key}: {error.strerror or error}") from error

    def stat(self, key: str) -> ObjectStat | None:
        """os.stat of the file: a directory keeps no checksum, so `sha256` is None."""
        path = self._resolve(key)
        if not os.path.isfile(path):
            return None
        try:
            return ObjectStat(os.stat(path).st_size)
        except OSError as error:
            raise StorageError(f"{key}: {error.strerror or error}") from error

    def open(self, key: str, start: int = 0, end: int | None = None) -> BinaryIO:
        try:
            handle = self.path(key).open("rb")
        except OSError as error:
            raise StorageError(f"{key}: {error.strerror or error}") from error
        if start == 0 and end is None:
            return handle
        handle.seek(start)
        return _Limited(handle, None if end is None else max(end - start, 0))  # type: ignore[return-value]

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.open(key) as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def delete(self, key: str) -> None:
        failure = self.delete_many([key]).get(key)
        if failure is not None:
            raise failure

    def delete_many(self, keys: Iterable[str]) -> dict[str, StorageError]:
        return self.remove_many(keys).failures

    def remove_many(self, keys: Iterable[str]) -> Removal:
        result = Removal()
        removed: dict[str, list[str]] = {}
        for key in keys:
            try:
                path = self._resolve(key)
                os.unlink(path)
            except FileNotFoundError:
                result.removed[key] = Removed()
                continue
            except StorageError as error:
                result.failures[key] = error
                continue
            except OSError as error:
                result.failures[key] = StorageError(f"{key}: {error.strerror or error}")
                continue
            result.removed[key] = Removed(versions=1)
            removed.setdefault(os.path.dirname(path), []).append(key)
        # the removals must survive a crash before they are reported as done: one fsync of
        # each directory covers every file removed from it
        for directory, removed_keys in removed.items():
            try:
                fd = os.open(directory, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as error:
                for key in removed_keys:
                    result.removed.pop(key, None)
                    result.failures[key] = StorageError(f"{key}: removal not made durable: {error.strerror or error}")
        return result


class RangeBody:
    """A response body that reads a recording from the store lazily and only the bytes sent.

    Werkzeug's range handling seeks a seekable body to the range's first byte; the store is then
    asked for exactly [first, `end`) (`end` set by the caller from the response's Content-Range),
    so a range of a large object never pulls its beginning through the portal.
    """

    CHUNK = 256 * 1024

    def __init__(self, store: RecordingStore, key: str, size: int):
        self.store, self.key, self.position, self.end = store, key, 0, size
        self._stream: BinaryIO | None = None

    def seekable(self) -> bool:
        return True

    def seek(self, position: int) -> None:
        if self._stream is not None:
            raise StorageError("a recording body is only positioned before it is read")
        self.position = position

    def tell(self) -> int:
        return self.position

    def __iter__(self):
        return self

    def __next__(self) -> bytes:
        if self.position >= self.end:
            raise StopIteration
        if self._stream is None:
            self._stream = self.store.open(self.key, self.position, self.end)
        chunk = self._stream.read(min(self.CHUNK, self.end - self.position))
        if not chunk:
            raise StopIteration
        self.position += len(chunk)
        return chunk

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()


def store_for(config: dict) -> RecordingStore:
    """A new store for this configuration: PORTAL_RECORDINGS_URL (s3://bucket/prefix) when set,
    else the directory PORTAL_RECORDINGS_DIR."""
    url = config.get("RECORDINGS_URL") or ""
    if url:
        from portal.storage_s3 import S3Store

        return S3Store(url, presign_seconds=config.get("RECORDINGS_PRESIGN_SECONDS", 60))
    return LocalDirectoryStore(config["RECORDINGS_DIR"])


def recording_store() -> RecordingStore:
    """The store configured for this app. An S3 client is costly to make and safe to share between
    threads, so one is kept per app and URL; a local store is made afresh, so a directory is never
    resolved from an earlier request's cache."""
    config = current_app.config
    url = config.get("RECORDINGS_URL") or ""
    if not url:
        return store_for(config)
    stores = current_app.extensions.setdefault("recording_stores", {})
    store = stores.get(url)
    if store is None:
        store = stores[url] = store_for(config)
    return store
