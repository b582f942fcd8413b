"""How long each room's recordings are kept, and the run that deletes the expired ones
(GDPR art. 5(1)(e): storage limitation; the owner chooses, SPEC P8).

A room keeps its recordings for as long as the contract runs (`retention_months` None) or for N
months after each recording started (1 ≤ N ≤ MAX_MONTHS). A recording that started on day D
(Europe/Warsaw) expires on D + N months (the last day of a shorter month when D does not exist
there) and is deleted by the first `flask portal run-due` on or after that day. A change of the
setting is audited and takes effect at the next run.
"""
from __future__ import annotations

import calendar
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, or_, select

from portal import audit
from portal.customers.models import Recording, Room
from portal.extensions import db
from portal.recordings import deletion
from portal.storage import RecordingStore
from portal.termination.models import DeletionReason
from portal.web.i18n import _

MIN_MONTHS, MAX_MONTHS = 1, 120


class RetentionError(Exception):
    """A retention the portal does not accept; the message is for the owner."""


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` (negative: back), clamped to the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def expires_on(started_at: datetime, months: int) -> date:
    """The day a recording that started at `started_at` is deleted (by that day's run)."""
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return add_months(started_at.astimezone(zone).date(), months)


def last_expired_start_day(today: date, months: int) -> date:
    """The latest start day (Warsaw) whose recordings have expired by `today`: the greatest D
    with add_months(D, months) ≤ today."""
    index = today.year * 12 + today.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    days_there = calendar.monthrange(year, month)[1]
    if today.day >= calendar.monthrange(today.year, today.month)[1] or today.day > days_there:
        return date(year, month, days_there)
    return date(year, month, today.day)


def _start_of_next_day_utc(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def set_retention(room: Room, months: int | None, identity_id: int) -> bool:
    """The owner sets how long `room` keeps its recordings (None: until the contract ends).
    Returns False when nothing changed. Raises RetentionError for a value out of bounds."""
    if months is not None and not MIN_MONTHS <= months <= MAX_MONTHS:
        raise RetentionError(_("Choose between %(low)d and %(high)d months.", low=MIN_MONTHS, high=MAX_MONTHS))
    if room.retention_months == months:
        return False
    before = room.retention_months
    room.retention_months = months
    audit.record("room_retention_changed", actor_id=identity_id, customer_id=room.customer_id,
                 room_id=room.id, room=room.name, before=before, after=months)
    db.session.flush()
    return True


@dataclass
class RetentionReport:
    deleted: int = 0  # recordings deleted by this run, finished deletions included
    receipts: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        lines = [f"retention: {self.deleted} recording(s) deleted, {len(self.receipts)} receipt(s) issued"]
        lines += [f"retention: NOT finished: {failure}" for failure in self.failures]
        return lines


def run_retention(today: date, store: RecordingStore, *, batch_size: int = deletion.BATCH_SIZE) -> RetentionReport:
    """Finish any deletion left open, then delete every recording whose room's retention has
    passed by `today`: one receipt per customer and run; issuing it queues the customer's e-mail
    summary.
    Commits as it goes; safe to run again after a crash."""
    report = RetentionReport()
    finished, failures = deletion.finish_unfinished(store, batch_size=batch_size)
    report.deleted += finished
    report.failures += [str(f) for f in failures]
    rooms = db.session.execute(
        select(Room.id, Room.customer_id, Room.retention_months).where(Room.retention_months.is_not(None))
        .order_by(Room.customer_id, Room.id)).all()
    by_customer: dict[int, list] = defaultdict(list)
    for room in rooms:
        cutoff = _start_of_next_day_utc(last_expired_start_day(today, room.retention_months))
        by_customer[room.customer_id].append(and_(Recording.room_id == room.id, Recording.started_at < cutoff))
    db.session.commit()
    for customer_id, conditions in by_customer.items():
        receipt = deletion.start_deletion(customer_id, or_(*conditions), reason=DeletionReason.RETENTION)
        if receipt is None:
            db.session.rollback()
            continue
        receipt_id = receipt.id
        db.session.commit()
        try:
            report.deleted += deletion.finish_deletion(receipt_id, store, batch_size=batch_size)
        except deletion.DeletionFailed as failure:
            report.failures.append(str(failure))
            continue
        report.receipts.append(receipt_id)
    return report

