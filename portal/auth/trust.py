"""May this provider's verified e-mail link what waits for it? (SPEC "Trust per identity provider")

A provider vouches for an address only within its domains, and only for the kinds of record it
is configured to link. When anything waiting for the address is beyond that, the assertion
links nothing at all: an employer's SSO that names a customer's or a staff member's address
is not that person, however `email_verified` reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from portal.auth.provider_config import Provider


@dataclass
class Waiting:
    """Records that wait for one e-mail address and are not bound to anyone yet."""

    customers: list = field(default_factory=list)
    delegates: list = field(default_factory=list)
    roles: list = field(default_factory=list)

    def kinds(self) -> set[str]:
        """The link kinds (as in Provider.links) that have something waiting."""
        present = {"customers": self.customers, "delegates": self.delegates, "staff": self.roles}
        return {kind for kind, records in present.items() if records}


def refusal(provider: Provider, email: str, waiting: Waiting) -> str | None:
    """Why `provider` may not link `waiting` through `email`: "domain", "kind", or None if it may.

    Nothing waiting means nothing to refuse.
    """
    kinds = waiting.kinds()
    if not kinds:
        return None
    if not provider.speaks_for(email):
        return "domain"
    if kinds - provider.links:
        return "kind"
    return None
