"""Markup that reaches a page cannot act, in real Chromium.

1. The planted world (`tests/web/planted.py`: markup in every free-text field, an activity log
   event of every kind): every page that shows other people's text, as the role that sees it,
   sends no request the payload asks for and holds no planted element. On the landed portal the
   customer's activity log sent `hx-post /account/termination/request` on load.
2. Defence in depth, as if escaping had failed somewhere: the page's HTML is rewritten on its way
   to the browser so that a firing htmx payload sits inside every container marked `hx-disable`
   and, as a control, once outside them. The control fires (so the payload would); none inside
   does. Outside, `hx-on` code (no eval) and a request to another origin (same-origin only) do not
   run either, and a `<script>` swapped in by an htmx fragment is not loaded (no script tags).
"""
from __future__ import annotations

import re

from flask import url_for
from playwright.sync_api import expect

from portal.extensions import db
from portal.people.models import AccessRequest, AccessRequestStatus
from tests.e2e.test_every_page import browser_tab, signed_in_client
from tests.web.planted import log_every_kind, plant_columns
from tests.web.world import build_world

CONTAINER = re.compile(r"<[a-z][a-z0-9]*\b[^>]*\shx-disable\b[^>]*>")


def _pages(app, world) -> list[tuple[str, str]]:
    """(role, path) of every page that shows text from other people, as the role that sees it."""
    recording_a = world.targets["recording"]["a"]
    with app.test_request_context():
        return [
            ("customer_a", url_for("transparency.activity_log")), ("customer_a", url_for("people.index")),
            ("customer_a", url_for("transparency.data")), ("customer_a", url_for("transparency.export_page")),
            ("customer_a", url_for("policy.current")),
            ("customer_a", url_for("people.remove", **world.targets["delegate"]["a"])),
            ("delegate_a_recordings", url_for("account.home")), ("delegate_a_recordings", url_for("rooms.index")),
            ("delegate_a_recordings", url_for("rooms.play", **recording_a)),
            ("moderator", url_for("moderation.queue")),
            ("moderator", url_for("moderation.detail", **world.targets["access_request"]["b"])),
            ("privacy_officer", url_for("account_staff.corrections")),
            ("privacy_officer", url_for("termination_staff.queue")),
            ("terminated_customer", url_for("termination.receipt")),
        ]


def _planted_world(app):
    world = build_world(app)
    # customer B's request waits for a moderator, so the moderation queue shows it
    db.session.get(AccessRequest, world.targets["access_request"]["b"]["request_id"]).status = \
        AccessRequestStatus.PENDING
    db.session.commit()
    plant_columns()
    log_every_kind(world)
    return world


def _tab(app, world, role, browser, live_server, provider, partner_provider):
    client = signed_in_client(app, world.identities[role], "pl")
    tab = browser_tab(browser, live_server, provider, partner_provider, client)
    tab.requests = []
    tab.page.on("request", lambda request: tab.requests.append(request.url))
    return tab


def _asked(tab, fragment: str) -> list[str]:
    return [url for url in tab.requests if fragment in url]


def test_planted_markup_sends_nothing_and_shows_no_element(app, browser, live_server, provider, partner_provider):
    world = _planted_world(app)
    failures = []
    for role, path in _pages(app, world):
        tab = _tab(app, world, role, browser, live_server, provider, partner_provider)
        try:
            tab.page.goto(live_server.url + path)
            expect(tab.page.locator("h1").first).to_be_visible()
            tab.page.wait_for_timeout(300)  # htmx has processed the page (load triggers fire at once)
            planted = tab.page.locator("[data-planted]").count()
            sent = _asked(tab, "/account/termination/request") + _asked(tab, "/x")
            if planted or sent or tab.foreign_requests:
                failures.append(f"{role} {path}: {planted} planted elements, requests {sent + tab.foreign_requests}")
        finally:
            tab.context.close()
    assert not failures, "\n".join(failures)


def _firing(url: str) -> str:
    return f'<b hx-get="{url}" hx-trigger="load">planted</b>'


def _plant_into_containers(body: str) -> tuple[str, int]:
    """`body` with a firing payload inside every hx-disable container (in its first cell for a
    table, where the parser would move anything else out), and controls outside them; returns the
    body and the number of containers."""
    out, at, count = [], 0, 0
    for match in CONTAINER.finditer(body):
        count += 1
        end = match.end()
        if match.group(0).startswith("<table"):
            end = re.compile(r"<td\b[^>]*>").search(body, end).end()
        out += [body[at:end], _firing(f"/planted/inside-{count}")]
        at = end
    body = "".join(out) + body[at:]
    controls = (_firing("/planted/control") + '<b hx-on:htmx:load="fetch(\'/planted/eval\')">e</b>'
                + _firing("http://203.0.113.9/planted/other-origin"))
    return body.replace('<main id="main" tabindex="-1">', '<main id="main" tabindex="-1">' + controls, 1), count


def test_containers_of_other_peoples_data_disable_htmx(app, browser, live_server, provider, partner_provider):
    world = _planted_world(app)
    failures = []
    for role, path in _pages(app, world):
        tab = _tab(app, world, role, browser, live_server, provider, partner_provider)
        containers = []

        def rewrite(route):
            response = route.fetch()
            body, count = _plant_into_containers(response.text())
            containers.append(count)
            route.fulfill(response=response, body=body)

        try:
            tab.page.route(live_server.url + path, rewrite)
            tab.page.goto(live_server.url + path)
            expect(tab.page.locator("h1").first).to_be_visible()
            tab.page.wait_for_function("() => window.htmx !== undefined")
            tab.page.wait_for_timeout(300)
            where = f"{role} {path}"
            if not containers or not containers[0]:
                failures.append(f"{where}: no hx-disable container")
            if not _asked(tab, "/planted/control"):
                failures.append(f"{where}: the control payload did not fire (the test proves nothing)")
            if _asked(tab, "/planted/inside-"):
                failures.append(f"{where}: fired inside hx-disable: {_asked(tab, '/planted/inside-')}")
            if _asked(tab, "/planted/eval") or _asked(tab, "/planted/other-origin"):
                failures.append(f"{where}: eval or another origin: {tab.requests}")
        finally:
            tab.context.close()
    assert not failures, "\n".join(failures)


def test_a_script_in_an_htmx_fragment_is_not_loaded(app, browser, live_server, provider, partner_provider):
    world = _planted_world(app)
    tab = _tab(app, world, "customer_a", browser, live_server, provider, partner_provider)

    def rewrite(route):
        if route.request.headers.get("hx-request") != "true":
            return route.fallback()
        response = route.fetch()
        body = _firing("/planted/fragment-control") + '<script src="/planted/script.js"></script>' + response.text()
        route.fulfill(response=response, body=body)

    try:
        with app.test_request_context():
            path = url_for("transparency.activity_log")
        tab.page.route(re.compile(re.escape(live_server.url + path) + r"(\?.*)?$"), rewrite)
        tab.page.goto(live_server.url + path)
        tab.page.wait_for_function("() => window.htmx !== undefined")
        tab.page.select_option("#kind", "consents")
        tab.page.locator("form.filter button[type=submit]").click()
        tab.page.wait_for_url("**kind=consents*")
        expect(tab.page.locator("#events")).to_contain_text("planted")  # the fragment was swapped in
        tab.page.wait_for_timeout(300)
        assert _asked(tab, "/planted/fragment-control"), "htmx processed the swapped fragment"
        assert _asked(tab, "/planted/script.js") == []
    finally:
        tab.context.close()
