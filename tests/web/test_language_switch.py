"""The language switch takes the user back to the page they were on, in the new language: after a
failed form POST the page is at the address the form posted to, and where that address answers
POST only, back to the page that holds the form (a GET there was 405, the input lost)."""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from werkzeug.exceptions import MethodNotAllowed

from tests.web.test_authorization_matrix import _url_map_rules

# sample values for the rules' arguments (any(...) converters need one of their words)
SAMPLE = {"decision": "reject", "channel": "email", "field": "phone", "handle": "abc"}
NOT_PAGES = {"web.set_language", "backchannel.backchannel_logout"}  # not forms of a page

POST_ONLY = sorted(
    (endpoint, rule, arguments)
    for endpoint, rules in _url_map_rules().items() if endpoint not in NOT_PAGES
    for rule, arguments, methods in rules if "GET" not in methods
)

# the forms the review found, and the page each is on
FORM_PAGES = {
    "/account/contact/address": "/account/contact",
    "/account/contact/phone": "/account/contact",
    "/account/contact/email": "/account/contact",
    "/account/contact/corrections": "/account/contact",
    "/staff/data-requests/7/answer": "/staff/data-requests/7",
    "/staff/requests/7/reveal": "/staff/requests/7",
    "/staff/corrections/7/reveal": "/staff/corrections",
    "/staff/corrections/7/reject": "/staff/corrections",
    "/privacy/acknowledge": "/privacy",
    "/account/people": "/account/people",
}


def _path(rule: str) -> str:
    return re.sub(r"<(?:[^:>]+:)?([^>]+)>", lambda m: SAMPLE.get(m.group(1).split(":")[-1], "7"), rule)


def _switched_to(client, next_path: str) -> str:
    response = client.submit("/language", {"lang": "en", "next": next_path})
    assert response.status_code == 303
    return urlsplit(response.headers["Location"]).path


def test_the_post_only_routes_are_found():
    assert len(POST_ONLY) > 20
    assert {path for path in FORM_PAGES} <= {_path(rule) for _, rule, _ in POST_ONLY}


@pytest.mark.parametrize("endpoint, rule, arguments", POST_ONLY, ids=[p[0] for p in POST_ONLY])
def test_switching_language_on_a_post_only_address_lands_on_a_page_that_answers_get(
        world_app, endpoint, rule, arguments):
    client = world_app.test_client()
    path = _path(rule)

    landed = _switched_to(client, path)

    adapter = world_app.url_map.bind("")
    try:
        shown = adapter.match(landed, method="GET", return_rule=True)[0]
    except MethodNotAllowed:
        pytest.fail(f"{path} → {landed}, which answers POST only")
    assert path.startswith(landed.rstrip("/")), f"{path} → {landed}, not the page holding the form"
    assert "GET" in shown.methods
    if path in FORM_PAGES:
        assert landed == FORM_PAGES[path]


@pytest.mark.parametrize("path", ["/account/contact", "/privacy/3", "/rooms/delete", "/account/people"])
def test_switching_language_on_a_page_stays_on_it(world_app, path):
    assert _switched_to(world_app.test_client(), path) == path


def test_after_a_refused_address_the_language_switch_shows_the_contact_page_in_english(app, client, sign_in_as):
    from portal.extensions import db
    from tests import factories

    identity = factories.identity(customer=factories.customer())
    db.session.commit()
    sign_in_as(identity)
    refused = client.submit("/account/contact/address", {"street": "", "postal_code": "1", "city": "", "country": "x"})
    assert refused.status_code == 400
    next_path = re.search(r'name="next" value="([^"]+)"', refused.get_data(as_text=True)).group(1)

    page = client.submit("/language", {"lang": "en", "next": next_path}, follow_redirects=True)

    assert page.status_code == 200
    assert page.request.path == "/account/contact"
    assert '<html lang="en">' in page.get_data(as_text=True)


@pytest.mark.parametrize("next_path", ["/rooms\r\nX-Injected: 1", "/\t/evil.example/", "/account\x7f"])
def test_a_next_address_with_control_characters_goes_to_the_home_page(world_app, next_path):
    assert _switched_to(world_app.test_client(), next_path) == "/"
