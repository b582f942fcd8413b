"""/account/export.json and /account/export: the complete export, streamed, audited, after a recent sign-in."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import requests
from sqlalchemy import select

from portal.audit import AuditEvent
from portal.auth.models import Identity, UserSession
from portal.demo.data import demo_document
from portal.db_types import local_today
from portal.extensions import db
from portal.transparency.registry import CUSTOMER_CATEGORIES, Kind
from tests import factories
from tests.account.test_demo import load_demo
from tests.transparency.test_data_page import demo_claims

TOP_LEVEL = ["schema", "schema_version", "generated_at", "language", "customer_number", "registry", "data"]


def download(client, path="/account/export.json"):
    response = client.get(path)
    assert response.status_code == 200, response.headers.get("Location")
    return response, json.loads(response.get_data(as_text=True))


def test_demo_export_holds_every_imported_value(app, client, sign_in_via_provider):
    load_demo(app)
    sign_in_via_provider(demo_claims("anna.kowalska"))
    [source] = [c for c in demo_document(Path(app.config["RECORDINGS_DIR"]))["customers"]
                if c["number"] == "MCX-000123"]

    _, document = download(client)

    data = document["data"]
    assert {k: data["customer"][k] for k in ("number", "kind", "company_name", "tax_id", "first_name", "last_name")} \
        == {k: source[k] for k in ("number", "kind", "company_name", "tax_id", "first_name", "last_name")}
    assert (data["contact"]["email"], data["contact"]["phone"]) == (source["email"], source["phone"])
    assert data["address"] == source["address"]
    assert data["contract"]["number"] == source["contract"]["number"]
    assert data["contract"]["signed_on"] == source["contract"]["signed_on"]
    assert sorted(data["contract"]["services"]) == sorted(source["contract"]["services"])
    assert [(r["name"], r["kind"]) for r in data["rooms"]] == [(r["name"], r["kind"]) for r in source["rooms"]]
    expected_recordings = sorted((room["name"], rec["title"], rec["duration_s"], rec["size_bytes"], rec["sha256"],
                                  datetime.fromisoformat(rec["started_at"]))
                                 for room in source["rooms"] for rec in room.get("recordings", []))
    assert sorted((r["room"], r["title"], r["duration_s"], r["size_bytes"], r["sha256"],
                   datetime.fromisoformat(r["started_at"])) for r in data["recordings"]) == expected_recordings
    rooms_by_key = {room["key"]: room["name"] for room in source["rooms"]}
    assert sorted((p["name"], p["email"], p["recordings"], sorted(p["rooms"])) for p in data["authorized_persons"]) \
        == sorted((p["name"], p["email"], p["recordings"], sorted(rooms_by_key[k] for k in p["rooms"]))
                  for p in source["authorized_persons"])
    assert sorted((c["channel"], c["granted"], datetime.fromisoformat(c["at"]), c["source"])
                  for c in data["consent_events"]) \
        == sorted((c["channel"], c["granted"], datetime.fromisoformat(c["at"]), c["source"]) for c in source["consents"])
    assert [i["subject"] for i in data["sign_ins"]] == ["anna.kowalska"]


def test_export_has_stable_keys_every_category_and_iso_times(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    room = factories.room(customer)
    factories.recording(room)
    factories.delegate(customer, rooms=[room])
    db.session.commit()

    _, document = download(owner_client)

    assert list(document) == TOP_LEVEL
    assert document["schema"] == "mcx-privacy-portal/export" and document["schema_version"] == 1
    assert document["customer_number"] == customer.number
    assert list(document["data"]) == [c.key for c in CUSTOMER_CATEGORIES] == list(document["registry"])
    for category in CUSTOMER_CATEGORIES:
        about = document["registry"][category.key]
        assert about["purpose"] and about["retention"] and about["recipients"], category.key
        assert about["legal_basis"] == [str(b) for b in category.bases]
        records = [document["data"][category.key]] if not category.many else document["data"][category.key]
        for record in records:
            assert list(record) == [f.key for f in category.fields], category.key
            for f in category.fields:
                if f.kind == Kind.DATETIME and record[f.key] is not None:
                    assert datetime.fromisoformat(record[f.key]).utcoffset() == timedelta(0), (category.key, f.key)
                if f.kind == Kind.DATE and record[f.key] is not None:
                    date.fromisoformat(record[f.key])
    assert len(document["data"]["recordings"]) == 1 and document["data"]["authorized_persons"][0]["rooms"] == ["Sala"]
    assert datetime.fromisoformat(document["generated_at"]).tzinfo is not None


def test_export_is_streamed_as_a_named_attachment(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer

    response = owner_client.get("/account/export.json")

    assert response.was_streamed
    assert response.mimetype == "application/json"
    today = local_today().isoformat()  # the Warsaw day: after 23:00 UTC it is already tomorrow there
    assert response.headers["Content-Disposition"] == f'attachment; filename="mcx-data-{customer.number}-{today}.json"'
    assert "no-store" in response.headers["Cache-Control"]
    assert json.loads(response.get_data(as_text=True))["customer_number"] == customer.number


def test_export_starts_before_its_lists_are_read(owner_client, owner):
    """The download begins with the document's opening alone: a client (or a proxy with a timeout)
    sees bytes at once, however long the customer's lists take to read."""
    customer = db.session.get(Identity, owner.id).customer

    response = owner_client.get("/account/export.json", buffered=False)
    chunks = iter(response.response)
    first = next(chunks).decode()
    rest = b"".join(chunks).decode()
    response.close()

    assert first.startswith('{"schema":"mcx-privacy-portal/export"')
    assert customer.number in first and '"data":' not in first
    assert json.loads(first + rest)["customer_number"] == customer.number


