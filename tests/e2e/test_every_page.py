"""Every GET page of the portal, for every role, in Polish and in English, in real Chromium:
axe-core finds no WCAG 2.1 A/AA violation, the page asks nothing of any other origin (SPEC P1),
and at 320 CSS px it needs no horizontal scrolling (WCAG 2.1 1.4.10 Reflow). Screenshots at four
widths go to screenshots/ (git-ignored) for people to look at when PORTAL_SCREENSHOTS=1 is set
(`PORTAL_SCREENSHOTS=1 .venv/bin/python -m pytest tests/e2e/test_every_page.py`); without it only the
320 px reflow check runs, which keeps the suite's time down.
Plus a keyboard-only journey through the consent and people pages, with focus always visible."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from portal.extensions import db
from portal.people.models import AccessRequest, AccessRequestStatus, DelegateStatus
from tests import factories
from tests.e2e.conftest import Tab
from tests.support.axe import axe_violations

# GET routes that are not pages: redirects, machine-readable answers and files
NOT_PAGES = {
    "static": "static files",
    "web.healthz": "JSON health check",
    "web.readyz": "JSON readiness check",
    "ops.metrics": "Prometheus metrics, for a bearer token only",
    "auth.login": "redirect to the provider",
    "auth.callback": "redirect back from the provider",
    "client_keys.jwks": "JSON: the portal's public signing key (JWKS)",
    "consents.receipt": "JSON consent receipt",
    "transparency.export_json": "JSON export download",
    "termination.receipt_json": "JSON deletion receipt download",
    "rooms.download": "recording file download",
    "rooms.media": "recording media stream",
    "recording_control.receipt_json": "JSON deletion receipt download",
    "recording_control.archive_all": "ZIP download of recordings",
    "recording_control.archive_room": "ZIP download of a room's recordings",
    "staff.audit_export": "JSON Lines export download",
}
# HTML pages deliberately not scanned here, each with its reason (none at present)
SKIPPED: dict[str, str] = {}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
TAKE_SCREENSHOTS = os.environ.get("PORTAL_SCREENSHOTS") == "1"
WIDTHS = (320, 375, 768, 1280)  # phones, a tablet, a laptop
DESKTOP = {"width": 1280, "height": 720}  # Playwright's default viewport
ROLES = ("anonymous", "customer", "delegate", "moderator", "privacy_officer", "terminated_customer")
LANGUAGES = ("pl", "en")


def build_world(app) -> dict:
    anna = factories.customer(email="anna.kowalska@przyklad.pl")
    board = factories.room(anna, "Sala zarządu")
    recording = factories.recording_with_file(board, app.config["RECORDINGS_DIR"], "Posiedzenie zarządu")
    deleted = factories.recording_with_file(board, app.config["RECORDINGS_DIR"], "Próba dźwięku")
    board.retention_months = 12
    factories.consent_event(anna, "email", True)
    factories.policy_version("1.0")
    owner = factories.identity(anna.email, customer=anna)
    jan = factories.identity("jan.nowak@przyklad.pl")
    factories.delegate(anna, jan, rooms=[board], recordings=True)
    waiting = factories.delegate(anna, None, rooms=[board], status=DelegateStatus.PENDING)
    waiting.email = "ola.nowak@przyklad.pl"
    access_request = AccessRequest(customer_id=anna.id, delegate_id=waiting.id, origin="customer",
                                   status=AccessRequestStatus.PENDING)
    db.session.add(access_request)
    identities = {
        "customer": owner,
        "delegate": jan,
        "moderator": factories.identity("ewa.moderator@mcx.pl", roles=("moderator",)),
        "privacy_officer": factories.identity("piotr.iod@mcx.pl", roles=("privacy_officer",)),
    }
    db.session.flush()
    from portal.account.services import _email_change_serializer
    from portal.dsar import services as dsar_services

    case = dsar_services.file_request(anna, owner, "objection", "Sprzeciw wobec SMS-ów z ofertami.")
    dsar_services.answer(case, identities["privacy_officer"], "Wyłączyliśmy SMS-y z ofertami.")

    token = _email_change_serializer().dumps({"c": anna.id, "e": "anna.nowa@przyklad.pl", "o": anna.email})
    db.session.commit()
    # a receipt of a recording Anna deleted herself
    from portal.recordings.deletion import delete_now
    from portal.storage import recording_store

    receipt_id = delete_now(anna.id, owner.id, [deleted.id], recording_store())
    queries = {"account.confirm_email": f"?token={token}", "recording_control.delete": f"?recording={recording.id}"}
    args = {"recording_id": recording.id, "delegate_id": waiting.id, "request_id": access_request.id,
            "version": "1.0", "room_id": board.id, "receipt_id": receipt_id, "case_id": case.id}
    # a customer whose contract ended: the termination confirmation and the deletion receipt
    _, identities["terminated_customer"] = factories.terminated_customer(app.config["RECORDINGS_DIR"],
                                                                          "tomasz.koniec@przyklad.pl")
    return {"identities": identities, "args": args, "queries": queries}


def page_rules(app) -> list:
    rules = [r for r in app.url_map.iter_rules() if "GET" in r.methods]
    return sorted((r for r in rules if r.endpoint not in NOT_PAGES), key=lambda r: r.rule)


def signed_in_client(app, identity, language: str):
    """A test client holding the portal's session cookie for `identity` (or none) in `language`."""
    client = app.test_client()
    if identity is not None:
        factories.signed_in(client, identity)
    switched = client.submit("/language", {"lang": language, "next": "/"})  # the language button
    assert switched.status_code == 303, switched.status_code
    return client


