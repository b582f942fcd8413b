"""An authorized person from adding to removal, in real Chromium, everyone signing in through
the real OpenID provider: the customer adds Jan, a moderator approves, Jan signs in, sees exactly
the granted room, plays and downloads its recording, the customer sees the download in the
activity log, removes Jan, and Jan's open session is refused on its next click."""
from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.auth.models import StaffRole, UserSession
from portal.extensions import db
from portal.people.models import Delegate
from tests import factories
from tests.e2e.conftest import Tab
from tests.e2e.test_signin_journey import sign_in_in_browser
from tests.people.helpers import recording_file

ANNA = {"sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl", "email_verified": True}
EWA = {"sub": "ewa.zielinska", "name": "Ewa Zielińska", "email": "ewa.zielinska@mcx.pl", "email_verified": True}
JAN = {"sub": "jan.nowak", "name": "Jan Nowak", "email": "jan.nowak@przyklad.pl", "email_verified": True}


def another_tab(browser, tab, live_server, provider, partner_provider) -> Tab:
    """A second person's browser, with JavaScript on or off like the first."""
    context = browser.new_context(java_script_enabled=tab.javascript, locale="pl-PL")
    context.set_default_timeout(15000)
    other = Tab(context, {live_server.url, provider.issuer, partner_provider.issuer}, live_server.url)
    other.javascript = tab.javascript
    return other


def test_customer_adds_jan_moderator_approves_jan_uses_the_room_customer_removes_him(
        app, browser, tab, live_server, provider, partner_provider):
    anna = factories.customer(email=ANNA["email"], number="MCX-000123", kind="company",
                              company_name="Przykład Sp. z o.o.", tax_id="5260250995")
    board = factories.room(anna, "Sala zarządu")
    project = factories.room(anna, "Pokój projektowy")
    minutes = recording_file(board, "Posiedzenie zarządu — luty 2025", size=4096)
    recording_file(project, "Warsztat projektowy")
    db.session.add(StaffRole(email=EWA["email"], role="moderator"))
    db.session.commit()
    on_disk = (Path(app.config["RECORDINGS_DIR"]) / minutes.file).read_bytes()
    ewa_tab = another_tab(browser, tab, live_server, provider, partner_provider)
    jan_tab = another_tab(browser, tab, live_server, provider, partner_provider)

    # --- the customer adds Jan -----------------------------------------------------------------
    sign_in_in_browser(tab, live_server, provider, ANNA)
    page = tab.page
    page.get_by_role("navigation", name="Główna").get_by_role("link", name="Osoby upoważnione").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Osoby upoważnione")
    page.get_by_label("Imię i nazwisko").fill("Jan Nowak")
    page.get_by_label("Adres e-mail").fill("jan.nowak@")
    if tab.javascript:
        page.get_by_label("Adres e-mail").press("Tab")  # inline validation as the field is left
        expect(page.locator("#email-error")).to_have_text("Podaj adres e-mail w postaci nazwa@example.pl.")
    page.get_by_label("Adres e-mail").fill(JAN["email"])
    page.get_by_label("Sala zarządu").check()
    page.get_by_label("Może oglądać i pobierać nagrania z tych pokoi").check()
    page.get_by_role("button", name="Dodaj i przekaż do zatwierdzenia przez MCX").click()
    row = page.locator(f"tr[data-email='{JAN['email']}']")
    expect(row).to_contain_text("czeka na zatwierdzenie przez MCX")
    expect(page.locator("#messages")).to_contain_text("Dodano: Jan Nowak")

    # --- a moderator approves ----------------------------------------------------------------------
    sign_in_in_browser(ewa_tab, live_server, provider, EWA)
    staff = ewa_tab.page
    staff.get_by_role("link", name="Wnioski o dostęp").click()
    card = staff.locator("article.request-card")
    expect(card).to_have_count(1)
    expect(card).to_contain_text("j***@przyklad.pl")
    expect(card).not_to_contain_text(JAN["email"])
    staff.get_by_role("button", name="Zatwierdź").click()
    if ewa_tab.javascript:
        expect(card).to_contain_text("Zatwierdzono; osoba otrzyma zaproszenie e-mailem.")  # in place
    else:
        expect(staff.locator("#messages")).to_contain_text("Zatwierdzono")
        expect(staff.locator("article.request-card")).to_have_count(0)

    # --- Jan signs in and sees exactly the granted room ---------------------------------------------
    sign_in_in_browser(jan_tab, live_server, provider, JAN)
    jan = jan_tab.page
    jan.get_by_role("link", name="Otwórz te pokoje").click()
    expect(jan.get_by_role("heading", level=1)).to_have_text("Pokoje i nagrania")
    expect(jan.locator("article.room h3")).to_have_text(["Sala zarządu"])
    expect(jan.locator("tr[data-recording]")).to_have_count(1)
    expect(jan.locator("body")).not_to_contain_text("Warsztat projektowy")
    expect(jan.locator("body")).not_to_contain_text(ANNA["email"])

    # plays it: the page's own <video> fetches our media URL
    with jan.expect_response(lambda r: re.search(r"/rooms/recordings/\d+/media$", r.url) is not None) as media:
        jan.get_by_role("link", name="Odtwórz").click()
    assert media.value.status in (200, 206)
    video = jan.locator("video")
    expect(video).to_have_attribute("src", f"/rooms/recordings/{minutes.id}/media")
    # ... and downloads it
    with jan.expect_download() as download:
        jan.get_by_role("link", name="Pobierz").click()
    assert Path(download.value.path()).read_bytes() == on_disk

    # --- the customer sees the download in the activity log ----------------------------------------
    page.goto(live_server.url + "/account/activity")
    downloads = page.locator("tr[data-kind='recording_downloaded']")
    expect(downloads.locator("dd").filter(has_text=re.compile(r"^pobrano$"))).to_have_count(1)
    expect(downloads.locator("dd").filter(has_text="odtworzono w przeglądarce").first).to_be_visible()
    expect(downloads.first).to_contain_text("Jan Nowak")
    logged = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "recording_downloaded")).all()
    assert {e.customer_id for e in logged} == {anna.id}
    assert "download" in {e.details["mode"] for e in logged}

    # --- the customer removes Jan ----------------------------------------------------------------
    page.goto(live_server.url + "/account/people")
    page.get_by_role("link", name="Usuń Jan Nowak").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Usunąć: Jan Nowak?")
    page.get_by_role("button", name="Usuń: Jan Nowak").click()
    expect(page.locator("#messages")).to_contain_text("Jan Nowak nie ma już dostępu")
    expect(page.locator(f"tr[data-email='{JAN['email']}'] [data-state]")).to_have_attribute("data-state", "removed")

    # --- Jan's open session is refused on its next click ---------------------------------------------
    jan.get_by_role("link", name="Wróć do pokoi").click()
    expect(jan.get_by_role("heading", level=1)).to_have_text("Zaloguj się")
    expect(jan.locator("body")).not_to_contain_text("Sala zarządu")
    jan_identity = db.session.scalar(select(Delegate.identity_id).where(Delegate.email == JAN["email"]))
    sessions = db.session.scalars(select(UserSession).where(UserSession.identity_id == jan_identity)).all()
    assert sessions and all(s.revoked_reason == "delegate_removed" for s in sessions)

    for t in (tab, ewa_tab, jan_tab):
        assert t.foreign_requests == []
        assert [e for e in t.console_errors if "Content Security Policy" in e] == []
    ewa_tab.context.close()
    jan_tab.context.close()
