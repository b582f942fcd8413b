"""The restore drill of docs/deploy.md on PostgreSQL: dump, restore into a fresh database, the audit
chain verifies there (with the head recorded before), and a customer signs in to the restored portal."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from portal import create_app
from portal.auth.provider_config import LINK_KINDS
from portal.config import Provider
from portal.extensions import db
from tests.conftest import CLIENT_ID, CLIENT_SECRET, BrowserLikeClient, _config_for, complete_sign_in
from tests.deploy.conftest import ADMIN

ROOT = Path(__file__).resolve().parents[2]
AUDIT_KEY = "drill:restore-drill-audit-key-0123456789abcdef"


@pytest.fixture
def restored_name(fresh_postgres):
    name = f"{fresh_postgres}_restored"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    yield name
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_dump_restored_into_a_fresh_database_verifies_and_lets_a_customer_sign_in(
        fresh_postgres, restored_name, provider, tmp_path):
    source = f"postgresql://postgres@127.0.0.1:5432/{fresh_postgres}"
    target = f"postgresql://postgres@127.0.0.1:5432/{restored_name}"
    env = {**os.environ, "PORTAL_DATABASE_URL": source, "PORTAL_AUDIT_KEY": AUDIT_KEY,
           "PORTAL_RECORDINGS_DIR": str(tmp_path / "recordings"), "PORTAL_OIDC_ISSUER": provider.issuer}
    env.pop("PORTAL_RECORDINGS_URL", None)

    def flask(*args):
        result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    flask("db", "upgrade")
    flask("portal", "demo")
    head = re.search(r"head (\d+:[0-9a-f]{64})", flask("portal", "verify-audit")).group(1)

    drill = subprocess.run(["scripts/restore-drill.sh", source, target, head], cwd=ROOT, capture_output=True,
                           text=True, timeout=300, env={**env, "PYTHON": sys.executable,
                                                        "DUMP": str(tmp_path / "portal.dump")})

    assert drill.returncode == 0, drill.stdout + drill.stderr
    # a full walk of the restored chain, every event checked, ending at the head recorded before
    events = head.split(":")[0]
    assert f"audit log intact: {events} events ({events} checked from the first event); head {head}" in drill.stdout

    # the restored database is a working portal: Anna (MCX-000123) signs in and sees her account
    app = create_app({**_config_for(target, [Provider("mcx", "MCX", provider.issuer, CLIENT_ID, CLIENT_SECRET,
                                                      links=frozenset(LINK_KINDS), domains=None)],
                                    tmp_path / "recordings"), "AUDIT_KEY_ID": "drill",
                      "AUDIT_KEYS": {"drill": AUDIT_KEY.split(":", 1)[1].encode()}})
    app.test_client_class = BrowserLikeClient
    app.instance_path = str(tmp_path / "instance")
    try:
        with app.app_context():
            provider.set_user({"sub": "anna.kowalska", "email": "anna.kowalska@przyklad.pl", "email_verified": True,
                               "name": "Anna Kowalska"})
            client = app.test_client()
            done = complete_sign_in(client, "anna.kowalska")
            assert done.status_code == 302 and done.headers["Location"].endswith("/account/")
            page = client.get("/account/data").get_data(as_text=True)
            assert "MCX-000123" in page
    finally:
        with app.app_context():
            db.engine.dispose()
