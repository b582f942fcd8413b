"""/account/consents: one control per channel, with and without htmx, and the history (SPEC P4)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.consents.models import ConsentEvent
from portal.extensions import db
from tests import factories


@pytest.fixture
def owner(app):
    customer = factories.customer(email="anna@przyklad.pl")
    identity = factories.identity(customer=customer)
    db.session.commit()
    return customer, identity


def events_of(customer) -> list[ConsentEvent]:
    return list(db.session.scalars(select(ConsentEvent).where(ConsentEvent.customer_id == customer.id)
                                   .order_by(ConsentEvent.at, ConsentEvent.id)))


def channel_card(page: str, channel: str) -> str:
    match = re.search(rf'<li class="consent-channel" data-channel="{channel}".*?</li>', page, re.S)
    assert match, f"no control for {channel}"
    return match.group(0)


def test_owner_sees_each_channel_as_the_newest_event_says(client, owner, sign_in_as):
    customer, identity = owner
    factories.consent_event(customer, "email", True, at=datetime(2025, 1, 15, 9, tzinfo=UTC))
    factories.consent_event(customer, "phone", True, at=datetime(2025, 1, 15, 9, tzinfo=UTC))
    factories.consent_event(customer, "phone", False, at=datetime(2025, 3, 10, 14, tzinfo=UTC), source="staff")
    db.session.commit()
    sign_in_as(identity)

    page = client.get("/account/consents").get_data(as_text=True)

    assert "<h1>Twoje zgody</h1>" in page
    assert 'data-granted="yes"' in channel_card(page, "email") and "Wycofuję zgodę na e-maile" in channel_card(page, "email")
    assert 'data-granted="no"' in channel_card(page, "sms") and "Wyrażam zgodę na SMS-y" in channel_card(page, "sms")
    assert 'data-granted="no"' in channel_card(page, "phone")
    assert "Wyrażam zgodę na połączenia telefoniczne" in channel_card(page, "phone")
    # the history shows all three events, newest first, with their sources
    rows = re.findall(r'<tr data-receipt="[^"]+" data-channel="(\w+)" data-granted="(\w+)"', page)
    assert rows == [("phone", "no"), ("phone", "yes"), ("email", "yes")]
    assert "Pracownik MCX, na Twoją prośbę" in page and "Formularz zamówienia" in page
    assert "Wiadomości serwisowe to nie marketing" in page


@pytest.mark.parametrize("who", ["delegate", "staff", "unlinked"])
def test_only_the_owner_reaches_the_page_and_the_control(client, owner, sign_in_as, who):
    customer, _ = owner
    if who == "delegate":
        person = factories.identity()
        factories.delegate(customer, person)
    elif who == "staff":
        person = factories.identity(roles=("moderator", "privacy_officer"))
    else:
        person = factories.identity()
    db.session.commit()
    sign_in_as(person)

    assert client.get("/account/consents").status_code == 404
    assert client.submit("/account/consents/email", {"granted": "1"}).status_code == 404
    assert events_of(customer) == []


def test_signed_out_visitor_is_sent_to_sign_in(client, owner):
    response = client.get("/account/consents")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_giving_consent_without_javascript_posts_and_comes_back_with_the_new_state(client, owner, sign_in_as):
    customer, identity = owner
    policy = factories.policy_version("1.0", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    db.session.commit()
    sign_in_as(identity)

    response = client.submit("/account/consents/email", {"granted": "1"})

    assert response.status_code == 303 and response.headers["Location"] == "/account/consents"
    page = client.get("/account/consents").get_data(as_text=True)
    assert "Zgoda udzielona: możemy wysyłać Ci e-mailem informacje" in page
    assert "Potwierdzenie wysłaliśmy na adres anna@przyklad.pl." in page
    assert 'data-granted="yes"' in channel_card(page, "email")
    [event] = events_of(customer)
    assert (event.channel, event.granted, event.source, event.collection_method) == ("email", True, "portal", "portal_web_form")
    assert (event.actor_identity_id, event.policy_version_id, event.language) == (identity.id, policy.id, "pl")
    audit = db.session.scalars(select(AuditEvent).where(AuditEvent.customer_id == customer.id)).all()
    assert [(a.kind, a.actor_identity_id, a.details["channel"]) for a in audit] == [("consent_given", identity.id, "email")]


def test_withdrawing_is_the_same_single_click_as_giving(client, owner, sign_in_as):
    customer, identity = owner
    db.session.commit()
    sign_in_as(identity)

    give_page = client.get("/account/consents").get_data(as_text=True)
    give_form = re.search(r'<form method="post" action="/account/consents/sms".*?</form>', give_page, re.S).group(0)
    client.submit("/account/consents/sms", {"granted": "1"})
    withdraw_page = client.get("/account/consents").get_data(as_text=True)
    withdraw_form = re.search(r'<form method="post" action="/account/consents/sms".*?</form>', withdraw_page, re.S).group(0)

    # the same form, one button, no confirmation step: only the wanted state and the label differ
    assert give_form.count("<button") == withdraw_form.count("<button") == 1
    assert 'name="granted" value="1"' in give_form and 'name="granted" value="0"' in withdraw_form
    response = client.submit("/account/consents/sms", {"granted": "0"})
    assert response.status_code == 303
    assert [e.granted for e in events_of(customer)] == [True, False]
    assert "Zgoda wycofana: nie będziemy wysyłać Ci SMS-em" in client.get("/account/consents").get_data(as_text=True)


def test_htmx_toggle_returns_the_panel_and_announces_the_change(client, owner, sign_in_as):
    customer, identity = owner
    db.session.commit()
    sign_in_as(identity)

    response = client.submit("/account/consents/phone", {"granted": "1"},
                             headers={"HX-Request": "true", "HX-Target": "consents-panel"})

    fragment = response.get_data(as_text=True)
    assert response.status_code == 200 and "HX-Request" in response.vary
    assert "<html" not in fragment and fragment.lstrip().startswith('<div id="consents-panel"')
    assert 'data-granted="yes"' in channel_card(fragment, "phone")
    assert "Wycofuję zgodę na połączenia telefoniczne" in fragment
    # the announcement goes into the page's existing live region, out of band
    assert re.search(r'<div id="messages" hx-swap-oob="innerHTML"><p class="flash flash-success" role="status">'
                     r"Zgoda udzielona: możemy dzwonić do Ciebie", fragment)
    assert [e.channel for e in events_of(customer)] == ["phone"]


def test_the_same_choice_again_records_nothing(client, owner, sign_in_as):
    customer, identity = owner
    factories.consent_event(customer, "email", True)
    db.session.commit()
    sign_in_as(identity)

    client.submit("/account/consents/email", {"granted": "1"})
    page = client.get("/account/consents").get_data(as_text=True)
    assert "E-mail: nic się nie zmieniło, to już był Twój wybór." in page

    client.submit("/account/consents/sms", {"granted": "0"})  # never given: nothing to withdraw
    assert len(events_of(customer)) == 1


@pytest.mark.parametrize("channel, data, status", [
    ("fax", {"granted": "1"}, 404), ("email", {"granted": "yes"}, 400), ("email", {}, 400),
])
def test_unknown_channel_or_value_changes_nothing(client, owner, sign_in_as, channel, data, status):
    customer, identity = owner
    sign_in_as(identity)

    assert client.submit(f"/account/consents/{channel}", data).status_code == status
    assert events_of(customer) == []


def test_history_pages_cost_the_same_number_of_queries_however_long_it_is(app, client, owner, sign_in_as):
    customer, identity = owner
    policy = factories.policy_version("1.0", published_at=datetime(2024, 1, 1, tzinfo=UTC))
    for minute in range(3):
        factories.consent_event(customer, "sms", minute % 2 == 0, at=datetime(2025, 1, 1, 0, minute, tzinfo=UTC),
                                policy_version=policy)
    db.session.commit()
    sign_in_as(identity)

    def statements(url: str) -> int:
        count = 0

        def counter(*args):
            nonlocal count
            count += 1

        sa_event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert client.get(url).status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", counter)
        return count

    few = statements("/account/consents")
    for minute in range(3, 60):
        factories.consent_event(customer, "sms", minute % 2 == 0, at=datetime(2025, 1, 1, 0, minute, tzinfo=UTC),
                                policy_version=policy)
    db.session.commit()
    many = statements("/account/consents")
    assert many == few

    # keyset pages walk the whole history once, newest first, without repeating an event
    seen, url = [], "/account/consents"
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += re.findall(r'<tr data-receipt="([^"]+)"', page)
        older = re.search(r'href="(/account/consents\?before=[^"]+)"', page)
        url = older.group(1).replace("&amp;", "&") if older else None
    expected = [e.receipt_id for e in reversed(events_of(customer))]
    assert seen == expected and len(seen) == 60
    assert statements(f"/account/consents?before={expected[19]}") == many + 1  # + the cursor's lookup


def test_another_customers_cursor_is_not_found(client, owner, sign_in_as):
    _, identity = owner
    stranger = factories.customer()
    other = factories.consent_event(stranger, "email", True)
    db.session.commit()
    sign_in_as(identity)

    assert client.get(f"/account/consents?before={other.receipt_id}").status_code == 404


def test_english_page_for_an_english_reader(client, owner, sign_in_as):
    _, identity = owner
    sign_in_as(identity)
    client.submit("/language", {"lang": "en", "next": "/"})

    page = client.get("/account/consents").get_data(as_text=True)

    assert "Give consent to e-mails" in page and "Service messages are not marketing" in page
    assert db.session.scalar(select(func.count(ConsentEvent.id))) == 0
