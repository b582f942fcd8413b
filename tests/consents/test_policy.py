"""Privacy-policy versions: publishing, the public pages, differences, and acknowledgement (SPEC P12)."""
from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from portal.audit import AuditEvent
from portal.consents.models import ConsentEvent, PolicyAcknowledgement, PolicyVersion
from portal.extensions import db
from tests import factories

OLD_PL = """# Polityka

## Dane

Zbieramy imię, nazwisko i adres e-mail.

## Nagrania

Nagrania przechowujemy przez czas trwania umowy.

## Kontakt

Pisz na prywatnosc@mcx.pl.
"""
NEW_PL = """# Polityka

## Dane

Zbieramy imię, nazwisko, adres e-mail i telefon.

## Nagrania

Nagrania przechowujemy przez czas trwania umowy.

## Bezpieczeństwo

Dostęp pracowników jest ograniczony.
"""


@pytest.fixture
def two_versions(app):
    old = factories.policy_version("1.0", published_at=datetime(2025, 1, 1, tzinfo=UTC), text_pl=OLD_PL,
                                   summary_pl="Pierwsza wersja.")
    new = factories.policy_version("2.0", published_at=datetime(2025, 6, 1, tzinfo=UTC), text_pl=NEW_PL,
                                   summary_pl="Dodaliśmy **telefon** i bezpieczeństwo.")
    db.session.commit()
    return old, new


@pytest.fixture
def customer_identity(app):
    customer = factories.customer()
    identity = factories.identity(customer=customer)
    db.session.commit()
    return customer, identity


@pytest.fixture
def officer(app):
    identity = factories.identity(roles=("privacy_officer",))
    db.session.commit()
    return identity


def publish_form(**overrides) -> dict:
    return {"version": "3.0", "text_pl": "# Polityka 3\n\nNowa treść.", "text_en": "# Policy 3\n\nNew text.",
            "summary_pl": "Nowa treść.", "summary_en": "New text.", "step": "publish", **overrides}


# --- the public pages ---------------------------------------------------------------------------

def test_without_any_version_the_page_says_so(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    assert "W portalu nie opublikowano jeszcze żadnej wersji polityki prywatności." in response.get_data(as_text=True)


def test_visitor_reads_the_current_version_and_the_list_of_earlier_ones(client, two_versions):
    page = client.get("/privacy").get_data(as_text=True)

    assert 'data-version="2.0"' in page
    assert "Wersja 2.0, obowiązuje od 1 czerwca 2025." in page
    assert "<h3>Polityka</h3>" in page  # the text's own headings sit under the section's
    assert "<h4>Bezpieczeństwo</h4>" in page
    assert "Dodaliśmy <strong>telefon</strong> i bezpieczeństwo." in page
    assert re.search(r'<a href="/privacy/1.0">Wersja 1.0</a>\s*— obowiązuje od 1 stycznia 2025', page)
    assert "To jest wcześniejsza wersja." not in page


def test_an_earlier_version_has_its_own_page(client, two_versions):
    page = client.get("/privacy/1.0").get_data(as_text=True)

    assert 'data-version="1.0"' in page and "To jest wcześniejsza wersja." in page
    assert "Pisz na prywatnosc@mcx.pl." in page
    assert client.get("/privacy/9.9").status_code == 404


def test_english_readers_get_the_english_text(client, two_versions):
    client.submit("/language", {"lang": "en", "next": "/"})
    page = client.get("/privacy").get_data(as_text=True)
    assert "<h3>Policy 2.0</h3>" in page and "Version 2.0, in force since 1 June 2025." in page


def test_difference_between_two_versions_is_readable_and_needs_no_styles(client, two_versions):
    page = client.get("/privacy?from=1.0&to=2.0").get_data(as_text=True)
    comparison = page[page.index('<div id="policy-comparison"'):]

    assert "Różnice między wersją 1.0 a wersją 2.0" in comparison
    assert "Akapity zmienione: 2, dodane: 1, usunięte: 1." in comparison
    # an edited paragraph shows the removed and the added words, each labelled for screen readers
    assert ('Zbieramy imię, <del><span class="consent-sr">[usunięto: </span>nazwisko<span class="consent-sr">]</span></del>'
            '<ins><span class="consent-sr">[dodano: </span>nazwisko, adres e-mail<span class="consent-sr">]</span></ins> i ') in comparison
    assert '<p class="diff-added"><ins><span class="consent-sr">Dodany akapit: </span>Dostęp pracowników jest ograniczony.</ins></p>' in comparison
    assert '<p class="diff-removed"><del><span class="consent-sr">Usunięty akapit: </span>Pisz na prywatnosc@mcx.pl.</del></p>' in comparison
    assert "style=" not in comparison and "<style" not in comparison


def test_comparison_as_an_htmx_fragment(client, two_versions):
    response = client.get("/privacy?from=1.0&to=2.0", headers={"HX-Request": "true", "HX-Target": "policy-comparison"})

    fragment = response.get_data(as_text=True)
    assert fragment.lstrip().startswith('<div id="policy-comparison"') and "<html" not in fragment
    assert "Różnice między wersją 1.0 a wersją 2.0" in fragment and "HX-Request" in response.vary


@pytest.mark.parametrize("query, message", [
    ("from=2.0&to=2.0", "Wybierz do porównania dwie różne wersje."),
    ("from=1.0&to=7.0", "Wybierz do porównania dwie opublikowane wersje."),
])
def test_comparison_needs_two_different_published_versions(client, two_versions, query, message):
    page = client.get(f"/privacy?{query}").get_data(as_text=True)
    assert message in page and "diff-changed" not in page


# --- publishing ---------------------------------------------------------------------------------

def test_privacy_officer_publishes_a_version(client, officer, sign_in_as, two_versions):
    sign_in_as(officer)
    form_page = client.get("/staff/policy").get_data(as_text=True)
    assert "Bezpieczeństwo" in form_page  # the form starts from the current text

    response = client.submit("/staff/policy", publish_form())

    assert response.status_code == 303 and response.headers["Location"] == "/staff/policy"
    policy = db.session.scalar(select(PolicyVersion).where(PolicyVersion.version == "3.0"))
    assert policy.published_by_id == officer.id and policy.text_en.startswith("# Policy 3")
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "policy_published"))
    assert audit.actor_identity_id == officer.id
    assert audit.details == {"version": "3.0", "http_request_id": response.headers["X-Request-ID"]}
    assert "Wersja 3.0 jest opublikowana." in client.get("/staff/policy").get_data(as_text=True)
    assert 'data-version="3.0"' in client.get("/privacy").get_data(as_text=True)


