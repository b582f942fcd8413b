"""Start and stop a local OpenID provider process (oidc-provider-mock) on loopback.

Used by `flask portal dev` and by the test suite, so both sign in over real HTTP.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import requests


class ProviderProcess:
    def __init__(self, port: int, users: list[dict], host: str = "127.0.0.1", log=None):
        self.host, self.port, self.users = host, port, users
        self.log = log if log is not None else subprocess.DEVNULL
        self.process: subprocess.Popen | None = None

    @property
    def issuer(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 20) -> ProviderProcess:
        args = [sys.executable, "-m", "portal.devprovider", "--host", self.host, "--port", str(self.port),
                "--require-nonce"]
        for user in self.users:
            args += ["--user-claims", json.dumps(user)]
        self.process = subprocess.Popen(args, stdout=self.log, stderr=self.log,
                                        env={**os.environ, "NO_COLOR": "1"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"OpenID provider exited with {self.process.returncode} (port {self.port} busy?)")
            try:
                if requests.get(self.issuer + "/.well-known/openid-configuration", timeout=1).ok:
                    return self
            except requests.RequestException:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"OpenID provider did not answer on {self.issuer} within {timeout}s")

    def set_user(self, claims: dict) -> None:
        """Create or replace a user (the provider's own admin endpoint)."""
        sub = claims["sub"]
        body = {k: v for k, v in claims.items() if k != "sub"}
        requests.put(f"{self.issuer}/users/{sub}", json=body, timeout=5).raise_for_status()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None


def main() -> None:
    """Run oidc-provider-mock, with `auth_time` in its ID tokens (OIDC Core §2).

    The mock keeps no session: the person authenticates at every authorization, and the code is
    redeemed seconds later, so the redemption time is the authentication time. Without it the
    portal could not tell a fresh sign-in (`prompt=login`, `max_age`) from an old one.
    """
    from oidc_provider_mock import _storage
    from oidc_provider_mock.__main__ import run

    _storage.AuthorizationCode.get_auth_time = lambda _code: int(time.time())
    run()


if __name__ == "__main__":
    main()
