"""The local development provider's demo identities; their e-mails match the demo data."""
from __future__ import annotations

DEMO_IDENTITIES = [
    {"sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl",
     "email_verified": True, "role": "customer (MCX-000123, Przykład Sp. z o.o.)"},
    {"sub": "jan.nowak", "name": "Jan Nowak", "email": "jan.nowak@przyklad.pl",
     "email_verified": True, "role": "authorized person of MCX-000123"},
    {"sub": "ewa.zielinska", "name": "Ewa Zielińska", "email": "ewa.zielinska@mcx.pl",
     "email_verified": True, "role": "moderator"},
    {"sub": "piotr.wisniewski", "name": "Piotr Wiśniewski", "email": "iod@mcx.pl",
     "email_verified": True, "role": "privacy officer"},
    {"sub": "nieznany", "name": "Nie Zweryfikowany", "email": "anna.kowalska@przyklad.pl",
     "email_verified": False, "role": "unverified e-mail: links nothing"},
]

DEMO_STAFF = [("ewa.zielinska@mcx.pl", "moderator"), ("iod@mcx.pl", "privacy_officer")]


def provider_claims() -> list[dict]:
    """Claims as the provider serves them (without our descriptive `role`)."""
    return [{k: v for k, v in ident.items() if k != "role"} for ident in DEMO_IDENTITIES]
