"""A data-subject request end to end in real Chromium, with JavaScript on and off: the customer
files an objection (GDPR art. 21), a privacy officer extends it once (art. 12(3)) and answers it,
and the customer reads the new due date, the reason and the answer in the portal."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.auth.models import StaffRole
from portal.extensions import db
from tests import factories
from tests.e2e.test_termination_journey import ANNA, OFFICER, another_tab, sign_in


def test_objection_extended_once_and_answered(tab, browser, app, live_server, provider, partner_provider):
    factories.customer(email=ANNA["email"], number="MCX-000123", kind="company", company_name="Przykład Sp. z o.o.")
    db.session.add(StaffRole(email=OFFICER["email"], role="privacy_officer"))
    db.session.commit()

    # Anna objects to the use of her phone number
    page = tab.page
    sign_in(tab, live_server, provider, ANNA)
    page.get_by_role("link", name="Twoje wnioski o dane").click()
    page.get_by_label("Czego dotyczy wniosek?").select_option("objection")
    page.get_by_label("Twój wniosek").fill("Sprzeciwiam się wysyłaniu mi SMS-ów z ofertami.")
    page.get_by_role("button", name="Wyślij wniosek").click()
    expect(page.get_by_role("status")).to_contain_text("Otrzymaliśmy Twój wniosek")
    case = page.locator("[data-case]").first
    expect(case).to_have_attribute("data-status", "open")
    number = case.get_attribute("data-case")
    first_due = case.locator("[data-due]").get_attribute("data-due")

    # the privacy officer finds it in the queue, extends it once, then answers
    officer = another_tab(browser, tab, live_server, provider, partner_provider)
    sign_in(officer, live_server, provider, OFFICER)
    officer.page.get_by_role("link", name="Wnioski RODO").click()
    officer.page.get_by_role("link", name=number).click()
    officer.page.get_by_label("Dlaczego potrzeba więcej czasu").fill("Musimy sprawdzić zgody we wszystkich systemach.")
    officer.page.get_by_role("button", name="Przedłuż (jednorazowo)").click()
    expect(officer.page.get_by_role("status")).to_contain_text("Przedłużono")
    expect(officer.page.get_by_role("button", name="Przedłuż (jednorazowo)")).to_have_count(0)
    officer.page.get_by_label("Odpowiedź dla klienta").fill("Wyłączyliśmy SMS-y z ofertami na Pani numer.")
    officer.page.get_by_role("button", name="Wyślij odpowiedź").click()
    expect(officer.page.get_by_role("status")).to_contain_text("Odpowiedź wysłano klientowi")

    # Anna sees the new due date, why, and the answer
    page.get_by_role("link", name="Twoje wnioski o dane").click()
    case = page.locator(f"[data-case='{number}']")
    expect(case.locator("[data-extension-reason]")).to_have_text("Musimy sprawdzić zgody we wszystkich systemach.")
    assert case.locator("[data-due]").get_attribute("data-due") > first_due
    expect(case.locator("[data-answer]")).to_contain_text("Wyłączyliśmy SMS-y z ofertami na Pani numer.")

    for t in (tab, officer):
        assert t.foreign_requests == []
    officer.context.close()
