"""Links: absolute ones for e-mails and documents, and the relative ones pages are made of.

Absolute links are built from PORTAL_EXTERNAL_URL, never from the request: a `Host` or `X-Forwarded-Host` header is whatever the sender wrote, and
a link built from it would make the portal's own e-mail carry someone else's address (host
header poisoning, a phishing relay). Works without a request too, so cron jobs write links.
"""
from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from flask import current_app, url_for
from flask.globals import _cv_request


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
_LONGEST_REMEMBERED = 200  # characters of string values in one remembered link


def page_url(endpoint: str, **values) -> str:
    """`url_for(endpoint, **values)`, remembered for relative links built during a request.

    Anything else (outside a request, a blueprint-relative `.endpoint`, `_external`, `_scheme`,
    `_method`, a value other than a str, int or None, strings longer than 200 characters in all) goes
    straight to `url_for`. Raises what `url_for` raises.
    """
    # the request's context itself, once: `request` and `current_app` are proxies that look it up
    # on every use, and a page builds tens of links
    context = _cv_request.get(None)
    if endpoint[:1] == "." or context is None or not _PASSED_THROUGH.isdisjoint(values):
        return url_for(endpoint, **values)
    # only plain strings and integers, short: equal keys must mean equal links (1 == True == 1.0,
    # but url_for writes "1", "True", "1.0"), and a value someone sent (the sign-in page's `next`)
    # must not make each remembered link kilobytes long
    size = 0
    for value in values.values():
        if isinstance(value, str):
            size += len(value)
        elif type(value) is not int and value is not None:
            return url_for(endpoint, **values)
    if size > _LONGEST_REMEMBERED:
        return url_for(endpoint, **values)
    key = tuple(sorted(values.items()))
    return context.app.extensions["portal_page_urls"](context.request.script_root, endpoint, key)


def init_app(app) -> None:
    @lru_cache(maxsize=4096)
    def relative_url(script_root: str, endpoint: str, values: tuple) -> str:
        return app.url_for(endpoint, **dict(values))

    app.extensions["portal_page_urls"] = relative_url
    app.jinja_env.globals["url_for"] = page_url
