"""`flask --app wsgi portal …` commands."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from portal import audit
from portal.extensions import db

portal_cli = AppGroup("portal", help="MCX privacy portal commands.")


@portal_cli.command("grant-role")
@click.argument("email")
@click.argument("role", type=click.Choice(["moderator", "privacy_officer"]))
def grant_role(email: str, role: str) -> None:
    """Grant a staff role to EMAIL; it binds at that person's next verified sign-in."""
    from portal.auth.services import RoleError
    from portal.auth.services import grant_role as grant

    try:
        grant(email, role)
    except RoleError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"{role} granted to {email.strip().lower()}")


@portal_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def import_file(file: Path) -> None:
    """Import customers from the order system's JSON export FILE: all of it, or nothing."""
    from portal.crm_import.importer import ImportFailed, import_customers, load_file

    try:
        report = import_customers(load_file(file), Path(current_app.config["RECORDINGS_DIR"]))
    except ImportFailed as failure:
        db.session.rollback()
        for error in failure.errors:
            click.echo(error, err=True)
        click.echo(f"{len(failure.errors)} error(s): nothing was imported.", err=True)
        sys.exit(1)
    db.session.commit()
    for line in report.summary():
        click.echo(line)


@portal_cli.command("demo")
def demo() -> None:
    """Load the demo customers, recordings and staff roles (safe to run again)."""
    from portal.demo.data import load_demo

    if current_app.config["PORTAL_ENV"] == "production":
        # the demo grants staff roles to fixed addresses: never in a real portal
        raise click.ClickException("`portal demo` refuses to run with PORTAL_ENV=production.")
    report = load_demo()
    db.session.commit()
    for line in report.summary():
        click.echo(line)


@portal_cli.command("verify-audit")
@click.option("--head", "expected_head", metavar="SEQ:HASH",
              help="A head printed by an earlier run; detects newest events cut off since.")
@click.option("--full", is_flag=True, help="Walk the whole chain, not only the events after the last checkpoint.")
@click.option("--batch", default=5000, show_default=True, type=click.IntRange(100, 100_000),
              help="Events read per transaction (and held in memory).")
def verify_audit(expected_head: str | None, full: bool, batch: int) -> None:
    """Check the audit log's hash chain; exit 1 naming the first broken event.

    Seals what is settled first, then walks the events after the last verified checkpoint
    (kept in `audit_checkpoints`, HMAC-signed) and records the new head as the next checkpoint;
    `--full` walks from the first event (finds tampering before the checkpoint too).
    """
    try:
        result = audit.verify(expected_head, batch, full=full)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--head") from None
    if result.note:
        click.echo(f"note: {result.note}", err=True)
    if result.ok:
        since = f"after the checkpoint at {result.since}" if result.since is not None else "from the first event"
        waiting = f"; {result.pending} newer events still settling" if result.pending else ""
        click.echo(f"audit log intact: {result.events} events ({result.checked} checked {since}{waiting}); "
                   f"head {result.head}")
        return
    click.echo(f"audit log broken at event {result.broken_seq}: {result.reason}", err=True)
    sys.exit(1)


@portal_cli.command("send-mail")
def send_mail() -> None:
    """Deliver queued e-mail whose time has come (run every minute from cron)."""
    from portal import mail

    report = mail.deliver_due()
    click.echo(f"sent {report.sent}, will retry {report.failed}, parked {report.parked}")


@portal_cli.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--provider-port", default=9400, show_default=True)
def dev(host: str, port: int, provider_port: int) -> None:
    """Run the portal with the local OpenID provider and demo data (development only)."""
    from portal import devserver

    if current_app.config["PORTAL_ENV"] == "production":
        raise click.ClickException("`portal dev` is for development; it refuses to run with PORTAL_ENV=production.")
    devserver.run(current_app._get_current_object(), host=host, port=port, provider_port=provider_port)


def init_app(app) -> None:
    from importlib import import_module

    from portal import DOMAINS

    for domain in DOMAINS:
        # importing a domain's commands module adds its commands to `portal_cli`
        try:
            import_module(f"portal.{domain}.commands")
        except ModuleNotFoundError as error:
            if error.name != f"portal.{domain}.commands":
                raise
    app.cli.add_command(portal_cli)
