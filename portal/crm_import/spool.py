"""The customers the validation pass found valid and not yet applied, kept on disk for the apply
pass (issue 16), so the file is neither parsed nor validated a second time and memory stays flat.

Each batch is pickled into an anonymous temporary file as soon as it is checked, and read back
one batch at a time. The file is this process's own (tempfile.TemporaryFile: no name, gone when
closed), so unpickling it trusts nothing from outside.
"""
from __future__ import annotations

import pickle  # nosec B403 - only our own temporary file is read back, see the module's docstring
import tempfile
from collections.abc import Iterator
from typing import NamedTuple

from portal.crm_import.schema import Customer as CustomerData


class Valid(NamedTuple):
    """A customer to apply: its number, the digest of its record (fingerprint.digest; None if it
    has none) and the validated record."""

    number: str
    digest: str | None
    data: CustomerData


class Spool:
    """Batches of Valid customers, written in order and read back once, in the same order."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile(prefix="portal-import-")  # noqa: SIM115 - closed by close()
        self.customers = 0

    def add(self, batch: list[Valid], records: int, bytes_read: int) -> None:
        """Append one batch; `records` customers and `bytes_read` bytes of the export lie before
        its end (for progress)."""
        if batch:
            pickle.dump((batch, records, bytes_read), self._file, protocol=pickle.HIGHEST_PROTOCOL)
            self.customers += len(batch)

    def batches(self) -> Iterator[tuple[list[Valid], int, int]]:
        """Each batch added, with its `records` and `bytes_read`, one at a time."""
        self._file.seek(0)
        while True:
            try:
                yield pickle.load(self._file)  # nosec B301 - our own temporary file
            except EOFError:
                return

    def close(self) -> None:
        self._file.close()
