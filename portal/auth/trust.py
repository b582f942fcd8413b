"""May this provider's verified e-mail link what waits for it? (SPEC "Trust per identity provider")

A provider vouches for an address only within its domains, and only for the kinds of record it
is configured to link. When anything waiting for the address is beyond that, the assertion
links nothing at all: an employer's SSO that names a customer's or a staff member's address
is not that person, however `email_verified` reads.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

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
    return next(filter(None, (vouch_refusal(provider, email, kind) for kind in sorted(kinds))), None)


def vouch_refusal(provider: Provider | None, email: str | None, kind: str) -> str | None:
    """Why `provider` may not vouch for `email` for records of `kind` (a Provider.links value):
    "provider" (no longer configured), "domain", "kind", or None if it may."""
    if provider is None or not email:
        return "provider"
    if not provider.speaks_for(email):
        return "domain"
    if kind not in provider.links:
        return "kind"
    return None


def delegate_email_refusal(identity) -> str | None:
    """Why `identity`'s e-mail does not count as verified for a delegation (SPEC "Trust per
    identity provider"): "unverified", "provider", "domain", "kind"; None when it counts.

    The one check for everything a delegation hangs on an e-mail: linking at sign-in and an
    access request under it (portal.people.services.request_access). An address the provider may
    not vouch for counts as unverified everywhere.
    """
    if not identity.email_verified or not identity.email:
        return "unverified"
    provider = next((p for p in current_app.config["OIDC_PROVIDERS"] if p.issuer == identity.issuer), None)
    return vouch_refusal(provider, identity.email, "delegates")
