#!/usr/bin/env python3
"""CPU per anonymous request, whatever its parameters (issue #15, item 6: at most 50 ms).

    python scripts/bench_anonymous.py            # every public route x every hostile variant
    python scripts/bench_anonymous.py --top 30

Enumerates the app's routes (app.url_map) and sends each one, without signing in, GET and POST
with hostile variants: a query string of 10,000 parameters, 100 KB values, a deep Accept-Language,
huge and many cookies, 100 big headers, thousands of Range parts, 10,000 form fields, multi-part
bodies of thousands of parts, 1 MB and 20 MB bodies, huge and forged OIDC state/code and
back-channel logout tokens. Each request runs in-process (Flask test client, SQLite demo data)
and its CPU time is measured with time.process_time (this process, single-threaded). Prints the
worst cases and, beside them, a reference measured in the same run: the cheapest request (GET
/healthz). gunicorn's own limits (request line 4094 bytes, 100 header fields of 8190 bytes, see
gunicorn.conf.py) refuse some of these before the portal; they are measured here anyway.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LIMIT_MS = 50


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def variants() -> dict[str, dict]:
    """name → request keyword arguments (query_string, headers, data, content_type)."""
    many_params = "&".join(f"p{i}={i}" for i in range(10_000))
    fake_jwt = ".".join([b64(json.dumps({"alg": "RS256", "kid": "x" * 5000}).encode()),
                         b64(json.dumps({"iss": "x" * 50_000, "events": {"a": [1] * 10_000}}).encode()),
                         b64(b"s" * 512)])
    nested = b64(("[" * 50_000 + "]" * 50_000).encode())
    return {
        "plain": {},
        "10k params": {"query_string": many_params},
        "100KB value": {"query_string": "next=" + "a" * 100_000},
        "10k same key": {"query_string": "&".join(["state=x"] * 10_000)},
        "huge state+code": {"query_string": f"state={'s' * 50_000}&code={'c' * 50_000}&iss={'i' * 10_000}"},
        "deep Accept-Language": {"headers": {"Accept-Language": ",".join(f"x{i};q=0.{i % 9}" for i in range(2_000))}},
        "huge cookie": {"headers": {"Cookie": "portal=" + "A" * 8_000}},
        "many cookies": {"headers": {"Cookie": "; ".join(f"c{i}={i}" for i in range(2_000))}},
        "forged session": {"headers": {"Cookie": "portal=" + b64(b"x" * 3000) + ".YWJj.ZGVm"}},
        "100 big headers": {"headers": {f"X-H{i}": "v" * 8000 for i in range(100)}},
        "5k Range parts": {"headers": {"Range": "bytes=" + ",".join(f"{i * 2}-{i * 2 + 1}" for i in range(5_000))}},
        "10k form fields": {"method": "POST", "data": many_params,
                            "content_type": "application/x-www-form-urlencoded"},
        "5k multipart parts": {"method": "POST", "data": _multipart(5_000),
                               "content_type": "multipart/form-data; boundary=bnd"},
        "1MB form value": {"method": "POST", "data": "logout_token=" + "a" * 1_000_000,
                           "content_type": "application/x-www-form-urlencoded"},
        "20MB body": {"method": "POST", "data": b"x" * 20_000_000, "content_type": "application/octet-stream"},
        "forged logout JWT": {"method": "POST", "data": {"logout_token": fake_jwt}},
        "nested JSON token": {"method": "POST", "data": {"logout_token": f"{nested}.{nested}.{nested}"}},
    }


def _multipart(parts: int) -> bytes:
    return b"".join(f"--bnd\r\nContent-Disposition: form-data; name=\"f{i}\"\r\n\r\nv\r\n".encode()
                    for i in range(parts)) + b"--bnd--\r\n"


def example_url(rule) -> str:
    """A URL for `rule` with plausible values for its arguments."""
    values = {name: ("1" if "int" in type(conv).__name__.lower() else "x")
              for name, conv in rule._converters.items()}
    url = rule.rule
    for name, value in values.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + name + r"(?:\([^)]*\))?>", value, url)
    if "any(" in rule.rule:
        url = re.sub(r"<any\(([^,)]+)[^>]*>", r"\1", url)
    return url


def build_app(workdir: Path):
    os.environ.setdefault("PORTAL_SECRET_KEY", secrets.token_urlsafe(48))
    os.environ.setdefault("PORTAL_AUDIT_KEY", f"bench:{secrets.token_urlsafe(48)}")
    os.environ["PORTAL_DATABASE_URL"] = f"sqlite:///{workdir / 'portal.sqlite3'}"
    os.environ.setdefault("PORTAL_RECORDINGS_DIR", str(workdir / "recordings"))
    os.environ.setdefault("PORTAL_OIDC_SIGNING_KEY_FILE", str(workdir / "oidc-signing-key.pem"))
    # the sign-in rate limit would answer 429 after 20 tries: measure the routes themselves
    os.environ.setdefault("PORTAL_SIGNIN_RATE_LIMIT", "1000000 per minute")
    from flask_migrate import upgrade

    from portal import create_app
    from portal.demo.data import load_demo
    from portal.extensions import db

    app = create_app()
    with app.app_context():
        upgrade()
        load_demo()
        db.session.commit()
    return app


def measure(app, url: str, kwargs: dict, repeat: int) -> tuple[float, int]:
    """Median CPU ms of `repeat` requests, and the status of the last."""
    kwargs = dict(kwargs)
    method = kwargs.pop("method", "GET")
    client = app.test_client()
    times, status = [], 0
    for _ in range(repeat):
        start = time.process_time()
        response = client.open(url, method=method, **kwargs)
        response.get_data()
        times.append((time.process_time() - start) * 1000)
        status = response.status_code
        response.close()
    return statistics.median(times), status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--top", type=int, default=20, help="how many of the worst cases to print")
    parser.add_argument("--repeat", type=int, default=3, help="requests per case (the median is kept)")
    args = parser.parse_args()
    app = build_app(Path(tempfile.mkdtemp(prefix="bench-anon-")))
    reference, _ = measure(app, "/healthz", {}, 20)
    cases = []
    for rule in app.url_map.iter_rules():
        url = "/static/css/portal.css" if rule.endpoint == "static" else example_url(rule)
        for name, kwargs in variants().items():
            method = kwargs.get("method", "GET")
            if method not in rule.methods:
                continue
            cpu, status = measure(app, url, kwargs, args.repeat)
            cases.append((cpu, method, url, name, status))
    cases.sort(reverse=True)
    print(f"{len(cases)} anonymous requests over {len(list(app.url_map.iter_rules()))} routes; "
          f"reference GET /healthz: {reference:.2f} ms CPU")
    print(f"{'CPU ms':>8} {'x ref':>6}  {'status':>6}  request")
    for cpu, method, url, name, status in cases[:args.top]:
        print(f"{cpu:8.2f} {cpu / reference:6.1f}  {status:>6}  {method} {url[:50]} [{name}]")
    over = [c for c in cases if c[0] > LIMIT_MS]
    print(f"\n{len(over)} over {LIMIT_MS} ms" + ("" if not over else ": " + "; ".join(
        f"{m} {u} [{n}] {c:.0f} ms" for c, m, u, n, _ in over)))


if __name__ == "__main__":
    main()
