"""The demo customer, in real Chromium: data page → export download → activity log → revoke another session."""
from __future__ import annotations

import json

from playwright.sync_api import expect
from sqlalchemy import select

from portal.auth.models import Identity
from portal.extensions import db
from tests import factories
from tests.e2e.test_signin_journey import sign_in_in_browser

FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"


def test_customer_sees_downloads_and_controls_their_data(app, tab, live_server, provider):
    result = app.test_cli_runner().invoke(args=["portal", "demo"])
    assert result.exit_code == 0, result.output
    sign_in_in_browser(tab, live_server, provider, {
        "sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl",
        "email_verified": True})
    page = tab.page

    # what MCX holds, with why
    page.get_by_role("navigation", name="Główna").get_by_role("link", name="Twoje dane").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Jakie dane o Tobie ma MCX")
    customer = page.locator("#cat-customer")
    expect(customer.locator("[data-field=company_name]")).to_have_text("Przykład Sp. z o.o.")
    expect(customer.locator("[data-field=tax_id]")).to_have_text("5260250995")
    expect(customer).to_contain_text("umowa z Tobą (art. 6 ust. 1 lit. b RODO)")
    expect(page.locator("#cat-recordings")).to_contain_text("Posiedzenie zarządu — luty 2025")

    # the complete export, as a file
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Pobierz wszystko (JSON)").click()
    download = download_info.value
    assert download.suggested_filename.startswith("mcx-data-MCX-000123-")
    document = json.loads(open(download.path(), encoding="utf-8").read())
    assert document["customer_number"] == "MCX-000123"
    assert document["data"]["customer"]["company_name"] == "Przykład Sp. z o.o."
    assert len(document["data"]["recordings"]) == 4

    # the export is in the activity log
    page.get_by_role("navigation", name="Główna").get_by_role("link", name="Dziennik aktywności").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Dziennik aktywności")
    expect(page.locator("tr[data-kind=data_exported]")).to_contain_text("Eksport danych")

    # a second session of the same person, in another browser; sign it out from here
    db.session.expire_all()
    anna = db.session.scalar(select(Identity).where(Identity.subject == "anna.kowalska"))
    other_browser = app.test_client()
    record = factories.signed_in(other_browser, anna)
    record.user_agent, record.ip_address = FIREFOX_LINUX, "198.51.100.23"
    db.session.commit()
    assert other_browser.get("/account/").status_code == 200

    page.get_by_role("navigation", name="Główna").get_by_role("link", name="Twoje sesje logowania").click()
    expect(page.locator("tr[data-session]")).to_have_count(2)
    page.get_by_role("button", name="Wyloguj tę sesję: Firefox · Linux, 198.51.100.23").click()
    expect(page.get_by_text("Wylogowano na urządzeniu Firefox · Linux.")).to_be_visible()
    expect(page.locator("tr[data-session]")).to_have_count(1)
    expect(page.locator("tr[data-current]")).to_contain_text("Ta przeglądarka")

    refused = other_browser.get("/account/")
    assert refused.status_code == 302 and "/auth/login" in refused.headers["Location"]
    assert tab.foreign_requests == []
    assert [e for e in tab.console_errors if "Content Security Policy" in e] == []
