"""Consents and policy versions in real Chromium, with JavaScript on and off."""
from __future__ import annotations

import csv
import io
import json
import re
import time
from datetime import UTC, datetime

from playwright.sync_api import expect
from sqlalchemy import select

from portal.auth.models import StaffRole
from portal.consents.models import ConsentEvent, PolicyAcknowledgement, PolicyVersion
from portal.extensions import db
from tests import factories
from tests.e2e.test_signin_journey import sign_in_in_browser

ANNA = {"sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl", "email_verified": True}
OFFICER = {"sub": "piotr.wisniewski", "name": "Piotr Wiśniewski", "email": "iod@mcx.pl", "email_verified": True}


def customer_with_policy_read():
    customer = factories.customer(email=ANNA["email"], number="MCX-000123", first_name="Anna", last_name="Kowalska")
    policy = factories.policy_version("1.0", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    db.session.add(PolicyAcknowledgement(customer_id=customer.id, policy_version_id=policy.id))
    db.session.commit()
    return customer


def email_audience(app) -> list[str]:
    result = app.test_cli_runner().invoke(args=["portal", "audience", "--channel", "email"])
    assert result.exit_code == 0, result.output
    return [row[0] for row in csv.reader(io.StringIO(result.stdout))][1:]


def received(smtp_server, address: str, count: int, timeout: float = 15) -> list:
    """The messages for `address` once `count` have arrived (delivery runs after the response)."""
    deadline = time.monotonic() + timeout
    while len(smtp_server.to(address)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return smtp_server.to(address)


def click_consent(tab, name: str, announcement: str) -> None:
    page = tab.page
    if tab.javascript:
        page.evaluate("window.pageLoadMarker = 'still here'")
    page.get_by_role("button", name=name).click()
    expect(page.locator("#messages")).to_contain_text(announcement)
    if tab.javascript:
        # updated in place by htmx: no page load, and focus stays on the control
        assert page.evaluate("window.pageLoadMarker") == "still here"
        expect(page.locator("#consent-email-button")).to_be_focused()
    assert page.url.endswith("/account/consents")


def test_customer_gives_and_withdraws_email_consent_and_downloads_a_receipt(app, tab, live_server, provider,
                                                                           smtp_server):
    customer_with_policy_read()
    sign_in_in_browser(tab, live_server, provider, ANNA)
    page = tab.page
    page.get_by_role("link", name="Zgody", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twoje zgody")
    email = page.locator("li[data-channel=email]")
    expect(email).to_have_attribute("data-granted", "no")
    assert email_audience(app) == []

    click_consent(tab, "Wyrażam zgodę na e-maile", "Zgoda udzielona: możemy wysyłać Ci e-mailem")
    expect(email).to_have_attribute("data-granted", "yes")
    expect(email).to_contain_text("Zgoda udzielona.")
    assert email_audience(app) == ["MCX-000123"]

    click_consent(tab, "Wycofuję zgodę na e-maile", "Zgoda wycofana: nie będziemy wysyłać Ci e-mailem")
    expect(email).to_have_attribute("data-granted", "no")
    assert email_audience(app) == []

    rows = page.locator("tr[data-channel=email]")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("Zgoda wycofana")
    expect(rows.nth(1)).to_contain_text("Zgoda udzielona")
    expect(rows.nth(0)).to_contain_text("Ty, w tym portalu")
    newest = rows.nth(0).get_attribute("data-receipt")
    with page.expect_download() as download:
        rows.nth(0).get_by_role("link", name=re.compile("^Pobierz")).click()
    receipt = json.loads(open(download.value.path(), encoding="utf-8").read())
    assert download.value.suggested_filename == f"consent-receipt-{newest}.json"
    assert (receipt["consentReceiptID"], receipt["channel"], receipt["consent"]) == (newest, "email", "withdrawn")
    assert receipt["version"] == "KI-CR-v1.1.0" and receipt["piiPrincipalId"] == "MCX-000123"
    assert receipt["policyUrl"].endswith("/privacy/1.0")
    # each change was confirmed by e-mail. Delivery right after the response is best effort (the
    # development server skips it when the browser drops the connection after a redirect); the
    # outbox keeps the message until `send-mail`, run by cron, delivers it
    result = app.test_cli_runner().invoke(args=["portal", "send-mail"])
    assert result.exit_code == 0, result.output
    subjects = [message["Subject"] for message in received(smtp_server, ANNA["email"], 2)]
    assert sorted(subjects) == ["MCX: udzielono zgody na informacje o nowych produktach",
                                "MCX: wycofano zgodę na informacje o nowych produktach"]
    assert tab.foreign_requests == []


def test_new_policy_version_asks_for_acknowledgement_until_given(app, tab, live_server, provider, smtp_server):
    customer = customer_with_policy_read()
    db.session.add(StaffRole(email=OFFICER["email"], role="privacy_officer"))
    db.session.commit()
    page = tab.page

    # the privacy officer publishes version 2.0
    sign_in_in_browser(tab, live_server, provider, OFFICER)
    page.get_by_role("link", name="Wersje polityki").click()
    page.get_by_label("Wersja", exact=True).fill("2.0")
    page.get_by_label("Opis zmian po polsku").fill("Dodaliśmy zasady przechowywania kopii zapasowych.")
    page.get_by_label("Opis zmian po angielsku").fill("We added how backups are kept.")
    text_pl = page.get_by_label("Treść polityki po polsku (Markdown)")
    text_pl.fill(text_pl.input_value() + "\n\nKopie zapasowe przechowujemy przez 30 dni.\n")
    page.get_by_role("button", name="Pokaż podgląd").click()
    expect(page.get_by_role("heading", name="Podgląd wersji 2.0")).to_be_visible()
    page.get_by_role("button", name="Opublikuj wersję 2.0 teraz").click()
    expect(page.locator("#messages")).to_contain_text("Wersja 2.0 jest opublikowana.")
    page.get_by_role("button", name="Wyloguj się").click()
    page.wait_for_url(provider.issuer + "/**")

    # the customer sees the notice on every page until they acknowledge
    sign_in_in_browser(tab, live_server, provider, ANNA)
    notice = page.get_by_role("region", name="Komunikat")
    expect(notice).to_contain_text("MCX opublikował wersję 2.0 polityki prywatności.")
    page.get_by_role("link", name="Zgody", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twoje zgody")
    expect(notice).to_contain_text("wersję 2.0")
    notice.get_by_role("link", name="Przeczytaj politykę prywatności").click()
    comparison = page.locator("#policy-comparison")
    expect(comparison).to_contain_text("Różnice między wersją 1.0 a wersją 2.0")
    expect(comparison.locator("ins")).to_contain_text("Kopie zapasowe przechowujemy przez 30 dni.")
    page.get_by_role("button", name="Potwierdzam zapoznanie się z wersją 2.0 polityki prywatności").click()
    expect(page.locator("#messages")).to_contain_text("potwierdzono zapoznanie się z wersją 2.0")
    expect(notice).to_have_count(0)
    page.get_by_role("link", name="Zgody", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Twoje zgody")
    expect(notice).to_have_count(0)

    # a consent given now carries the new version
    page.get_by_role("button", name="Wyrażam zgodę na e-maile").click()
    expect(page.locator("tr[data-channel=email]").first).to_contain_text("2.0")
    db.session.expire_all()
    event = db.session.scalar(select(ConsentEvent).where(ConsentEvent.customer_id == customer.id))
    version = db.session.scalar(select(PolicyVersion.version).where(PolicyVersion.id == event.policy_version_id))
    assert (event.granted, version) == (True, "2.0")
    assert tab.foreign_requests == []
