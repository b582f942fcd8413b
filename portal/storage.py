"""Where recording files live, behind one small interface.

Only a local directory exists today; an S3-compatible store can implement the same methods
without any change to the code that serves or deletes recordings.
"""
from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO, Protocol

from flask import current_app


class StorageError(Exception):
    """A recording file could not be read or removed."""


class RecordingStore(Protocol):
    def exists(self, key: str) -> bool: ...
    def size(self, key: str) -> int: ...
    def open(self, key: str) -> BinaryIO: ...
    def sha256(self, key: str) -> str: ...
    def delete(self, key: str) -> None:
        """Remove the file for good; a file already gone is not an error."""
    def delete_many(self, keys: Iterable[str]) -> dict[str, StorageError]:
        """Remove these files for good, as `delete` does each; returns the keys that could not
        be removed, with the reason. Every other removal is durable when it returns (an object
        store maps this to its batch delete)."""


class LocalDirectoryStore:
    """Recording files under one directory; keys are paths relative to it."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()
        self._root = str(self.root)
        # directory part of a key → its resolved path; a purge resolves each directory once
        self._directories: dict[str, str] = {}

    def path(self, key: str) -> Path:
        return Path(self._resolve(key))

    def _inside(self, resolved: str) -> bool:
        return resolved == self._root or resolved.startswith(self._root + os.sep)

    def _resolve(self, key: str) -> str:
        """The real path of `key`, which must lie inside the root (symbolic links followed)."""
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

    def open(self, key: str) -> BinaryIO:
        try:
            return self.path(key).open("rb")
        except OSError as error:
            raise StorageError(f"{key}: {error.strerror or error}") from error

    def sha256(self, key: str) -> str:
        digest = hashlib.sha256()
        with self.open(key) as handle:
            for chunk in iter(lambda: handle.read(1024 * 1024), b""):
                digest.update(chunk)
        return digest.hexdigest()

    def delete(self, key: str) -> None:
        failure = self.delete_many([key]).get(key)
        if failure is not None:
            raise failure

    def delete_many(self, keys: Iterable[str]) -> dict[str, StorageError]:
        failures: dict[str, StorageError] = {}
        removed: dict[str, list[str]] = {}
        for key in keys:
            try:
                path = self._resolve(key)
                os.unlink(path)
            except FileNotFoundError:
                continue
            except StorageError as error:
                failures[key] = error
                continue
            except OSError as error:
                failures[key] = StorageError(f"{key}: {error.strerror or error}")
                continue
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
                    failures[key] = StorageError(f"{key}: removal not made durable: {error.strerror or error}")
        return failures


def recording_store() -> RecordingStore:
    """The store configured for this app (PORTAL_RECORDINGS_DIR)."""
    return LocalDirectoryStore(current_app.config["RECORDINGS_DIR"])
