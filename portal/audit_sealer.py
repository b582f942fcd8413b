"""The per-process sealing thread: one sealer run per AUDIT_SEAL_DELAY, not one per commit (SPEC P11).

Sealing after every commit cost each audited write a second transaction (the lock, the horizon,
the head, the update: more than the write itself), and with many writers most of those attempts
found the lock taken or nothing left to seal. Here a commit that appended events only *pokes*
its process's sealing thread; the thread waits AUDIT_SEAL_DELAY seconds so that the commits of
that moment join one run, then seals them in one short transaction (`portal.audit_seal`): the
same horizon rule, the same lock, the same chain, whichever process runs it.

Pacing. A thread whose run sealed something, or stored the horizon that the next run waits on,
keeps the pace: it comes back after one delay while events remain (under load the next horizon
settles within a delay or two). A thread that finds the lock taken, or a horizon stored by another
process's sealer, backs off (doubling, up to MAX_BACKOFF), and pokes do not shorten it: with
several worker processes one sealer keeps the pace and the others look in about once a second,
instead of every process sealing every delay. The thread only sleeps for good when a run finds nothing settled left to seal
(or an event whose writer's MAC fails: an operator's turn, and verify-audit names it), so the
last commits are sealed even when no commit follows them.

What this costs: an event stays unsealed for about two delays under load, at most about
MAX_BACKOFF when the process sealing at the moment stops writing, instead of a few ms. The
thread starts at the first poke in each process (a forked worker starts its own) and, when the
process exits normally, seals once more, so a short-lived command leaves nothing of its own behind.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time

from portal import audit_seal

log = logging.getLogger(__name__)
MAX_BACKOFF = 1.0  # seconds between looks while another sealer keeps the pace or writers run
SETTLING_AT_PACE = 5  # looks at the pace at a horizon this thread stored, before backing off
_sealers: dict[int, _Sealer] = {}  # by id(app): one thread per app in this process
_registry = threading.Lock()


class _Sealer:
    def __init__(self, app, delay: float) -> None:
        self.app, self.delay = app, delay
        self.wake, self.stopping = threading.Event(), False
        self.thread = threading.Thread(target=self._run, name="audit-sealer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        pause, pacing, settling = self.delay, False, 0
        while True:
            self.wake.wait()  # a commit appended events, or events are left from the last run
            if self.stopping:
                return
            time.sleep(pause)  # the commits of this moment join the run
            self.wake.clear()  # a poke from now on asks for another run
            sealed, outcome = self.seal()
            if outcome in (audit_seal.DONE, audit_seal.HALTED):
                pause, pacing, settling = self.delay, False, 0
                continue
            self.wake.set()  # events are left: look again
            # this thread keeps the pace while it seals or waits on the horizon it stored itself; a
            # horizon stored by another process's sealer means that one paces; the lock taken once
            # gets one more look at the pace, twice in a row a back-off (two threads pacing at once
            # would mostly find each other's lock). A horizon still held after SETTLING_AT_PACE
            # looks waits on a long writer (an import, a session left in a transaction): back off
            settling = settling + 1 if outcome == audit_seal.SETTLING and not sealed else 0
            was_pacing = pacing
            pacing = bool(sealed) or outcome in (audit_seal.WAITING, audit_seal.MORE) or (
                outcome == audit_seal.SETTLING and settling <= SETTLING_AT_PACE)
            keep_pace = pacing or (outcome == audit_seal.BUSY and was_pacing)
            pause = self.delay if keep_pace else min(max(pause, self.delay) * 2, MAX_BACKOFF)

    def seal(self, *, wait: bool = False, timeout: float = 10.0) -> tuple[int, str]:
        try:
            with self.app.app_context():
                return audit_seal.seal_counted(wait=wait, timeout=timeout)
        except Exception:  # the writes are committed; a later run catches up
            log.exception("sealing the audit log failed")
            return 0, audit_seal.BUSY


def poke(app, delay: float) -> None:
    """Ask this process's sealing thread for `app` to seal within about `delay` seconds (starts it)."""
    sealer = _sealers.get(id(app))
    if sealer is None or sealer.app is not app:
        with _registry:
            sealer = _sealers.get(id(app))
            if sealer is None or sealer.app is not app:
                sealer = _sealers[id(app)] = _Sealer(app, delay)
    if not sealer.wake.is_set():  # set() takes a lock: under load most commits find it set already
        sealer.wake.set()


def stop(app, timeout: float = 5.0) -> None:
    """End this process's sealing thread for `app`, if it has one (waits up to `timeout` seconds for
    a run in progress); a later poke starts a new one. What is left unsealed waits for the next run."""
    with _registry:
        sealer = _sealers.pop(id(app), None)
    if sealer is not None:
        sealer.stopping = True
        sealer.wake.set()
        sealer.thread.join(timeout)


def _after_fork_in_child() -> None:
    # a forked worker has none of its parent's threads, and the locks may have been held at the fork
    global _registry
    _sealers.clear()
    _registry = threading.Lock()


@atexit.register
def _seal_before_exit() -> None:
    for sealer in list(_sealers.values()):
        sealer.seal(wait=True, timeout=2.0)


os.register_at_fork(after_in_child=_after_fork_in_child)
