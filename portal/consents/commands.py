"""`flask portal …` commands of the consents domain."""
from __future__ import annotations

import csv
import sys
from typing import TextIO

import click

from portal.cli import portal_cli
from portal.consents import services
from portal.consents.registry import CHANNELS
from portal.extensions import db

BATCH = 5000


def write_audience(channel: str, out: TextIO) -> int:
    """Write the CSV of who may receive product notifications by `channel` now; returns the row count."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["customer_number", "name", "email" if channel == "email" else "phone"])
    rows = 0
    # streamed: a million customers never sit in memory at once
    result = db.session.execute(services.audience_query(channel).execution_options(yield_per=BATCH))
    for partition in result.partitions():
        writer.writerows((row.number, f"{row.first_name} {row.last_name}", row.contact) for row in partition)
        rows += len(partition)
    return rows


@portal_cli.command("audience")
@click.option("--channel", required=True, type=click.Choice(CHANNELS),
              help="email, sms or phone (voice calls)")
def audience(channel: str) -> None:
    """CSV of the contacts that may receive information about new products by CHANNEL right now.

    Only customers whose newest consent event for the channel gives consent; terminated
    customers are left out. Service messages do not need this list: they go to every customer.
    """
    write_audience(channel, sys.stdout)
