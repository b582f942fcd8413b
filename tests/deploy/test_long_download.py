"""The README's production server (gunicorn -c gunicorn.conf.py) serves a recording to a slow
client to the last byte, however long it takes; a sync worker was killed after `timeout` seconds
mid-download. While it streams, other people are served at once."""
from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from portal import create_app
from portal.extensions import db
from tests import factories
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 2  # gunicorn --timeout, seconds
RATE = 1024 * 1024  # the client reads 1 MB/s
SIZE = 8 * 1024 * 1024  # 8 s at that rate: 4 × the timeout, and more than loopback's socket buffers
SECRET = "long-download-test-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def server(tmp_path_factory, provider):
    """gunicorn as the README starts it (with a short --timeout), over a SQLite database holding
    one customer with an 8 MB recording; yields (url, session cookie, recording id, sha256)."""
    tmp = tmp_path_factory.mktemp("long-download")
    database = f"sqlite:///{tmp / 'portal.sqlite3'}"
    env = {**os.environ, "PORTAL_DATABASE_URL": database, "PORTAL_SECRET_KEY": SECRET,
           "PORTAL_RECORDINGS_DIR": str(tmp / "recordings"), "PORTAL_OIDC_ISSUER": provider.issuer}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], cwd=ROOT, env=env,
                   check=True, capture_output=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database, "SECRET_KEY": SECRET, "TESTING": True,
                      "RECORDINGS_DIR": str(tmp / "recordings"), "OIDC_PROVIDERS": []})
    with app.app_context():
        customer = factories.customer()
        room = factories.room(customer, "Sala")
        content = os.urandom(SIZE)
        recording = factories.recording_with_file(room, tmp / "recordings", "Długie nagranie", content=content)
        identity = factories.identity(customer=customer)
        client = app.test_client()
        factories.signed_in(client, identity)
        cookie = f"portal={client.get_cookie('portal').value}"
        recording_id = recording.id
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    log = open(tmp / "gunicorn.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "--timeout", str(TIMEOUT),
                                "-w", "1", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                               cwd=ROOT, env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if requests.get(f"{url}/healthz", timeout=1).ok:
                break
        except requests.RequestException:
            pass
        assert time.monotonic() < deadline, (tmp / "gunicorn.log").read_text()[-2000:]
        time.sleep(0.2)
    yield url, cookie, recording_id, hashlib.sha256(content).hexdigest(), port
    process.terminate()
    process.wait(10)
    log.close()


def slow_download(port: int, path: str, cookie: str, rate: int, started: threading.Event | None = None) -> bytes:
    """GET `path` over a raw socket with a small receive buffer, reading `rate` bytes a second."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)  # before connect: a small window
    sock.connect(("127.0.0.1", port))
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode())
    received, begun, step = bytearray(), time.monotonic(), 16 * 1024
    while True:
        chunk = sock.recv(step)
        if not chunk:
            break
        received += chunk
        if started is not None and len(received) > 1024 * 1024:
            started.set()
        ahead = len(received) / rate - (time.monotonic() - begun)
        if ahead > 0:
            time.sleep(ahead)
    sock.close()
    if started is not None:
        started.set()
    return bytes(received)


def test_a_slow_client_gets_the_whole_recording(server):
    url, cookie, recording_id, sha256, port = server
    started = time.monotonic()

    raw = slow_download(port, f"/rooms/recordings/{recording_id}", cookie, RATE)

    seconds = time.monotonic() - started
    head, _, body = raw.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    assert seconds > 2 * TIMEOUT  # the download really outlived the worker timeout
    assert len(body) == SIZE, f"{len(body)} of {SIZE} bytes in {seconds:.1f} s"
    assert hashlib.sha256(body).hexdigest() == sha256


def test_others_are_served_while_a_slow_download_streams(server):
    url, cookie, recording_id, _sha256, port = server
    streaming = threading.Event()
    download = threading.Thread(target=slow_download, args=(port, f"/rooms/recordings/{recording_id}", cookie,
                                                            RATE, streaming))
    download.start()
    assert streaming.wait(10)

    answers = []
    for path in ("/readyz", "/rooms", "/account/"):
        begun = time.monotonic()
        response = requests.get(f"{url}{path}", headers={"Cookie": cookie}, allow_redirects=False, timeout=10)
        answers.append((path, response.status_code, time.monotonic() - begun))
    still_streaming = download.is_alive()
    download.join(30)

    assert still_streaming
    assert [(path, status) for path, status, _ in answers] == [("/readyz", 200), ("/rooms", 200), ("/account/", 200)]
    assert max(seconds for *_, seconds in answers) < 1.0, answers
