"""`flask portal dev`: database, demo data, local OpenID provider and the portal, in one command."""
from __future__ import annotations

import signal
import sys
import threading
import time
from urllib.parse import urlsplit

import click
from flask_migrate import upgrade
from sqlalchemy import func, select
from werkzeug.serving import run_simple

from portal.customers.models import Customer
from portal.demo.identities import DEMO_IDENTITIES, provider_claims
from portal.devprovider import ProviderProcess
from portal.extensions import db


def _start_mail_sender(app, every_seconds: float = 15) -> None:
    """What cron does in production: deliver queued e-mail the after-response attempt missed."""
    from portal import mail

    def loop():
        while True:
            time.sleep(every_seconds)
            with app.app_context():
                try:
                    mail.deliver_due()
                except Exception:  # keep trying; the outbox keeps every message
                    app.logger.exception("mail delivery failed")

    threading.Thread(target=loop, daemon=True, name="mail-sender").start()


def demo_people(known: set[str]) -> list[dict]:
    """Provider claims for every authorized person in the database whose e-mail the local
    provider does not know yet (e.g. one the customer added during the demo): their subject is
    their e-mail address, confirmed, so they can sign in and take up the invitation."""
    from portal.people.models import Delegate

    people = db.session.execute(select(Delegate.email, Delegate.name).where(Delegate.email.is_not(None))).all()
    return [{"sub": email, "email": email, "email_verified": True, "name": name}
            for email, name in people if email not in known]


def _start_provider_sync(app, provider: ProviderProcess, every_seconds: float = 3) -> None:
    """Keep the local provider's users in step with the demo's authorized persons."""
    known = {ident["email"] for ident in DEMO_IDENTITIES}

    def loop():
        while True:
            with app.app_context():
                try:
                    for claims in demo_people(known):
                        provider.set_user(claims)
                        known.add(claims["email"])
                except Exception:  # the demo goes on; the next round tries again
                    app.logger.exception("could not add a demo person to the local provider")
                finally:
                    db.session.remove()
            time.sleep(every_seconds)

    threading.Thread(target=loop, daemon=True, name="provider-sync").start()


def run(app, *, host: str, port: int, provider_port: int) -> None:
    with app.app_context():
        upgrade()
        if not db.session.scalar(select(func.count(Customer.id))):
            from portal.demo.data import load_demo

            load_demo()
            db.session.commit()
            click.echo("Loaded the demo data.")
    primary = app.config["OIDC_PROVIDERS"][0]
    provider = None
    issuer = urlsplit(primary.issuer)
    if issuer.hostname == "127.0.0.1" and issuer.port == provider_port:
        provider = ProviderProcess(provider_port, provider_claims()).start()
        click.echo(f"Local OpenID provider: {provider.issuer}")
        click.echo("Demo identities (pick one on the provider's page):")
        for ident in DEMO_IDENTITIES:
            click.echo(f"  {ident['sub']:<18} {ident['email']:<28} {ident['role']}")
        click.echo("  a person you authorize during the demo: their e-mail address as the subject")
        _start_provider_sync(app, provider)
    _start_mail_sender(app)
    click.echo(f"Portal: http://{host}:{port}/  (e-mail goes to {app.config['SMTP_URL'] or 'instance/outbox/*.eml'})")
    # SIGTERM (kill, a process manager, a CI timeout) ends Python without unwinding, so the finally
    # below would not stop the provider and it would keep its port; exit as Ctrl+C does instead
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    try:
        # app.run() refuses to block inside a `flask` command; the development server itself does not
        run_simple(host, port, app, threaded=True)
    finally:
        if provider:
            provider.stop()
