"""Redirect targets a user may be sent to."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request, url_for
from werkzeug.exceptions import HTTPException


def safe_next(target: str | None, default_endpoint: str = "web.index") -> str:
    """Return `target` only if it is a path on this site; otherwise the default page. A control
    character (CR, LF, tab, ...) anywhere refuses it: a Location header cannot carry one
    (Werkzeug raised, a 500), and a browser strips tabs and newlines, which can turn "/\t/x" into
    "//x", another origin (WHATWG URL Standard, "basic URL parser")."""
    if (target and target.startswith("/") and not target.startswith("//") and "\\" not in target
            and not any(ord(c) < 0x20 or ord(c) == 0x7f for c in target)):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for(default_endpoint)


def page_showing(target: str) -> str:
    """The address a GET can show for `target` (a site path with an optional query), for redirects
    back to "the page you were on" (the language switch).

    A form that fails re-renders its page at the address it posted to (/account/contact/address),
    and some of those routes answer POST only: a GET there was 405 and the input was lost. For such
    a path this returns its nearest parent path that a GET answers with a route of its own
    (/account/contact; /staff/corrections/5/reveal → /staff/corrections), query dropped; any other
    target is returned as it is. A path that matches a GET route only through a parameter
    (/privacy/acknowledge would be the policy version "acknowledge") is walked up too.
    """
    adapter = current_app.url_map.bind("", script_name=request.script_root or "/")

    def rule_for(path: str, method: str):
        try:
            return adapter.match(path, method=method, return_rule=True)[0]
        except HTTPException:  # NotFound, MethodNotAllowed, a redirect to add a slash
            return None

    path = urlsplit(target).path
    posted_to = rule_for(path, "POST")
    shown = rule_for(path, "GET")
    if posted_to is None or "GET" in posted_to.methods or (shown is not None and shown.rule == posted_to.rule):
        return target
    while path not in ("", "/"):
        path = path.rstrip("/").rsplit("/", 1)[0] or "/"
        if rule_for(path, "GET") is not None:
            return path
    return url_for("web.index")
