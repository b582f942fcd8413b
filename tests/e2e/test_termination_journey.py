"""Termination end to end in real Chromium: request with re-authentication, withdraw, request
again, the privacy officer confirms, time passes, run-due deletes every recording file, the
customer reads the receipt, and the authorized person's next click finds no access."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect
from sqlalchemy import select, update

from portal.auth.models import StaffRole, UserSession
from portal.db_types import utcnow
from portal.extensions import db
from portal.termination.models import TerminationRequest
from tests import factories
from tests.e2e.conftest import Tab

ANNA = {"sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl", "email_verified": True}
JAN = {"sub": "jan.nowak", "name": "Jan Nowak", "email": "jan.nowak@przyklad.pl", "email_verified": True}
OFFICER = {"sub": "piotr", "name": "Piotr Wiśniewski", "email": "iod@mcx.pl", "email_verified": True}


def authorize_at_provider(page, provider, sub: str) -> None:
    page.wait_for_url(provider.issuer + "/**")
    page.locator("input[name=sub]").fill(sub)
    page.get_by_role("button", name="Authorize").click()


def sign_in(tab: Tab, live_server, provider, claims: dict) -> None:
    provider.set_user(claims)
    tab.page.goto(live_server.url + "/")
    tab.page.get_by_role("link", name="Zaloguj się przez MCX").click()
    authorize_at_provider(tab.page, provider, claims["sub"])
    tab.page.wait_for_url(live_server.url + "/account/")


def another_tab(browser, tab: Tab, live_server, provider, partner_provider) -> Tab:
    context = browser.new_context(java_script_enabled=tab.javascript, locale="pl-PL")
    context.set_default_timeout(15000)
    return Tab(context, {live_server.url, provider.issuer, partner_provider.issuer}, live_server.url)


def test_termination_journey(tab, browser, app, live_server, provider, partner_provider, smtp_server):
    recordings_dir = Path(app.config["RECORDINGS_DIR"])
    customer = factories.customer(email=ANNA["email"], number="MCX-000123", kind="company",
                                  company_name="Przykład Sp. z o.o.")
    board = factories.room(customer, "Sala zarządu")
    workshop = factories.room(customer, "Pokój projektowy")
    recordings = [factories.recording_with_file(room, recordings_dir, title=title) for room, title in
                  [(board, "Zarząd — luty"), (board, "Zarząd — marzec"), (workshop, "Warsztat")]]
    expected = {r.id: r.sha256 for r in recordings}
    customer_files = sorted((recordings_dir / r.file) for r in recordings)
    factories.delegate(customer, rooms=[board], recordings=True, status="invited").email = JAN["email"]
    db.session.add(StaffRole(email=OFFICER["email"], role="privacy_officer"))
    db.session.commit()

    # Jan, the authorized person, is signed in on his own browser
    jan = another_tab(browser, tab, live_server, provider, partner_provider)
    sign_in(jan, live_server, provider, JAN)
    expect(jan.page.locator("[data-delegate-of='MCX-000123']")).to_be_visible()

    # Anna signed in a while ago: requesting termination sends her to her provider again
    page = tab.page
    sign_in(tab, live_server, provider, ANNA)
    db.session.execute(update(UserSession).values(auth_time=utcnow() - timedelta(hours=1)))
    db.session.commit()
    page.get_by_role("link", name="Wypowiedzenie umowy").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Wypowiedzenie umowy")
    expect(page.locator("[data-recordings]").first).to_have_attribute("data-recordings", "3")
    page.get_by_role("link", name="Wypowiedz umowę").click()
    page.wait_for_url(provider.issuer + "/**")
    asked = parse_qs(urlsplit(page.url).query)
    assert asked["prompt"] == ["login"] and asked["max_age"] == ["0"]
    authorize_at_provider(page, provider, ANNA["sub"])
    page.wait_for_url(live_server.url + "/account/termination/request")
    page.get_by_label("Aby potwierdzić, wpisz swój numer klienta").fill("MCX-000123")
    page.get_by_role("button", name="Wypowiadam umowę").click()
    expect(page.locator("[data-termination-status]")).to_have_attribute("data-termination-status", "requested")

    # she changes her mind, then decides again
    page.get_by_role("button", name="Wycofaj wypowiedzenie").click()
    expect(page.get_by_role("status")).to_contain_text("Wycofano wypowiedzenie")
    expect(page.locator("[data-termination-status]")).to_have_attribute("data-termination-status", "withdrawn")
    page.get_by_role("link", name="Wypowiedz umowę").click()
    page.get_by_label("Aby potwierdzić, wpisz swój numer klienta").fill("MCX-000123")
    page.get_by_role("button", name="Wypowiadam umowę").click()
    expect(page.locator("[data-termination-status]")).to_have_attribute("data-termination-status", "requested")

    # the privacy officer confirms it from the queue
    officer = another_tab(browser, tab, live_server, provider, partner_provider)
    sign_in(officer, live_server, provider, OFFICER)
    officer.page.get_by_role("link", name="Wypowiedzenia").click()
    card = officer.page.locator("li[data-status='requested']")
    expect(card).to_contain_text("MCX-000123")
    card.get_by_role("button", name="Potwierdź klientowi").click()
    expect(officer.page.locator("li[data-status='requested'] [data-confirmed]")).to_have_attribute("data-confirmed", "yes")
    expect(officer.page.locator("#messages")).to_contain_text("Potwierdzono")

    # time passes: run-due on the day after the end date
    termination = db.session.scalar(select(TerminationRequest).where(TerminationRequest.status == "requested"))
    result = app.test_cli_runner().invoke(
        args=["portal", "run-due", "--today", (termination.effective_on + timedelta(days=1)).isoformat()])
    assert result.exit_code == 0, result.output
    assert [f for f in customer_files if f.exists()] == []
    assert not any((recordings_dir / f"c{customer.id}").iterdir())

    # Anna reads the receipt: every recording with its checksum
    page.get_by_role("link", name="Wypowiedzenie umowy").click()
    page.get_by_role("link", name="Przeczytaj potwierdzenie usunięcia").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Potwierdzenie usunięcia")
    rows = page.locator("tr[data-recording-id]")
    expect(rows).to_have_count(3)
    listed = {int(rows.nth(i).get_attribute("data-recording-id")): rows.nth(i).locator("code").inner_text()
              for i in range(3)}
    assert listed == expected

    # Jan's next click: his session ended with his access, so he is asked to sign in
    jan.page.get_by_role("link", name="Twoje konto").click()
    expect(jan.page.get_by_role("heading", level=1)).to_have_text("Zaloguj się")
    jan.page.get_by_role("link", name="Zaloguj się przez MCX").click()
    authorize_at_provider(jan.page, provider, JAN["sub"])
    jan.page.wait_for_url(live_server.url + "/account/")
    expect(jan.page.get_by_text("Nie jesteś osobą upoważnioną żadnego klienta.")).to_be_visible()
    expect(jan.page.locator("[data-delegate-of]")).to_have_count(0)

    for t in (tab, jan, officer):
        assert t.foreign_requests == []
    jan.context.close()
    officer.context.close()
