"""The misbehaving provider (tests/support/evil_provider.py), a real process, for the auth tests."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from portal.auth import oidc
from portal.config import Provider
from tests.conftest import CLIENT_ID, CLIENT_SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]
USER = {"sub": "evil-user", "email": "ofiara@przyklad.pl", "email_verified": True, "name": "Ofiara"}


@pytest.fixture(scope="session")
def evil_provider(tmp_path_factory):
    port = free_port()
    log = open(tmp_path_factory.mktemp("evil") / "provider.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "tests.support.evil_provider", "--port", str(port)],
                               cwd=ROOT, stdout=log, stderr=log)
    issuer = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).ok:
                break
        except requests.RequestException:
            time.sleep(0.1)
    yield issuer
    process.terminate()
    process.wait(5)
    log.close()


@pytest.fixture
def evil(app, evil_provider):
    """Configure the misbehaving provider in the app, next to the regular ones."""
    provider = Provider("evil", "Evil", evil_provider, CLIENT_ID, CLIENT_SECRET,
                        links=frozenset({"customers", "delegates", "staff"}), domains=None)
    app.config["OIDC_PROVIDERS"].append(provider)
    oidc.register(app, provider)

    def control(mode="normal", **extra):
        requests.post(f"{evil_provider}/_control", json={"mode": mode, "claims": USER, **extra},
                      timeout=5).raise_for_status()

    control.issuer = evil_provider
    yield control
    control("normal")