def test_each_export_is_an_audit_event_in_the_activity_log(owner_client, owner):
    download(owner_client)
    owner_client.get("/account/export").get_data()

    events = db.session.scalars(select(AuditEvent).where(AuditEvent.kind == "data_exported")
                                .order_by(AuditEvent.seq)).all()
    assert [(e.actor_identity_id, e.customer_id, e.details["format"]) for e in events] == [
        (owner.id, owner.customer_id, "json"), (owner.id, owner.customer_id, "html")]
    page = owner_client.get("/account/activity").get_data(as_text=True)
    assert page.count('data-kind="data_exported"') == 2 and "Eksport danych" in page
    # the next export lists the earlier ones
    _, document = download(owner_client)
    exports = [e for e in document["data"]["activity_log"] if e["kind"] == "data_exported"]
    assert [(e["who"], e["details"]) for e in exports] == [("you", {"format": "json"}), ("you", {"format": "html"}),
                                                           ("you", {"format": "json"})]


def test_export_needs_a_recent_sign_in(owner_client, owner):
    record = db.session.scalar(select(UserSession).where(UserSession.identity_id == owner.id))
    record.auth_time = datetime.now(UTC) - timedelta(hours=2)
    db.session.commit()

    for path in ("/account/export.json", "/account/export"):
        response = owner_client.get(path)
        assert response.status_code == 302
        location = response.headers["Location"]
        assert location.startswith("/auth/login?") and "reauth=1" in location and f"next={path}" in location
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.kind == "data_exported")) is None
    assert owner_client.get("/account/data").status_code == 200  # reading the page needs no re-authentication


def test_export_holds_nothing_of_other_customers(owner_client, owner):
    stranger = factories.customer(first_name="Obca", last_name="Osoba", email="obca@example.pl")
    factories.recording(factories.room(stranger, name="Obcy pokój"), title="Obce nagranie")
    db.session.commit()

    response, _ = download(owner_client)

    text = response.get_data(as_text=True)
    assert not any(value in text for value in ("Obca", "obca@example.pl", "Obcy pokój", "Obce nagranie"))


def test_printable_export_page_is_streamed_and_complete(owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    room = factories.room(customer, name="Sala do druku")
    titles = [f"Nagranie {n}" for n in range(30)]  # more than a page of the data page: all of them here
    for title in titles:
        factories.recording(room, title=title)
    db.session.commit()

    response = owner_client.get("/account/export")

    assert response.status_code == 200 and response.was_streamed and response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert f"Dane osobowe klienta {customer.number} przechowywane przez MCX Telecom" in page
    assert all(f">{t}<" in page for t in titles)
    for value in ("Firma Testowa Sp. z o.o.", "5260250995", "Alicja", "+48 600 111 222", "Sala do druku"):
        assert value in page
    assert page.rstrip().endswith("</html>")


def test_activity_in_the_export_hides_what_an_authorized_person_did_beyond_the_kind(app, owner_client, owner):
    customer = db.session.get(Identity, owner.id).customer
    person = factories.identity()
    factories.delegate(customer, person)
    db.session.commit()
    from portal import audit

    audit.record("sign_in", actor_id=person.id, customer_id=None, ip="203.0.113.9", issuer="http://idp.test",
                 provider="mcx")
    db.session.commit()

    response, document = download(owner_client)

    [delegate_sign_in] = [e for e in document["data"]["activity_log"] if e["who"] == "authorized_person"]
    assert delegate_sign_in["kind"] == "sign_in" and delegate_sign_in["details"] == {"provider": "mcx"}
    assert "203.0.113.9" not in response.get_data(as_text=True)


def test_both_exports_stream_over_a_real_http_server(app, live_server, owner, owner_client):
    """A real server writes a streamed body after the request's database session has closed."""
    cookie = {app.config["SESSION_COOKIE_NAME"]: owner_client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value}

    printable = requests.get(f"{live_server.url}/account/export", cookies=cookie, timeout=10)
    document = requests.get(f"{live_server.url}/account/export.json", cookies=cookie, timeout=10)

    assert printable.status_code == 200 and printable.headers["Transfer-Encoding"] == "chunked"
    assert printable.text.rstrip().endswith("</html>") and "Firma Testowa Sp. z o.o." in printable.text
    assert document.status_code == 200 and document.headers["Transfer-Encoding"] == "chunked"
    assert document.json()["data"]["customer"]["company_name"] == "Firma Testowa Sp. z o.o."