def test_publishing_shows_a_preview_and_asks_to_confirm(client, officer, sign_in_as, two_versions):
    sign_in_as(officer)

    preview = client.submit("/staff/policy", {**publish_form(text_pl="# Polityka 3\n\n**Nowa** treść."), "step": "preview"})

    page = preview.get_data(as_text=True)
    assert preview.status_code == 200
    assert "Podgląd wersji 3.0" in page and "<strong>Nowa</strong> treść." in page
    assert "Opublikuj wersję 3.0 teraz" in page
    assert db.session.scalar(select(func.count(PolicyVersion.id))) == 2  # nothing published yet
    back = client.submit("/staff/policy", {**publish_form(), "step": "edit"})
    assert back.status_code == 200 and 'name="text_pl"' in back.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PolicyVersion.id))) == 2
    # the confirmation sends back exactly what was previewed
    confirm = re.search(r'<form method="post" action="/staff/policy" class="actions">(.*?)</form>', page, re.S).group(1)
    fields = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', confirm))
    assert fields["version"] == "3.0" and fields["text_pl"] == "# Polityka 3\n\n**Nowa** treść."
    published = client.submit("/staff/policy", {**{k: html.unescape(v) for k, v in fields.items() if k != "csrf_token"},
                                                "step": "publish"})
    assert published.status_code == 303
    assert db.session.scalar(select(PolicyVersion.text_pl).where(PolicyVersion.version == "3.0")).strip() == \
        "# Polityka 3\n\n**Nowa** treść."


@pytest.mark.parametrize("who, status", [("moderator", 403), ("customer", 403), ("signed out", 302)])
def test_only_a_privacy_officer_publishes(client, sign_in_as, customer_identity, who, status):
    if who == "moderator":
        sign_in_as(factories.identity(roles=("moderator",)))
    elif who == "customer":
        sign_in_as(customer_identity[1])

    assert client.get("/staff/policy").status_code == status
    assert client.submit("/staff/policy", publish_form()).status_code == status
    assert db.session.scalar(select(func.count(PolicyVersion.id))) == 0


def test_a_failed_form_keeps_what_was_typed_and_says_what_is_wrong(client, officer, sign_in_as, two_versions):
    sign_in_as(officer)

    response = client.submit("/staff/policy", publish_form(version="2.0", summary_en="", text_pl="Mój **tekst** <b>"))

    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="version"', page) or \
        re.search(r'<input[^>]*id="version"[^>]*aria-invalid="true"', page)
    assert "Ta wersja jest już opublikowana" in page and "Napisz po angielsku, co się zmieniło." in page
    assert 'id="summary_en-errors"' in page
    assert "Mój **tekst** &lt;b&gt;</textarea>" in page
    assert db.session.scalar(select(func.count(PolicyVersion.id))) == 2


