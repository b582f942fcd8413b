"""Links: absolute ones for e-mails and documents, and the relative ones pages are made of.

Absolute links are built from PORTAL_EXTERNAL_URL, never from the request: a `Host` or `X-Forwarded-Host` header is whatever the sender wrote, and
a link built from it would make the portal's own e-mail carry someone else's address (host
header poisoning, a phishing relay). Works without a request too, so cron jobs write links.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app, has_request_context, request, url_for


def external_url(endpoint: str, **values) -> str:
    """`https://portal.example/path?query` for `endpoint`, as `url_for` would build it.

    Raises werkzeug.routing.BuildError for an unknown endpoint or missing values.
    """
    base = urlsplit(current_app.config["EXTERNAL_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


# Pages build tens of links each (navigation, forms, one or two per listed row), and werkzeug's
# URL building costs about as much as rendering the row. A relative link is a pure function of the
# app's URL map, the endpoint, its values and the mount point (SCRIPT_NAME), so each app keeps them,
# bounded. The portal has no url_defaults, subdomains or host matching that would add to that.
_PASSED_THROUGH = frozenset({"_external", "_scheme", "_method"})


def page_url(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)`, remembered for relative links built during a request.

    Anything else (outside a request, a blueprint-relative `.endpoint`, `_external`, `_scheme`,
    `_method`, unhashable values) goes straight to `url_for`. Raises what `url_for` raises.
    """
    if endpoint[:1] == "." or not has_request_context() or not _PASSED_THROUGH.isdisjoint(values):
        return url_for(endpoint, **values)
    key = tuple(sorted(values.items()))
    try:
        hash(key)
    except TypeError:
        return url_for(endpoint, **values)
    return current_app.extensions["portal_page_urls"](request.script_root, endpoint, key)


def init_app(app) -> None:
    @lru_cache(maxsize=4096)
    def relative_url(script_root: str, endpoint: str, values: tuple) -> str:
        return app.url_for(endpoint, **dict(values))

    app.extensions["portal_page_urls"] = relative_url
    app.jinja_env.globals["url_for"] = page_url
