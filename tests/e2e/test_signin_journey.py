"""A newcomer signs in as a customer through the real provider, in real Chromium."""
from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from portal.extensions import db
from tests import factories


def sign_in_in_browser(tab, live_server, provider, claims: dict) -> None:
    provider.set_user(claims)
    page = tab.page
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="Zaloguj się przez MCX").click()
    # the provider's own authorization page
    page.wait_for_url(provider.issuer + "/**")
    page.locator("input[name=sub]").fill(claims["sub"])
    page.get_by_role("button", name="Authorize").click()
    page.wait_for_url(live_server.url + "/account/")


def test_customer_signs_in_and_sees_account_home(tab, live_server, provider):
    factories.customer(email="anna.kowalska@przyklad.pl", number="MCX-000123",
                       kind="company", company_name="Przykład Sp. z o.o.", tax_id="5260250995")
    db.session.commit()

    sign_in_in_browser(tab, live_server, provider, {
        "sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl",
        "email_verified": True})

    page = tab.page
    expect(page.get_by_role("heading", level=1)).to_have_text("Dzień dobry, Anna Kowalska")
    expect(page.locator("[data-customer='MCX-000123']")).to_contain_text("Przykład Sp. z o.o.")
    assert tab.foreign_requests == []
    assert [e for e in tab.console_errors if "Content Security Policy" in e] == []
    if tab.javascript:
        assert page.evaluate("typeof htmx") == "object", "htmx did not load from /static"

    # switch to English and back: the same page, in the other language
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Anna Kowalska")
    assert urlsplit(page.url).path == "/account/"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(provider.issuer + "/**")
    page.goto(live_server.url + "/account/")
    assert urlsplit(page.url).path == "/auth/login" or page.url.startswith(provider.issuer)
