"""`portal dev` stopped by SIGTERM (a process manager, `kill`, a CI step's timeout) stops the local
OpenID provider it started: otherwise the provider keeps its port and the next `portal dev` fails."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_sigterm_stops_the_local_provider_with_the_portal(tmp_path):
    portal_port, provider_port = free_port(), free_port()
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PORTAL_DATABASE_URL": f"sqlite:///{tmp_path}/portal.sqlite3",
           "PORTAL_RECORDINGS_DIR": str(tmp_path / "recordings"),
           "PORTAL_OIDC_ISSUER": f"http://127.0.0.1:{provider_port}", "PORTAL_ENV": "development"}
    env.pop("PORTAL_RECORDINGS_URL", None)
    dev = subprocess.Popen([sys.executable, "-m", "flask", "--app", str(root / "wsgi.py"), "portal", "dev",
                            "--port", str(portal_port), "--provider-port", str(provider_port)],
                           cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    try:
        assert wait_for(lambda: listening(portal_port) and listening(provider_port), 60)

        dev.send_signal(signal.SIGTERM)

        assert dev.wait(timeout=20) is not None
        assert wait_for(lambda: not listening(provider_port), 10), "the provider outlived `portal dev`"
    finally:
        try:  # whatever failed, leave no portal or provider behind (they share the new session's group)
            os.killpg(dev.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