def browser_tab(browser, live_server, provider, partner_provider, client) -> Tab:
    context = browser.new_context(locale="pl-PL")
    context.set_default_timeout(15000)
    cookie = client.get_cookie(client.application.config["SESSION_COOKIE_NAME"])
    context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])
    tab = Tab(context, {live_server.url, provider.issuer, partner_provider.issuer}, live_server.url)
    tab.javascript = True
    return tab


def reflow_problems(page, where: str, screenshot_name: str | None) -> list[str]:
    """At 320 CSS px nothing may need horizontal scrolling (WCAG 2.1 1.4.10); screenshots at WIDTHS."""
    problems = []
    for width in WIDTHS:
        if screenshot_name is None and width != 320:
            continue
        page.set_viewport_size({"width": width, "height": 800})
        if width == 320:
            overflow = page.evaluate("""() => {
                const doc = document.documentElement;
                if (doc.scrollWidth <= window.innerWidth) return null;
                const wide = [...document.querySelectorAll('body *')]
                    .filter(el => el.getBoundingClientRect().right > window.innerWidth + 1)
                    .map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                         + (el.className && typeof el.className === 'string' ? '.' + el.className.split(' ')[0] : ''));
                return `${doc.scrollWidth} px wide: ${wide.slice(0, 6).join(', ')}`;
            }""")
            if overflow:
                problems.append(f"{where}: scrolls sideways at 320 px, {overflow}")
        if screenshot_name:
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=SCREENSHOTS / f"{screenshot_name}-{width}.png", full_page=True)
    page.set_viewport_size(DESKTOP)
    return problems


def role_pages(app, world: dict, role: str, language: str):
    """The (endpoint, url, client) of every HTML page `role` gets with 200 in `language`; the
    probe goes through the test client, so only a role's own pages reach the browser."""
    client = signed_in_client(app, world["identities"].get(role), language)
    pages = []
    for rule in page_rules(app):
        if rule.endpoint in SKIPPED:
            continue
        url = rule.build({k: v for k, v in world["args"].items() if k in rule.arguments},
                         append_unknown=False)[1] + world["queries"].get(rule.endpoint, "")
        probe = client.get(url, buffered=True)
        if probe.status_code == 200 and probe.mimetype == "text/html":
            pages.append((rule.endpoint, url))
    return client, pages


def test_every_page_is_reached_by_some_role_in_both_languages(app):
    world = build_world(app)
    reached: dict[str, set[str]] = {}
    for role in ROLES:
        for language in LANGUAGES:
            for endpoint, _ in role_pages(app, world, role, language)[1]:
                reached.setdefault(endpoint, set()).add(language)
    unvisited = {r.endpoint for r in page_rules(app)} - set(reached) - set(SKIPPED)
    assert not unvisited, f"GET pages no role reached (visit them or list them in SKIPPED): {sorted(unvisited)}"
    one_language = sorted(e for e, languages in reached.items() if languages != set(LANGUAGES))
    assert not one_language, f"pages reached in one language only: {one_language}"


