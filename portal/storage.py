"""Where recording files live, behind one small interface.

Only a local directory exists today; an S3-compatible store can implement the same methods
without any change to the code that serves or deletes recordings.
"""
from __future__ import annotations

import hashlib
import os
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


class LocalDirectoryStore:
    """Recording files under one directory; keys are paths relative to it."""

    def __init__(self, root: str | Path):
        self.root = Path(root).resolve()

    def path(self, key: str) -> Path:
        candidate = (self.root / key).resolve()
        if not candidate.is_relative_to(self.root):
            raise StorageError(f"{key!r} is outside the recordings directory")
        return candidate

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()

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
        path = self.path(key)
        try:
            path.unlink()
        except FileNotFoundError:
            return
        except OSError as error:
            raise StorageError(f"{key}: {error.strerror or error}") from error
        # the removal itself must survive a crash before it is reported as done
        fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def recording_store() -> RecordingStore:
    """The store configured for this app (PORTAL_RECORDINGS_DIR)."""
    return LocalDirectoryStore(current_app.config["RECORDINGS_DIR"])
