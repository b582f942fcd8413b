"""Two gunicorn instances over one PostgreSQL and one Redis behave as one portal."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.conftest import CLIENT_ID, CLIENT_SECRET, free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def two_instances(fresh_postgres, provider, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two-instances")
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{fresh_postgres}",
        "PORTAL_SECRET_KEY": "two-instances-share-this-secret-0123456789",
        "PORTAL_OIDC_ISSUER": provider.issuer,
        "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PORTAL_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_REDIS_PREFIX": f"portal-test-{uuid.uuid4().hex}",
        "PORTAL_SIGNIN_RATE_LIMIT": "6 per minute",
        "PORTAL_RECORDINGS_DIR": str(tmp_path),
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    ports = [free_port(), free_port()]
    log = open(tmp_path / "gunicorn.log", "w")
    processes = [subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                  cwd=ROOT, env=env, stdout=log, stderr=log) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    deadline = time.monotonic() + 30
    for url in urls:
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, (tmp_path / "gunicorn.log").read_text()[-2000:]
            time.sleep(0.2)
    yield urls
    for process in processes:
        process.terminate()
        process.wait(10)
    log.close()


def sign_in(browser: requests.Session, portal: str, provider, sub: str) -> None:
    provider.set_user({"sub": sub, "email": f"{sub}@przyklad.pl", "email_verified": True, "name": "Ola Dwa"})
    start = browser.get(f"{portal}/auth/login", allow_redirects=False)
    answer = requests.post(start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    done = browser.get(answer.headers["Location"], allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/")


def csrf_token(browser: requests.Session, url: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', browser.get(url).text).group(1)


def test_a_session_made_on_one_instance_works_on_the_other(two_instances, provider):
    a, b = two_instances
    browser = requests.Session()  # cookies are per host, not per port: one browser, two instances
    sign_in(browser, a, provider, "ola.dwa")

    page = browser.get(f"{b}/account/", allow_redirects=False)

    assert page.status_code == 200 and "Ola Dwa" in page.text


def test_signing_out_on_one_instance_is_honoured_by_the_other(two_instances, provider):
    a, b = two_instances
    browser = requests.Session()
    sign_in(browser, a, provider, "ola.trzy")
    cookie = browser.cookies.copy()

    out = browser.post(f"{a}/auth/logout", data={"csrf_token": csrf_token(browser, f"{a}/account/")},
                       allow_redirects=False)
    assert out.status_code == 303

    # even the old cookie, replayed, is refused on the other instance
    replay = requests.Session()
    replay.cookies.update(cookie)
    page = replay.get(f"{b}/account/", allow_redirects=False)
    assert page.status_code == 302 and "/auth/login" in page.headers["Location"]


def test_the_sign_in_rate_limit_is_shared(two_instances):
    a, b = two_instances
    # alternate between the instances: together they allow 6 per minute, not 6 each
    statuses = [requests.get(f"{url}/auth/login", allow_redirects=False, timeout=5).status_code
                for url in (a, b) * 5]
    assert statuses.count(302) <= 6
    assert statuses[-2:] == [429, 429]
