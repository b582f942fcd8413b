"""Security headers for every response (SPEC P1, P11)."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import abort, request


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(provider_issuers: list[str]) -> str:
    # Sign-out posts a form that is redirected to the provider's end-session endpoint;
    # browsers apply form-action to that redirect, so the providers' origins are listed.
    form_action = " ".join(["'self'", *sorted({_origin(i) for i in provider_issuers})])
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        f"form-action {form_action}",
        "frame-ancestors 'none'",
    ])


def init_app(app) -> None:
    csp = content_security_policy([p.issuer for p in app.config["OIDC_PROVIDERS"]])

    @app.before_request
    def refuse_nul_bytes():
        # no text a person types contains NUL, and PostgreSQL cannot store it: refuse it whole
        if request.method == "POST" and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            if any("\x00" in value for value in request.form.values()):
                abort(400)
        return None

    # the same on every response; a view may have set its own (e.g. a document's CSP or caching)
    always = [("Content-Security-Policy", csp), ("X-Content-Type-Options", "nosniff"),
              ("X-Frame-Options", "DENY"), ("Referrer-Policy", "same-origin"),
              ("Cross-Origin-Opener-Policy", "same-origin"), ("Cross-Origin-Resource-Policy", "same-origin"),
              ("Permissions-Policy", "camera=(), microphone=(), geolocation=()")]

    @app.after_request
    def set_headers(response):
        headers = response.headers
        # one pass over what is there, instead of one `setdefault` scan per header
        present = {name.lower() for name, _ in headers.items()}
        for name, value in always:
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if response.mimetype == "text/html":
            # pages hold personal data: never kept by shared caches or the back/forward cache
            if "cache-control" not in present:
                headers.add("Cache-Control", "no-store")
            response.vary.add("HX-Request")
        return response
