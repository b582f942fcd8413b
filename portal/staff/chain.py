"""How far the audit chain is known to verify, for the audit-log reader (SPEC P11).

A page never walks the chain: that is `flask portal verify-audit`'s job, on a server, in batches,
and each intact run stores its head as a checkpoint (portal.audit_verify), MACed under the audit
key. An event at or below the newest checkpoint whose MAC holds is "verified"; a chained event
after it "not verified yet"; an event without a position (`seq` None: written, waiting for the
sealer, portal.audit_seal) "not yet sealed". A checkpoint whose MAC does not hold (a database
writer's forgery, or a key no longer configured) verifies nothing, and the page says so.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal import audit_verify
from portal.audit import AuditCheckpoint, AuditEvent, _keys
from portal.extensions import db

VERIFIED, AFTER_CHECKPOINT, UNSEALED = "verified", "after_checkpoint", "unsealed"


@dataclass(frozen=True)
class ChainState:
    head: str | None  # "SEQ:HASH" of the newest chained event: the head to record elsewhere
    checkpoint_seq: int | None  # the newest position verify-audit found intact (MAC checked)
    checkpoint_at: datetime | None
    checkpoint_refused: bool = False  # a checkpoint is stored but its MAC does not hold

    def of(self, seq: int | None) -> str:
        """VERIFIED, AFTER_CHECKPOINT or UNSEALED for an event at chain position `seq`."""
        if seq is None:
            return UNSEALED
        if self.checkpoint_seq is not None and seq <= self.checkpoint_seq:
            return VERIFIED
        return AFTER_CHECKPOINT


def chain_state() -> ChainState:
    """The head and the newest checkpoint: two indexed single-row queries."""
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    head_text = f"{head.seq}:{head.hash}" if head else None
    checkpoint = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)).first()
    if checkpoint is None:
        return ChainState(head_text, None, None)
    key = _keys()[1].get(checkpoint.mac_key_id)
    expected = key and audit_verify._checkpoint_mac(checkpoint.seq, checkpoint.hash, checkpoint.key_ids,
                                                    checkpoint.verified_at, key)
    if not expected or not hmac.compare_digest(checkpoint.mac, expected):
        return ChainState(head_text, None, None, checkpoint_refused=True)
    return ChainState(head_text, checkpoint.seq, checkpoint.verified_at)
