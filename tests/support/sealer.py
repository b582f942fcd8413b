"""Hold the in-process audit sealer back while a test counts SQL statements.

A commit that appended audit events starts the sealer (portal.audit_seal) right after it; how much
it seals, and with which statements, depends on what other writers left, not on the code under
test, so statement counts and orders are compared without it.
"""
from __future__ import annotations

from contextlib import contextmanager


@contextmanager
def sealer_held():
    from portal import audit_seal

    sealer = audit_seal.seal
    audit_seal.seal = lambda **_kwargs: 0
    try:
        yield
    finally:
        audit_seal.seal = sealer
