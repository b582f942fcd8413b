"""Absolute links for e-mails and documents, built from PORTAL_EXTERNAL_URL.

Never from the request: a `Host` or `X-Forwarded-Host` header is whatever the sender wrote, and
a link built from it would make the portal's own e-mail carry someone else's address (host
header poisoning, a phishing relay). Works without a request too, so cron jobs write links.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app


def external_url(endpoint: str, **values) -> str:
    """`https://portal.example/path?query` for `endpoint`, as `url_for` would build it.

    Raises werkzeug.routing.BuildError for an unknown endpoint or missing values.
    """
    base = urlsplit(current_app.config["EXTERNAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)
