"""How a long import shows it is alive: a live line on a terminal, one summary line for cron."""
from __future__ import annotations

import sys
import time
from typing import TextIO

PASSES = 2  # validating reads the file; applying goes through its valid customers again (spool.py)


class Progress:
    """Reports records per second and the estimated time left, from bytes read of the file's size.

    On a terminal the line is redrawn at most every `interval` seconds; elsewhere nothing is
    printed until `finish`, which prints one line (cron mails it, a log keeps it).
    """

    def __init__(self, total_bytes: int, stream: TextIO | None = None, tty: bool | None = None,
                 interval: float = 0.5, clock=time.monotonic):
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.total, self.interval, self.clock = max(total_bytes, 1), interval, clock
        self.started = self._shown = clock()
        self.phase, self.records, self.phase_started = 0, 0, self.started

    def start_phase(self, phase: int) -> None:
        """Phase 0 validates, phase 1 applies; each reads the whole file."""
        self.phase, self.records, self.phase_started = phase, 0, self.clock()

    def tick(self, records: int, bytes_read: int) -> None:
        self.records = records
        now = self.clock()
        if not self.tty or now - self._shown < self.interval:
            return
        self._shown = now
        elapsed = now - self.started
        done = (self.phase * self.total + min(bytes_read, self.total)) / (PASSES * self.total)
        rate = records / max(now - self.phase_started, 1e-6)
        left = elapsed * (1 - done) / done if done > 0 else 0
        words = ("validating", "applying")[self.phase]
        self.stream.write(f"\r{words}: {records:,} customers, {rate:,.0f}/s, {done:.0%} done, "
                          f"about {_duration(left)} left ")
        self.stream.flush()

    def finish(self, customers: int) -> None:
        """The closing line: customers, seconds, customers per second."""
        elapsed = self.clock() - self.started
        if self.tty:
            self.stream.write("\r\033[K")
        rate = customers / elapsed if elapsed > 0 else 0.0
        self.stream.write(f"import: {customers:,} customers in {elapsed:.1f} s ({rate:,.0f} customers/s)\n")
        self.stream.flush()


class Silent(Progress):
    """No output at all (the demo loader, tests calling the importer directly)."""

    def __init__(self) -> None:
        super().__init__(1, tty=False)

    def finish(self, customers: int) -> None:
        pass


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