# one test per role and language, so that the workers share the browser scans between them
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ROLES)
def test_every_page_of_the_role_is_accessible_and_stays_on_our_origin(
        app, browser, live_server, provider, partner_provider, role, language):
    started = time.monotonic()
    world = build_world(app)
    client, pages = role_pages(app, world, role, language)
    assert pages, f"{role}/{language}: no page answered 200"
    problems: list[str] = []
    tab = browser_tab(browser, live_server, provider, partner_provider, client)
    try:
        for endpoint, url in pages:
            where = f"{role}/{language} {url}"
            response = tab.page.goto(live_server.url + url)
            assert response.status == 200, f"{where}: {response.status}"
            expect(tab.page.locator("html")).to_have_attribute("lang", language)
            for v in axe_violations(tab.page):
                problems.append(f"{where}: {v['id']} ({v['impact']}) {v['help']}: " + " | ".join(v["nodes"]))
            problems.extend(reflow_problems(tab.page, where, f"{role}-{endpoint}" if language == "pl" and TAKE_SCREENSHOTS else None))
            if tab.foreign_requests:
                problems.append(f"{where}: requests to other origins {tab.foreign_requests}")
                tab.foreign_requests.clear()
            if tab.console_errors:
                problems.append(f"{where}: console errors {tab.console_errors}")
                tab.console_errors.clear()
    finally:
        tab.context.close()
    assert not problems, "\n".join(problems)
    print(f"\n{role}/{language}: {len(pages)} pages, {time.monotonic() - started:.1f} s")


def focused_outline(page) -> str:
    return page.evaluate("""() => {
        const el = document.activeElement;
        if (el === document.body) return 'body';  // Tab went past the last element
        // headless Chromium leaves a date input active without :focus while Tab walks its inner
        // day/month/year fields; nothing can be styled then, so that stop is not judged
        if (!el.matches(':focus')) return 'inner';
        const style = getComputedStyle(el);
        return style.outlineStyle === 'none' || style.outlineWidth === '0px' ? 'none'
            : `${style.outlineStyle} ${style.outlineWidth}`;
    }""")


def tab_to(page, selector: str, limit: int = 80) -> None:
    """Press Tab until `selector` has focus; every stop on the way shows its focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        assert focused_outline(page) != "none", page.evaluate("() => document.activeElement.outerHTML")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"{selector} not reached with Tab")


def test_keyboard_only_consents_and_people(app, browser, live_server, provider, partner_provider):
    world = build_world(app)
    client = signed_in_client(app, world["identities"]["customer"], "pl")
    tab = browser_tab(browser, live_server, provider, partner_provider, client)
    page = tab.page
    try:
        page.goto(live_server.url + "/account/consents")
        email = page.locator("li.consent-channel[data-channel=email]")
        expect(email).to_have_attribute("data-granted", "yes")
        tab_to(page, "#consent-email-button")
        page.keyboard.press("Enter")  # withdraw
        expect(email).to_have_attribute("data-granted", "no")
        expect(email.locator(".consent-state")).to_contain_text("Brak zgody.")
        tab_to(page, "#consent-email-button")
        page.keyboard.press("Space")  # give again
        expect(email).to_have_attribute("data-granted", "yes")

        page.goto(live_server.url + "/account/people")
        tab_to(page, "#add-person input[name=name]")
        page.keyboard.type("Marta Wiśniewska")
        tab_to(page, "#add-person input[name=email]")
        page.keyboard.type("marta.w@przyklad.pl")
        tab_to(page, "#add-person input[type=checkbox][name=rooms]")
        page.keyboard.press("Space")
        expect(page.locator("#add-person input[type=checkbox][name=rooms]").first).to_be_checked()
        tab_to(page, "#add-person button[type=submit]")
        page.keyboard.press("Enter")
        expect(page.locator("tr[data-email='marta.w@przyklad.pl']")).to_contain_text("czeka na zatwierdzenie")
        assert not tab.foreign_requests
    finally:
        tab.context.close()
