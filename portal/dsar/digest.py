"""The privacy officers' daily digest of data-subject requests coming due (GDPR art. 12(3)):
sent by `flask portal run-due`, at most once a day however often it runs."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import mail
from portal.auth.models import StaffRole
from portal.dsar import queue
from portal.dsar.models import DsarDigest
from portal.dsar.texts import KINDS
from portal.extensions import db
from portal.web.links import external_url

WITHIN_DAYS = 5


def send_digest(today: date) -> int | None:
    """Queue the digest of cases due within 5 days (and overdue) to every privacy officer.

    Returns the number of cases listed, or None when today's digest already went out (a row in
    `dsar_digests` per day, unique, taken in a savepoint: two runs at once send one digest) or
    nothing is due. Flushes; the caller commits.
    """
    cases = queue.due_within(today, WITHIN_DAYS)
    if not cases:
        return None
    try:
        with db.session.begin_nested():
            db.session.add(DsarDigest(day=today, cases=len(cases)))
    except IntegrityError:
        return None
    officers = sorted(set(db.session.scalars(select(StaffRole.email).where(StaffRole.role == "privacy_officer"))))
    for address in officers:
        mail.compose("dsar_digest", to=address, language="pl", kind="dsar_digest", cases=cases, kinds=KINDS,
                     today=today, link=external_url("dsar_staff.queue"))
    return len(cases)
