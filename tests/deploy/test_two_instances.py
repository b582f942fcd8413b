"""Two gunicorn instances over one PostgreSQL and one Redis behave as one portal."""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest
import requests

from tests.conftest import CLIENT_ID, CLIENT_SECRET, free_port

METRICS_TOKEN = "deploy-metrics-token"

ROOT = Path(__file__).resolve().parents[2]


class Instances(list):
    """The instances' base URLs, with the environment they share and each one's log file."""

    env: dict
    logs: list[Path]
    s3_url: str


@pytest.fixture(scope="module")
def two_instances(fresh_postgres, provider, s3_server, tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("two-instances")
    env = {
        **os.environ,
        "PORTAL_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{fresh_postgres}",
        "PORTAL_SECRET_KEY": "two-instances-share-this-secret-0123456789",
        "PORTAL_AUDIT_KEY": "deploy:two-instances-share-this-audit-key-0123456789",
        "PORTAL_OIDC_ISSUER": provider.issuer,
        "PORTAL_OIDC_CLIENT_ID": CLIENT_ID,
        "PORTAL_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "PORTAL_REDIS_URL": "redis://127.0.0.1:6379/0",
        "PORTAL_REDIS_PREFIX": f"portal-test-{uuid.uuid4().hex}",
        "PORTAL_SIGNIN_RATE_LIMIT": "6 per minute",
        # recordings live in the S3 server both instances reach, never on either one's disk
        "PORTAL_RECORDINGS_DIR": str(tmp_path / "no-recordings-here"),
        "PORTAL_RECORDINGS_URL": s3_server.fresh_url(),
        **s3_server.env,
        "PORTAL_LOG_FORMAT": "json",
        "PORTAL_METRICS_TOKEN": METRICS_TOKEN,
        # as behind nginx: the client address and the request id come from the proxy's headers
        "PORTAL_PROXY_COUNT": "1",
    }
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    ports = [free_port(), free_port()]
    logs = [tmp_path / f"gunicorn-{i}.log" for i in range(2)]
    handles = [open(log, "w") for log in logs]
    # the second instance runs two workers: its metrics must add up over both (multiprocess mode)
    processes = [subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", str(i + 1), "-b", f"127.0.0.1:{port}",
                                   "wsgi:app"], cwd=ROOT, stdout=handle, stderr=handle,
                                  env={**env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / f"metrics-{i}")})
                 for i, (port, handle) in enumerate(zip(ports, handles))]
    urls = Instances(f"http://127.0.0.1:{port}" for port in ports)
    urls.env, urls.logs, urls.s3_url = env, logs, env["PORTAL_RECORDINGS_URL"]
    deadline = time.monotonic() + 30
    for url, log in zip(urls, logs):
        while True:
            try:
                if requests.get(f"{url}/readyz", timeout=1).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, log.read_text()[-2000:]
            time.sleep(0.2)
    yield urls
    for process in processes:
        process.terminate()
        process.wait(10)
    for handle in handles:
        handle.close()


def sign_in(browser: requests.Session, portal: str, provider, sub: str, email: str | None = None) -> requests.Response:
    provider.set_user({"sub": sub, "email": email or f"{sub}@przyklad.pl", "email_verified": True, "name": "Ola Dwa"})
    start = browser.get(f"{portal}/auth/login", allow_redirects=False)
    answer = requests.post(start.headers["Location"], data={"sub": sub}, allow_redirects=False, timeout=10)
    done = browser.get(answer.headers["Location"], allow_redirects=False)
    assert done.status_code == 302 and done.headers["Location"].endswith("/account/")
    return done


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


# --- recordings in the object store, metrics, logs (issue 19) -----------------------------------

