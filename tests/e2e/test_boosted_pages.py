"""With JavaScript on, a boosted page behaves like a full page load (issue 14, item 1):
a form's refusal (400, 422, "Form expired") shows and is announced, <html lang> and <title>
follow every navigation, and the tab's history keeps no private page after sign-out."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

expect.set_options(timeout=15_000)  # the suite shares two cores: give a loaded machine time

from tests.e2e.test_every_page import browser_tab, build_world, signed_in_client

# (role, page, how to fill the form in wrongly, the button that sends it, what the person must read)
INVALID_FORMS = [
    ("customer", "/account/contact", {"#phone-heading ~ form input[name=phone]": "12ab"},
     "Zapisz numer telefonu", "Wpisz numer telefonu"),
    ("customer", "/account/contact", {"#email-heading ~ form input[name=email]": "to-nie-adres"},
     "Wyślij link potwierdzający", "Wpisz adres e-mail, np."),
    ("customer", "/account/contact", {}, "Wyślij prośbę", "To pole jest wymagane."),
    ("customer", "/account/contact", {"#address-heading ~ form input[name=postal_code]": "31000"},
     "Zapisz adres", "NN-NNN"),
    ("customer", "/account/contact", {"#phone-heading ~ form input[name=csrf_token]": "expired"},
     "Zapisz numer telefonu", "Ten formularz wygasł"),
    ("customer", "/account/people", {"#add-person input[name=name]": "Marta Wiśniewska"},
     "Dodaj i przekaż do zatwierdzenia przez MCX", "Podaj adres e-mail osoby."),
    ("customer", "/account/termination/request", {"input[name=customer_number]": "MCX-999999"},
     "Wypowiadam umowę", "To nie jest Twój numer klienta"),
    ("moderator", "/staff/requests", {}, "Odrzuć", "Podaj powód odrzucenia."),
    ("privacy_officer", "/staff/disclosures/new", {"input[name=recipient]": "Sąd Rejonowy"},
     "Zarejestruj udostępnienie", "To pole jest wymagane."),
    ("privacy_officer", "/staff/policy", {"input[name=version]": ""},
     re.compile("Opublikuj|Pokaż podgląd"), "Nadaj wersji oznaczenie"),
]


# sent as plain forms on purpose: a stale sign-in there goes to the identity provider, another origin
NOT_BOOSTED = {"/account/termination/request"}


@pytest.fixture
def world(app):
    return build_world(app)


def open_as(app, browser, live_server, provider, partner_provider, world, role, language="pl"):
    client = signed_in_client(app, world["identities"].get(role), language)
    return browser_tab(browser, live_server, provider, partner_provider, client)


def announced_text(page) -> str:
    """Text inside live regions (aria-live, role=alert or status) that a person can see."""
    return page.evaluate("""() => [...document.querySelectorAll('[aria-live], [role=alert], [role=status]')]
        .filter(el => el.checkVisibility()).map(el => el.innerText).join('\\n')""")


@pytest.mark.parametrize("role, path, fill, button, expected", INVALID_FORMS,
                         ids=[f"{f[0]}{f[1]}-{i}" for i, f in enumerate(INVALID_FORMS)])
def test_a_refused_form_shows_its_error_in_place_and_announces_it(
        app, browser, live_server, provider, partner_provider, world, role, path, fill, button, expected):
    tab = open_as(app, browser, live_server, provider, partner_provider, world, role)
    page = tab.page
    try:
        page.goto(live_server.url + path)
        page.evaluate("() => { window.stillTheSameDocument = true; }")
        for selector, value in fill.items():
            if selector.endswith("[name=csrf_token]"):
                page.locator(selector).evaluate("(el, v) => { el.value = v; }", value)
            else:
                page.locator(selector).first.fill(value)
        page.get_by_role("button", name=button).first.click()
        expect(page.get_by_text(expected).first).to_be_visible()
        assert expected in announced_text(page)
        # htmx answered it: the page was not reloaded behind our back
        assert page.evaluate("() => window.stillTheSameDocument === true") is (path not in NOT_BOOSTED)
        assert tab.console_errors == [] or all("Failed to load resource" in e for e in tab.console_errors)
    finally:
        tab.context.close()


def test_lang_and_title_follow_every_boosted_navigation(app, browser, live_server, provider, partner_provider,
                                                        world):
    tab = open_as(app, browser, live_server, provider, partner_provider, world, "customer")
    page = tab.page
    try:
        page.goto(live_server.url + "/account/")
        page.evaluate("() => { window.stillTheSameDocument = true; }")
        expect(page.locator("html")).to_have_attribute("lang", "pl")
        page.get_by_role("button", name="English").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Your data", exact=True).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("What MCX holds about you")
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert page.title().startswith("Your data")
        page.get_by_role("button", name="Polski").click()
        expect(page.locator("html")).to_have_attribute("lang", "pl")
        expect(page).to_have_title(re.compile("^Twoje dane"))
        assert page.evaluate("() => window.stillTheSameDocument === true")  # all of it boosted
    finally:
        tab.context.close()


def test_after_sign_out_history_holds_no_private_page_and_back_reaches_the_server(
        app, browser, live_server, provider, partner_provider, world):
    tab = open_as(app, browser, live_server, provider, partner_provider, world, "customer")
    page = tab.page
    try:
        page.goto(live_server.url + "/account/")
        page.get_by_role("navigation", name="Główna").get_by_role("link", name="Twoje dane").click()
        expect(page.locator("[data-field=tax_id]").first).to_be_visible()
        page.get_by_role("navigation", name="Główna").get_by_role("link", name="Zgody").click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Twoje zgody")
        private = ("tax_id", "Kowalsk", world["identities"]["customer"].email)
        # boosted navigation keeps no copy of a private page in the tab's storage, signed in or out
        stored = page.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")
        assert not [p for p in private if p in stored], stored[:300]
        page.get_by_role("button", name="Wyloguj się").click()
        expect(page.get_by_role("button", name="Wyloguj się")).to_have_count(0)
        stored = page.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")
        assert not [p for p in private if p in stored], stored[:300]
        page.go_back()
        page.wait_for_load_state()
        # whatever Back lands on came from the server now: never the private page from before
        expect(page.locator("[data-field=tax_id]")).to_have_count(0)
        assert "/auth/" in page.url or page.get_by_role("link", name=re.compile("Zaloguj")).count() > 0
    finally:
        tab.context.close()


def test_a_person_whose_session_ended_reads_why_on_the_sign_in_page(app, browser, live_server, provider,
                                                                     partner_provider, world):
    from sqlalchemy import select

    from portal.auth import sessions
    from portal.auth.models import UserSession
    from portal.extensions import db

    tab = open_as(app, browser, live_server, provider, partner_provider, world, "delegate")
    page = tab.page
    try:
        page.goto(live_server.url + "/rooms")
        sessions.revoke(select(UserSession.id).where(
            UserSession.identity_id == world["identities"]["delegate"].id), "delegate_removed")
        db.session.commit()
        page.get_by_role("navigation", name="Główna").get_by_role("link").first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Zaloguj się")
        expect(page.get_by_role("alert")).to_contain_text("Klient, który dał Ci dostęp, odebrał go")
    finally:
        tab.context.close()
