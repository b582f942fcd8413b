"""The correction form's value allows what the server allows for the chosen field: with
JavaScript the input narrows to the choice's limit (a tax ID 20 characters); without, it allows the
longest offered and the server answers for the rest."""
from __future__ import annotations

from playwright.sync_api import expect

from portal.extensions import db
from tests import factories
from tests.e2e.test_signin_journey import sign_in_in_browser


def test_the_value_input_takes_the_chosen_fields_limit(tab, live_server, provider):
    factories.customer(email="anna.kowalska@przyklad.pl", kind="company", company_name="Przykład Sp. z o.o.",
                       tax_id="5260250995", first_name="Anna", last_name="Kowalska")
    db.session.commit()
    sign_in_in_browser(tab, live_server, provider, {
        "sub": "anna.kowalska", "name": "Anna Kowalska", "email": "anna.kowalska@przyklad.pl",
        "email_verified": True})
    page = tab.page
    page.goto(live_server.url + "/account/contact")
    value = page.locator("form input[name=value]")
    expect(value).to_have_attribute("maxlength", "200")

    page.locator("form select[name=field]").select_option("tax_id")

    expect(value).to_have_attribute("maxlength", "20" if tab.javascript else "200")
