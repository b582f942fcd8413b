"""Indexes that keep every hot path's cost to the rows it shows (issue 15, item 2).

Each index is named after the query it serves; tests/perf/test_explain.py proves on PostgreSQL that
the query uses it (no sequential scan of a big table, no sort of more than a page of rows).
They are declared here, beside no model, so the domains' models stay as they are; migration
0010_scale_indexes creates them.

The partial indexes' predicates are SQL literals, and the queries they serve spell the same
literal (`portal.queues.status_is()`): PostgreSQL can use a partial index only when it can prove the query's
condition implies the predicate, which a bound parameter in a cached generic plan would not.
"""
from __future__ import annotations

from sqlalchemy import Index, func, text

from portal.account.models import CorrectionRequest, CorrectionStatus
from portal.audit import AuditEvent
from portal.auth.models import StaffRole
from portal.customers.models import Customer, Recording
from portal.people.models import AccessRequest, AccessRequestStatus, Delegate
from portal.termination.models import OPEN_STATUSES, TerminationRequest


def _where(sql: str) -> dict:
    return {"postgresql_where": text(sql), "sqlite_where": text(sql)}


PENDING_ACCESS = f"status = '{AccessRequestStatus.PENDING.value}'"
PENDING_CORRECTION = f"status = '{CorrectionStatus.PENDING.value}'"
LIVE_RECORDING = "deletion_receipt_id IS NULL"  # portal.people.access.live_recordings()
OPEN_TERMINATION = "status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + ")"

INDEXES = (
    # the activity log and export: one keyset branch per index (portal/transparency/activity.py)
    Index("ix_audit_events_customer_keyset", AuditEvent.customer_id, AuditEvent.id),
    Index("ix_audit_events_actor_kind_keyset", AuditEvent.actor_identity_id, AuditEvent.kind, AuditEvent.id),
    # the data page's recordings, oldest first by id, read room by room
    Index("ix_recordings_room_keyset", Recording.room_id, Recording.id),
    # the rooms pages: each room's newest live recordings, read backwards from the end of the room's
    # range without visiting the table (index-only); without the predicate the planner, expecting a
    # room's average few recordings, may read all of a big room's and sort them (migration 0016)
    Index("ix_recordings_room_live", Recording.room_id, Recording.started_at, Recording.id,
          **_where(LIVE_RECORDING)),
    # the open queues: only the open rows are in them, in the queue's order
    Index("ix_access_requests_pending", AccessRequest.created_at, AccessRequest.id, **_where(PENDING_ACCESS)),
    Index("ix_correction_requests_pending", CorrectionRequest.id, **_where(PENDING_CORRECTION)),
    Index("ix_termination_requests_open", TerminationRequest.id, **_where(OPEN_TERMINATION)),
    # sign-in and every e-mail look-up narrow by lower(email) (portal.addresses.lookup_spellings)
    Index("ix_customers_email_lower", func.lower(Customer.email)),
    Index("ix_delegates_email_lower", func.lower(Delegate.email)),
    Index("ix_staff_roles_email_lower", func.lower(StaffRole.email)),
)