def test_policy_markdown_cannot_run_or_load_anything(client, officer, sign_in_as):
    sign_in_as(officer)
    hostile = ("# Polityka\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
               "[kliknij](javascript:alert(3)) i [MCX](https://www.b2bvideo.pl)\n\n![piksel](https://tracker.example/p.png)\n")
    client.submit("/staff/policy", publish_form(version="1.0", text_pl=hostile))

    page = client.get("/privacy").get_data(as_text=True)
    text = page[page.index('class="policy-text"'):]

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert" not in text
    assert "<img" not in text and "onerror=" not in text.replace("&lt;img src=x onerror=alert(2)&gt;", "")
    assert 'href="javascript:' not in text
    assert '<a href="https://www.b2bvideo.pl">MCX</a>' in text
    assert "tracker.example/p.png" not in re.findall(r'src="([^"]*)"', text)


# --- acknowledgement ------------------------------------------------------------------------------

NOTICE = "MCX opublikował wersję 2.0 polityki prywatności."


def test_notice_until_the_customer_acknowledges_the_current_version(client, customer_identity, sign_in_as, two_versions):
    customer, identity = customer_identity
    old, new = two_versions
    db.session.add(PolicyAcknowledgement(customer_id=customer.id, policy_version_id=old.id, identity_id=identity.id))
    db.session.commit()
    sign_in_as(identity)

    for url in ("/account/", "/account/consents", "/privacy"):
        assert NOTICE in client.get(url).get_data(as_text=True), url
    page = client.get("/account/").get_data(as_text=True)
    # the notice leads to what changed since the version this customer acknowledged
    assert 'href="/privacy?from=1.0&amp;to=2.0#comparison"' in page

    response = client.submit("/privacy/acknowledge", {"version": "2.0"})

    assert response.status_code == 303
    for url in ("/account/", "/account/consents", "/privacy"):
        assert NOTICE not in client.get(url).get_data(as_text=True), url
    acknowledgements = db.session.scalars(select(PolicyAcknowledgement).where(
        PolicyAcknowledgement.customer_id == customer.id, PolicyAcknowledgement.policy_version_id == new.id)).all()
    assert [a.identity_id for a in acknowledgements] == [identity.id]
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "policy_acknowledged"))
    assert (audit.customer_id, audit.actor_identity_id, audit.details) == (
        customer.id, identity.id, {"version": "2.0", "http_request_id": response.headers["X-Request-ID"]})

    client.submit("/privacy/acknowledge", {"version": "2.0"})  # again: nothing new
    assert db.session.scalar(select(func.count(PolicyAcknowledgement.id))) == 2
    assert db.session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.kind == "policy_acknowledged")) == 1


def test_a_new_version_brings_the_notice_back_and_consents_carry_it(client, customer_identity, officer, sign_in_as, app):
    customer, identity = customer_identity
    factories.policy_version("1.0", published_at=datetime(2025, 1, 1, tzinfo=UTC))
    db.session.commit()
    customer_client = app.test_client()
    sign_in_as(identity, customer_client)
    customer_client.submit("/privacy/acknowledge", {"version": "1.0"})
    customer_client.submit("/account/consents/email", {"granted": "1"})
    assert "polityki prywatności" not in customer_client.get("/account/").get_data(as_text=True).split("<main", 1)[1].split('id="messages"')[0]

    sign_in_as(officer)
    client.submit("/staff/policy", publish_form(version="2.0"))

    page = customer_client.get("/account/").get_data(as_text=True)
    assert NOTICE in page
    customer_client.submit("/account/consents/email", {"granted": "0"})
    versions = db.session.execute(select(ConsentEvent.granted, PolicyVersion.version).join(ConsentEvent.policy_version)
                                  .order_by(ConsentEvent.at)).all()
    assert [tuple(v) for v in versions] == [(True, "1.0"), (False, "2.0")]


@pytest.mark.parametrize("who", ["delegate", "staff"])
def test_people_without_a_customer_account_see_no_notice_and_cannot_acknowledge(client, sign_in_as, two_versions,
                                                                               customer_identity, who):
    customer, _ = customer_identity
    if who == "delegate":
        person = factories.identity()
        factories.delegate(customer, person)
    else:
        person = factories.identity(roles=("privacy_officer",))
    db.session.commit()
    sign_in_as(person)

    assert NOTICE not in client.get("/account/").get_data(as_text=True)
    assert client.submit("/privacy/acknowledge", {"version": "2.0"}).status_code == 404
    assert db.session.scalar(select(func.count(PolicyAcknowledgement.id))) == 0


def test_acknowledging_an_unknown_version_is_not_found(client, customer_identity, sign_in_as, two_versions):
    sign_in_as(customer_identity[1])
    assert client.submit("/privacy/acknowledge", {"version": "8.0"}).status_code == 404
