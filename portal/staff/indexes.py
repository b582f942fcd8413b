"""Indexes the staff console's reads need (migration 0013_staff_console), kept beside those reads.

The audit-log reader pages newest first by id under each filter; the customer look-up compares
normalised values (lower-cased e-mail, the digits of a phone or NIP) by exact match. The
normalisation is nested `replace`/`lower`, which SQLite and PostgreSQL both index.
"""
from __future__ import annotations

from sqlalchemy import Index, func

from portal.audit import AuditEvent
from portal.customers.models import Customer

# what a phone or NIP is written with besides its digits
_SEPARATORS = (" ", "-", "(", ")", "+", ".", "/")


def digits_of(column):
    """The SQL expression of `column` without separators (what `normalise_digits` keeps in Python)."""
    expression = column
    for separator in _SEPARATORS:
        expression = func.replace(expression, separator, "")
    return expression


def normalise_digits(value: str) -> str:
    """Only the digits of a typed phone number or NIP."""
    return "".join(ch for ch in value if ch.isascii() and ch.isdigit())


# (customer_id, id) and lower(customers.email) are portal/indexes.py's (migration 0010_scale_indexes)
AUDIT_INDEXES = (
    Index("ix_audit_events_actor_identity_id_id", AuditEvent.actor_identity_id, AuditEvent.id),
    Index("ix_audit_events_kind_id", AuditEvent.kind, AuditEvent.id),
    Index("ix_audit_events_at_id", AuditEvent.at, AuditEvent.id),
)
CUSTOMER_INDEXES = (
    Index("ix_customers_phone_digits", digits_of(Customer.phone)),
    Index("ix_customers_tax_id_digits", digits_of(Customer.tax_id)),
)
