"""When each scheduled job last finished successfully (the `portal_job_last_success` gauge)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from portal.db_types import UTCDateTime, utcnow
from portal.extensions import db


class JobRun(db.Model):
    __tablename__ = "job_runs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_success_at: Mapped[datetime] = mapped_column(UTCDateTime)


def record_success(name: str) -> None:
    """Note that job `name` (e.g. "run-due") just finished with nothing left undone; commits."""
    run = db.session.scalar(select(JobRun).where(JobRun.name == name).with_for_update())
    if run is None:
        db.session.add(JobRun(name=name, last_success_at=utcnow()))
    else:
        run.last_success_at = utcnow()
    db.session.commit()
