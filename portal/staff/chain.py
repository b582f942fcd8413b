"""How far the audit chain is known to verify, for the audit-log reader (SPEC P11).

Kept to this one module so it can follow how portal.audit seals and verifies: today (main) every
event is chained as it is written and `flask portal verify-audit` walks the chain; where
portal.audit keeps verification checkpoints (`AuditCheckpoint`: a head that verify-audit found
intact), an event at or below the newest checkpoint is "verified", a chained event after it "not
verified yet", and an event without a position (`seq` None, waiting for the sealer) "not yet
sealed". A page never walks the chain: that is verify-audit's job, on a server, in batches.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from portal import audit
from portal.audit import AuditEvent
from portal.extensions import db

VERIFIED, AFTER_CHECKPOINT, UNSEALED = "verified", "after_checkpoint", "unsealed"


@dataclass(frozen=True)
class ChainState:
    head: str | None  # "SEQ:HASH" of the newest chained event: the head to record elsewhere
    checkpoint_seq: int | None  # the newest position verify-audit found intact, if it keeps checkpoints
    checkpoint_at: datetime | None

    def of(self, seq: int | None) -> str:
        """VERIFIED, AFTER_CHECKPOINT or UNSEALED for an event at chain position `seq`."""
        if seq is None:
            return UNSEALED
        if self.checkpoint_seq is not None and seq <= self.checkpoint_seq:
            return VERIFIED
        return AFTER_CHECKPOINT


def chain_state() -> ChainState:
    """The head and the last checkpoint: two indexed single-row queries (one without checkpoints)."""
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq.is_not(None))
                              .order_by(AuditEvent.seq.desc()).limit(1)).first()
    checkpoint_model = getattr(audit, "AuditCheckpoint", None)
    checkpoint = None
    if checkpoint_model is not None:
        checkpoint = db.session.execute(select(checkpoint_model.seq, checkpoint_model.verified_at)
                                        .order_by(checkpoint_model.seq.desc()).limit(1)).first()
    return ChainState(f"{head.seq}:{head.hash}" if head else None,
                      checkpoint.seq if checkpoint else None, checkpoint.verified_at if checkpoint else None)
