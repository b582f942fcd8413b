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

    @app.after_request
    def set_headers(response):
        headers = response.headers
        headers.setdefault("Content-Security-Policy", csp)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if response.mimetype == "text/html":
            # pages hold personal data: never kept by shared caches or the back/forward cache
            headers.setdefault("Cache-Control", "no-store")
            response.vary.add("HX-Request")
        return response