def flask_command(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "portal", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def import_customer_with_a_recording(instances, s3_server, tmp_path, number: str, email: str) -> bytes:
    """The order system's export, imported by the first instance's command; the recording was
    uploaded to the bucket beforehand, with its SHA-256 checksum, as the recording system does."""
    content = os.urandom(300_000)
    store_url = urlsplit(instances.s3_url)
    key = f"{number}/rec1.mp4"
    s3_server.client().put_object(Bucket=store_url.netloc, Key=f"{store_url.path.strip('/')}/{key}", Body=content,
                                  ChecksumAlgorithm="SHA256")
    document = {"customers": [{
        "number": number, "kind": "person", "first_name": "Ola", "last_name": "Nagraniowa", "email": email,
        "address": {"street": "ul. Prosta 1", "postal_code": "00-001", "city": "Warszawa", "country": "PL"},
        "contract": {"number": f"U/{number}", "signed_on": "2025-01-15", "services": ["recorded_video_room"]},
        "rooms": [{"key": "r1", "name": "Sala zarządu", "kind": "recorded_video_room", "recordings": [
            {"key": "rec1", "title": "Zarząd", "started_at": "2025-02-03T10:00:00Z", "duration_s": 60,
             "file": key, "size_bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}]}],
    }]}
    path = tmp_path / f"{number}.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = flask_command(instances.env, "import", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    return content


def test_a_recording_imported_through_one_is_served_by_the_other_and_a_termination_deletes_it_for_both(
        two_instances, provider, s3_server, tmp_path):
    a, b = two_instances
    content = import_customer_with_a_recording(two_instances, s3_server, tmp_path, "MCX-900001",
                                               "ola.nagrania@przyklad.pl")
    browser = requests.Session()
    browser.headers["X-Forwarded-For"] = "198.51.100.21"  # another client than the rate-limit test's
    sign_in(browser, a, provider, "ola.nagrania", "ola.nagrania@przyklad.pl")
    [recording_url] = set(re.findall(r'href="(/rooms/recordings/\d+)"', browser.get(f"{b}/rooms").text))

    whole = browser.get(f"{b}{recording_url}")
    part = browser.get(f"{a}{recording_url}", headers={"Range": "bytes=299000-"})

    assert whole.status_code == 200 and hashlib.sha256(whole.content).digest() == hashlib.sha256(content).digest()
    assert part.status_code == 206 and part.content == content[299000:]

    page = browser.get(f"{a}/account/termination/request").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    requested = browser.post(f"{a}/account/termination/request", allow_redirects=False,
                             data={"csrf_token": token, "customer_number": "MCX-900001"})
    assert requested.status_code == 303
    # the termination is carried out by the other host's timer
    result = flask_command(two_instances.env, "run-due", "--today", "2099-12-31")
    assert result.returncode == 0 and "MCX-900001): completed" in result.stdout, result.stdout + result.stderr

    store_url = urlsplit(two_instances.s3_url)
    assert [v for v in s3_server.all_versions(store_url.netloc, store_url.path.strip("/") + "/MCX-900001/")] == []
    assert browser.get(f"{a}{recording_url}").status_code == 404
    assert browser.get(f"{b}{recording_url}").status_code == 404


def scrape(url: str) -> dict[str, float]:
    from prometheus_client.parser import text_string_to_metric_families

    response = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=5)
    assert response.status_code == 200
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_metrics_add_up_over_the_workers_of_an_instance(two_instances):
    _a, b = two_instances  # b runs two workers
    key = "portal_http_requests_total{endpoint=web.healthz,method=GET,status=200}"
    assert requests.get(f"{b}/metrics", timeout=5).status_code == 401
    before = scrape(b).get(key, 0)

    for _ in range(20):  # a new connection each time: gunicorn hands them to either worker
        assert requests.get(f"{b}/healthz", timeout=5, headers={"Connection": "close"}).ok

    assert scrape(b)[key] - before == 20


def test_the_json_log_line_and_the_audit_event_of_a_request_carry_the_same_request_id(two_instances, provider):
    a, _b = two_instances
    browser = requests.Session()
    rid = f"nginx-{uuid.uuid4().hex}"  # the trusted proxy's id for the request (nginx: $request_id)
    browser.headers.update({"X-Forwarded-For": "198.51.100.22", "X-Request-ID": rid})
    done = sign_in(browser, a, provider, "ola.logi")
    assert done.headers["X-Request-ID"] == rid

    lines = [json.loads(line) for line in two_instances.logs[0].read_text().splitlines() if line.startswith("{")]
    [line] = [line for line in lines if line.get("request_id") == rid and line["route"] == "auth.callback"]
    assert line["route"] == "auth.callback" and line["status"] == 302 and isinstance(line["identity_id"], int)
    assert "ola.logi" not in json.dumps(line) and "Ola" not in json.dumps(line)
    with psycopg.connect(two_instances.env["PORTAL_DATABASE_URL"]) as conn:
        kinds = [row[0] for row in conn.execute(
            "SELECT kind FROM audit_events WHERE data::jsonb ->> 'http_request_id' = %s", (rid,))]
    assert "sign_in" in kinds
