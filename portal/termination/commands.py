"""`flask portal …` commands of the termination domain."""
from __future__ import annotations

import sys

import click
from flask import g

from portal.cli import portal_cli
from portal.extensions import db


@portal_cli.command("run-due")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Carry out what is due on this date (default: today in Europe/Warsaw).")
def run_due(today) -> None:
    """Carry out every termination whose effective date has come, then delete the recordings whose
    room's retention period has passed, then send the privacy officers the day's digest of
    data-subject requests due within 5 days (run it daily from cron or a timer).

    Exits 1 when a termination could not be completed (e.g. a file that cannot be deleted);
    running again finishes what is left.
    """
    from portal import audit, mail
    from portal.db_types import local_today
    from portal.dsar.digest import send_digest
    from portal.recordings.retention import run_retention
    from portal.storage import recording_store
    from portal.termination import services

    day = today.date() if today else local_today()
    report = services.run_due(today=day)
    for line in report.summary():
        click.echo(line)
    # then the rooms' retention periods (and any deletion of recordings a crash left open)
    retention = run_retention(day, recording_store())
    for line in retention.summary():
        click.echo(line)
    # the privacy officers' daily digest of data-subject requests coming due (once a day)
    listed = send_digest(day)
    db.session.commit()
    if listed:
        click.echo(f"digest of {listed} data-subject request(s) due within 5 days sent to the privacy officers")
    queued = g.pop("queued_mail", None)
    if queued:
        # the customers' receipts go out now; `portal send-mail` retries any that fail
        mail.deliver_due(only=queued)
    # chain any audit events an earlier after-commit seal had to leave (another sealer was busy)
    audit.seal(wait=True, timeout=30.0)
    if report.count("in_progress") or retention.failures:
        sys.exit(1)
    from portal.observability.models import record_success

    record_success("run-due")  # watched as portal_run_due_last_success_timestamp_seconds
