"""Real headless Chromium (Debian's /usr/bin/chromium) driven by Playwright."""
from __future__ import annotations

import os
import shutil
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

CHROMIUM = os.environ.get("PORTAL_CHROMIUM", "/usr/bin/chromium")
# Running as root needs --no-sandbox; the rest keep Chromium off the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-quic", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's `chromium` package")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


class Tab:
    """A browser tab that blocks, and records, requests to origins other than the allowed ones.

    `foreign_requests` lists those made by the portal's own pages (SPEC P1); the provider's
    pages are not ours to judge, so their requests are only blocked.
    """

    def __init__(self, context, allowed_origins: set[str], portal_origin: str):
        self.context = context
        self.page = context.new_page()
        self.foreign_requests: list[str] = []
        self.console_errors: list[str] = []
        self.page.on("console", lambda msg: msg.type == "error" and self.console_errors.append(msg.text))

        def guard(route):
            parts = urlsplit(route.request.url)
            origin = f"{parts.scheme}://{parts.netloc}"
            if origin in allowed_origins or parts.scheme in ("data", "blob"):
                route.continue_()
            else:
                try:
                    page_url = route.request.frame.url
                except Exception:  # a request from no frame (e.g. a service worker)
                    page_url = ""
                if page_url.startswith(portal_origin) or not page_url:
                    self.foreign_requests.append(route.request.url)
                route.abort()

        context.route("**/*", guard)


@pytest.fixture(params=[True, False], ids=["js-on", "js-off"])
def tab(request, browser, live_server, provider, partner_provider):
    context = browser.new_context(java_script_enabled=request.param, locale="pl-PL")
    context.set_default_timeout(15000)
    t = Tab(context, {live_server.url, provider.issuer, partner_provider.issuer}, live_server.url)
    t.javascript = request.param
    yield t
    context.close()
