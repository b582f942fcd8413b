"""`flask portal import`: the order system's export becomes customers, all of it or nothing."""
from __future__ import annotations

import copy
import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import current_app, has_app_context
from sqlalchemy import func, select

from portal import audit
from portal.audit import AuditEvent
from portal.consents.models import ConsentEvent
from portal.crm_import.importer import ImportFailed, import_customers
from portal.customers.models import Contract, ContractService, ContractStatus, Customer, Recording, Room
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus, delegate_rooms
from portal.storage import recording_store
from tests.conftest import both_backends


def put_file(root: Path, relative: str, content: bytes) -> dict:
    """Write a recording file under the recordings root (or into the app's S3 store when it has
    one, uploaded with its SHA-256 checksum); return the import fields describing it."""
    if has_app_context() and current_app.config.get("RECORDINGS_URL") and root == store_root():
        recording_store().put(relative, content)
    else:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return {"file": relative, "size_bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def store_root() -> Path:
    return Path(current_app.config["RECORDINGS_DIR"])


def company(root: Path) -> dict:
    return {
        "number": "MCX-000123", "kind": "company", "company_name": "Przykład Sp. z o.o.",
        "tax_id": "5260250995", "first_name": "Anna", "last_name": "Kowalska",
        "email": "anna@example.pl", "phone": "+48 600 100 200",
        "address": {"street": "ul. Prosta 1", "postal_code": "00-001", "city": "Warszawa", "country": "PL"},
        "contract": {"number": "U/2025/001", "signed_on": "2025-01-15",
                     "services": ["pc_video", "video_room", "teleconference_room", "recorded_video_room"]},
        "rooms": [
            {"key": "r1", "name": "Sala zarządu", "kind": "recorded_video_room", "recordings": [
                {"key": "rec1", "title": "Zarząd 2025-02", "started_at": "2025-02-03T10:00:00Z",
                 "duration_s": 3600, **put_file(root, "MCX-000123/rec1.mp4", b"zarzad-luty" * 300)},
                {"key": "rec2", "title": "Zarząd 2025-03", "started_at": "2025-03-03T10:00:00+01:00",
                 "duration_s": 1800, **put_file(root, "MCX-000123/rec2.mp4", b"zarzad-marzec" * 200)},
            ]},
            {"key": "r2", "name": "Sala szkoleniowa", "kind": "video_room"},
            {"key": "r3", "name": "Telekonferencje", "kind": "teleconference_room"},
        ],
        "authorized_persons": [
            {"name": "Jan Nowak", "email": "Jan@Example.pl", "rooms": ["r1"], "recordings": True},
        ],
        "consents": [
            {"purpose": "product_notifications", "channel": "email", "granted": True,
             "at": "2025-01-15T09:00:00Z", "source": "order_form"},
            {"purpose": "product_notifications", "channel": "sms", "granted": False,
             "at": "2025-01-15T09:00:00Z", "source": "order_form"},
        ],
    }


def person() -> dict:
    return {
        "number": "MCX-000200", "kind": "person", "first_name": "Tomasz", "last_name": "Lewandowski",
        "email": "tomasz@example.pl",
        "address": {"street": "ul. Długa 15/3", "postal_code": "80-831", "city": "Gdańsk", "country": "PL"},
        "contract": {"number": "U/2025/014", "signed_on": "2025-03-03", "services": ["teleconference_room"]},
        "rooms": [{"key": "r1", "name": "Konsultacje", "kind": "teleconference_room"}],
        "consents": [{"purpose": "product_notifications", "channel": "phone", "granted": True,
                      "at": "2025-03-03T10:15:00+01:00", "source": "order_form"}],
    }


@pytest.fixture
def root(app) -> Path:
    return Path(app.config["RECORDINGS_DIR"])


@pytest.fixture
def document(root) -> dict:
    return {"customers": [company(root), person()]}


def run_import(app, document: dict, tmp_path: Path):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["portal", "import", str(path)])


def row_counts() -> dict[str, int]:
    tables = [Customer, Contract, ContractService, Room, Recording, Delegate, delegate_rooms, ConsentEvent,
              AuditEvent]
    return {getattr(t, "__tablename__", None) or t.name: db.session.scalar(select(func.count()).select_from(t))
            for t in tables}


def customer(number: str) -> Customer:
    return db.session.scalar(select(Customer).where(Customer.number == number))


def audit_events(kind: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind).order_by(AuditEvent.seq)))


def errors_of(document: dict, root: Path) -> list[str]:
    with pytest.raises(ImportFailed) as failure:
        import_customers(document, root)
    return failure.value.errors


# --- a valid file -------------------------------------------------------------------------------

@both_backends
def test_valid_import_creates_everything(app, document, tmp_path):
    result = run_import(app, document, tmp_path)

    assert result.exit_code == 0, result.output
    assert "customers: 2 created, 0 updated, 0 unchanged" in result.stdout
    anna = customer("MCX-000123")
    assert (anna.kind, anna.company_name, anna.tax_id) == ("company", "Przykład Sp. z o.o.", "5260250995")
    assert (anna.first_name, anna.last_name, anna.email, anna.phone) == (
        "Anna", "Kowalska", "anna@example.pl", "+48 600 100 200")
    assert (anna.street, anna.postal_code, anna.city, anna.country) == ("ul. Prosta 1", "00-001", "Warszawa", "PL")
    assert anna.contract.number == "U/2025/001"
    assert anna.contract.signed_on == date(2025, 1, 15)
    assert anna.contract.status == ContractStatus.ACTIVE
    assert sorted(anna.contract.service_codes) == [
        "pc_video", "recorded_video_room", "teleconference_room", "video_room"]
    assert [(r.key, r.name, r.kind) for r in anna.rooms] == [
        ("r1", "Sala zarządu", "recorded_video_room"), ("r2", "Sala szkoleniowa", "video_room"),
        ("r3", "Telekonferencje", "teleconference_room")]
    recordings = anna.rooms[0].recordings
    assert [(r.key, r.title, r.duration_s, r.file) for r in recordings] == [
        ("rec1", "Zarząd 2025-02", 3600, "MCX-000123/rec1.mp4"),
        ("rec2", "Zarząd 2025-03", 1800, "MCX-000123/rec2.mp4")]
    assert recordings[1].started_at == datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    for recording, item in zip(recordings, document["customers"][0]["rooms"][0]["recordings"]):
        assert (recording.size_bytes, recording.sha256) == (item["size_bytes"], item["sha256"])

    (jan,) = db.session.scalars(select(Delegate).where(Delegate.customer_id == anna.id))
    assert (jan.name, jan.email.lower(), jan.status, jan.source) == (
        "Jan Nowak", "jan@example.pl", DelegateStatus.ACTIVE, "order_form")
    assert jan.recordings is True
    assert [r.key for r in jan.rooms] == ["r1"]

    events = db.session.scalars(select(ConsentEvent).where(ConsentEvent.customer_id == anna.id)
                                .order_by(ConsentEvent.channel)).all()
    assert [(e.channel, e.granted, e.source, e.collection_method) for e in events] == [
        ("email", True, "order_form", "order_form_import"), ("sms", False, "order_form", "order_form_import")]
    assert all(e.purpose == "product_notifications" and len(e.receipt_id) == 36 for e in events)
    assert events[0].at == datetime(2025, 1, 15, 9, 0, tzinfo=UTC)

    tomasz = customer("MCX-000200")
    assert (tomasz.kind, tomasz.company_name, tomasz.tax_id, tomasz.phone) == ("person", None, None, None)
    assert [r.kind for r in tomasz.rooms] == ["teleconference_room"]


def test_import_is_audited_without_personal_data(app, document, tmp_path):
    run_import(app, document, tmp_path)

    (run,) = audit_events("import")
    assert run.details["customers_created"] == 2
    assert run.details["recordings_created"] == 2
    imported = audit_events("customer_imported")
    assert {e.customer_id for e in imported} == {customer("MCX-000123").id, customer("MCX-000200").id}
    assert all(e.details["created"] is True for e in imported)
    assert not any("anna@example.pl" in e.data or "Kowalska" in e.data for e in audit_events("customer_imported"))
    assert audit.verify().ok


@both_backends
def test_importing_the_same_file_twice_changes_nothing(app, document, tmp_path):
    assert run_import(app, document, tmp_path).exit_code == 0
    before = row_counts()
    receipts = set(db.session.scalars(select(ConsentEvent.receipt_id)))
    updated_at = customer("MCX-000123").updated_at

    again = run_import(app, document, tmp_path)

    assert again.exit_code == 0, again.output
    assert "customers: 0 created, 0 updated, 2 unchanged" in again.stdout
    assert "consent events: 0 added" in again.stdout
    after = row_counts()
    assert after.pop("audit_events") == before.pop("audit_events") + 1  # only the run itself
    assert after == before
    assert set(db.session.scalars(select(ConsentEvent.receipt_id))) == receipts
    assert customer("MCX-000123").updated_at == updated_at
    assert len(audit_events("customer_imported")) == 2


def test_a_changed_file_updates_and_adds_but_never_deletes(app, document, root, tmp_path):
    run_import(app, document, tmp_path)
    anna_id = customer("MCX-000123").id
    changed = copy.deepcopy(document)
    data = changed["customers"][0]
    data["email"] = "anna.kowalska@example.pl"
    data["address"]["street"] = "ul. Prosta 51"
    data["contract"]["services"] = ["video_room", "recorded_video_room"]
    data["rooms"][0]["name"] = "Sala zarządu (3 piętro)"
    data["rooms"][0]["recordings"].pop()  # rec2 is no longer in the export
    data["rooms"].pop(1)  # neither is r2
    data["rooms"].append({"key": "r4", "name": "Pokój projektowy", "kind": "recorded_video_room",
                          "recordings": [{"key": "rec9", "title": "Warsztat", "started_at": "2025-04-01T08:00:00Z",
                                          "duration_s": 600, **put_file(root, "MCX-000123/rec9.mp4", b"x" * 999)}]})
    data["authorized_persons"][0]["rooms"] = ["r1", "r4"]
    data["authorized_persons"][0]["recordings"] = False
    data["authorized_persons"].append({"name": "Ewa Nowa", "email": "ewa@example.pl", "rooms": ["r3"]})
    data["consents"].append({"purpose": "product_notifications", "channel": "email", "granted": False,
                             "at": "2025-05-01T12:00:00Z", "source": "staff"})

    result = run_import(app, changed, tmp_path)

    assert result.exit_code == 0, result.output
    assert "customers: 0 created, 1 updated, 1 unchanged" in result.stdout
    assert 'kept, not in file: MCX-000123: room "r2"' in result.stdout
    assert 'kept, not in file: MCX-000123: recording "r1/rec2"' in result.stdout
    anna = db.session.get(Customer, anna_id)
    assert (anna.email, anna.street) == ("anna.kowalska@example.pl", "ul. Prosta 51")
    assert sorted(anna.contract.service_codes) == ["recorded_video_room", "video_room"]
    assert [(r.key, r.name) for r in anna.rooms] == [
        ("r1", "Sala zarządu (3 piętro)"), ("r2", "Sala szkoleniowa"), ("r3", "Telekonferencje"),
        ("r4", "Pokój projektowy")]
    assert [r.key for r in anna.rooms[0].recordings] == ["rec1", "rec2"]
    assert [r.key for r in anna.rooms[3].recordings] == ["rec9"]
    delegates = db.session.scalars(select(Delegate).where(Delegate.customer_id == anna_id).order_by(Delegate.id)).all()
    assert [(d.name, [r.key for r in d.rooms], d.recordings) for d in delegates] == [
        ("Jan Nowak", ["r1", "r4"], False), ("Ewa Nowa", ["r3"], False)]
    email_events = db.session.scalars(select(ConsentEvent).where(
        ConsentEvent.customer_id == anna_id, ConsentEvent.channel == "email").order_by(ConsentEvent.at)).all()
    assert [(e.granted, e.source) for e in email_events] == [(True, "order_form"), (False, "staff")]
    (update,) = [e for e in audit_events("customer_imported") if not e.details["created"]]
    assert update.customer_id == anna_id
    assert update.details["changed"] == ["authorized_persons", "consents", "contract", "email", "rooms", "street"]
    assert "anna.kowalska@example.pl" not in update.data


def test_consent_events_added_in_the_portal_survive_a_reimport(app, document, tmp_path):
    run_import(app, document, tmp_path)
    anna = customer("MCX-000123")
    db.session.add(ConsentEvent(receipt_id="00000000-0000-4000-8000-000000000001", customer_id=anna.id,
                                purpose="product_notifications", channel="email", granted=False,
                                at=datetime(2025, 6, 1, tzinfo=UTC), source="portal",
                                collection_method="portal_toggle"))
    db.session.commit()

    assert run_import(app, document, tmp_path).exit_code == 0

    newest = db.session.scalars(select(ConsentEvent).where(ConsentEvent.customer_id == anna.id,
                                                           ConsentEvent.channel == "email")
                                .order_by(ConsentEvent.at.desc())).first()
    assert (newest.granted, newest.source) == (False, "portal")


def test_a_person_removed_in_the_portal_is_not_brought_back(app, document, tmp_path):
    run_import(app, document, tmp_path)
    jan = db.session.scalar(select(Delegate))
    jan.status = DelegateStatus.REMOVED
    db.session.commit()

    result = run_import(app, document, tmp_path)

    assert result.exit_code == 0, result.output
    assert "not restored: MCX-000123: Jan@example.pl (removed in the portal)" in result.stdout
    assert db.session.scalars(select(Delegate.status)).all() == [DelegateStatus.REMOVED]


# --- an invalid file changes nothing ------------------------------------------------------------

def _set(path: str, value):
    """A change to the valid document: set the field at a dotted path like 'customers.0.email'."""
    def change(document: dict) -> None:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is _DELETE:
            del target[last]
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return change


_DELETE = object()

INVALID = [
    (_set("customers.0.email", "anna(at)example.pl"), "customers[0].email: not an e-mail address"),
    (_set("customers.1.first_name", _DELETE), "customers[1].first_name: is required"),
    (_set("customers.1.last_name", 7), "customers[1].last_name: must be a string"),
    (_set("customers.0.emial", "x@example.pl"), "customers[0].emial: unknown field"),
    (_set("customers.0.kind", "firm"), 'customers[0].kind: must be one of person, company (not "firm")'),
    (_set("customers.0.tax_id", _DELETE), "customers[0].tax_id: is required for a company"),
    (_set("customers.0.company_name", " "), "customers[0].company_name: is required for a company"),
    (_set("customers.0.tax_id", "5260250994"), "customers[0].tax_id: not a valid NIP"),
    (_set("customers.1.company_name", "Firma"), "customers[1].company_name: is only for kind company"),
    (_set("customers.0.phone", "600-CALL-ME"), "customers[0].phone: not a phone number"),
    (_set("customers.0.phone", "+48 60"), "customers[0].phone: not a phone number"),
    (_set("customers.0.address.postal_code", "00001"), "customers[0].address.postal_code: not a Polish postal code"),
    (_set("customers.0.address.country", "Polska"), "customers[0].address.country: must be a two-letter"),
    (_set("customers.0.address", _DELETE), "customers[0].address: is required"),
    (_set("customers.0.contract.signed_on", "15.01.2025"), "customers[0].contract.signed_on: not a date"),
    (_set("customers.0.contract.services.1", "fax"), 'customers[0].contract.services[1]: unknown service "fax"'),
    (_set("customers.0.contract.services", []), "customers[0].contract.services: must list at least one service"),
    (_set("customers.0.rooms.1.kind", "office"), "customers[0].rooms[1].kind: must be one of video_room"),
    (_set("customers.0.rooms.2.key", "r1"), 'customers[0].rooms[2].key: room key "r1" appears twice'),
    (_set("customers.0.rooms.1.recordings", [{}]), "customers[0].rooms[1].recordings: only a recorded_video_room"),
    (_set("customers.0.rooms.0.recordings.1.key", "rec1"),
     'customers[0].rooms[0].recordings[1].key: recording key "rec1" appears twice'),
    (_set("customers.0.rooms.0.recordings.0.started_at", "2025-02-03 10:00"),
     "customers[0].rooms[0].recordings[0].started_at: needs a time zone"),
    (_set("customers.0.rooms.0.recordings.0.duration_s", "1h"),
     "customers[0].rooms[0].recordings[0].duration_s: must be a whole number"),
    (_set("customers.0.authorized_persons.0.rooms", ["r1", "r9"]),
     'customers[0].authorized_persons[0].rooms[1]: no room with key "r9"'),
    (_set("customers.0.authorized_persons.0.email", "jan"), "customers[0].authorized_persons[0].email: not an e-mail"),
    (_set("customers.0.authorized_persons.0.recordings", "yes"),
     "customers[0].authorized_persons[0].recordings: must be true or false"),
    (_set("customers.0.consents.1.channel", "fax"),
     "customers[0].consents[1].channel: must be one of email, sms, phone"),
    (_set("customers.0.consents.0.purpose", "marketing"), "customers[0].consents[0].purpose: only"),
    (_set("customers.0.consents.0.at", "2025-01-15T09:00:00"), "customers[0].consents[0].at: needs a time zone"),
    (_set("customers.0.consents.0.at", "yesterday"), "customers[0].consents[0].at: not an ISO-8601"),
    (_set("customers.0.consents.0.at", "2999-01-01T00:00:00Z"), "customers[0].consents[0].at: is in the future"),
    (_set("customers.0.consents.0.granted", _DELETE), "customers[0].consents[0].granted: is required"),
    (_set("customers.0.consents.0.source", "portal"), "customers[0].consents[0].source: must be one of order_form"),
    (_set("customers.1.number", "MCX-000123"), 'customers[1].number: customer number "MCX-000123" appears twice'),
    (_set("customers.1.contract.number", "U/2025/001"),
     'customers[1].contract.number: contract number "U/2025/001" appears twice'),
    (_set("customers.1", "MCX-000200"), "customers[1]: must be a JSON object"),
]


@pytest.mark.parametrize(("change", "expected"), INVALID, ids=[expected.split(":")[0] for _, expected in INVALID])
def test_an_invalid_field_is_named_and_nothing_is_imported(app, document, root, change, expected):
    change(document)

    errors = errors_of(document, root)

    assert any(error.startswith(expected) for error in errors), errors
    assert row_counts() == {name: 0 for name in row_counts()}


def test_a_persons_e_mail_listed_twice_is_refused(app, document, root):
    persons = document["customers"][0]["authorized_persons"]
    persons.append({**persons[0], "email": "JAN@example.pl"})

    assert 'customers[0].authorized_persons[1].email: e-mail "jan@example.pl" appears twice' in " ".join(
        errors_of(document, root))


def test_the_same_consent_event_listed_twice_is_refused(app, document, root):
    consents = document["customers"][0]["consents"]
    consents.append({**consents[0], "at": "2025-01-15T10:00:00+01:00"})  # the same moment, written differently

    assert any(e.startswith("customers[0].consents[2]: consent event") for e in errors_of(document, root))


def test_a_file_that_is_not_an_import_document_is_refused(app, root):
    assert errors_of({"klienci": []}, root) == ["klienci: unknown field", "customers: is required"]
    assert errors_of({"customers": {}}, root) == ["customers: must be a list"]


def test_one_bad_customer_means_nothing_is_imported(app, document, tmp_path):
    document["customers"][1]["email"] = "tomasz@"

    result = run_import(app, document, tmp_path)

    assert result.exit_code == 1
    assert "customers[1].email: not an e-mail address" in result.stderr.splitlines()
    assert "nothing was imported" in result.stderr
    assert result.stdout == ""
    assert row_counts() == {name: 0 for name in row_counts()}


def test_every_error_is_printed_on_its_own_line(app, document, tmp_path):
    document["customers"][0]["email"] = "nope"
    document["customers"][1]["address"]["postal_code"] = "80831"
    document["customers"][1]["consents"][0]["channel"] = "pigeon"

    result = run_import(app, document, tmp_path)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[:3] == [
        "customers[0].email: not an e-mail address",
        'customers[1].address.postal_code: not a Polish postal code (NN-NNN): "80831"',
        'customers[1].consents[0].channel: must be one of email, sms, phone (not "pigeon")',
    ]
    assert "3 error(s): nothing was imported." in result.stderr


def test_a_failed_update_leaves_the_earlier_import_as_it_was(app, document, tmp_path):
    run_import(app, document, tmp_path)
    before = row_counts()
    document["customers"][0]["email"] = "nowy@example.pl"
    document["customers"][0]["rooms"].append({"key": "r5", "name": "Nowa", "kind": "video_room"})
    document["customers"][1]["contract"]["signed_on"] = "2025-13-01"

    result = run_import(app, document, tmp_path)

    assert result.exit_code == 1
    assert "customers[1].contract.signed_on: not a date" in result.stderr
    assert row_counts() == before
    assert customer("MCX-000123").email == "anna@example.pl"


def test_unreadable_json_is_reported(app, tmp_path):
    path = tmp_path / "export.json"
    path.write_text('{"customers": [', encoding="utf-8")

    result = app.test_cli_runner().invoke(args=["portal", "import", str(path)])

    assert result.exit_code == 1
    assert "not valid JSON" in result.stderr
    assert "nothing was imported" in result.stderr


def test_a_contract_number_of_another_customer_is_refused(app, document, root, tmp_path):
    run_import(app, document, tmp_path)
    newcomer = copy.deepcopy(document["customers"][1])
    newcomer["number"] = "MCX-000300"

    errors = errors_of({"customers": [newcomer]}, root)

    assert errors == ['customers[0].contract.number: "U/2025/014" is already the contract of customer MCX-000200']


def test_a_terminated_customer_is_not_imported_again(app, document, root, tmp_path):
    run_import(app, document, tmp_path)
    customer("MCX-000200").contract.status = ContractStatus.TERMINATED
    db.session.commit()

    errors = errors_of(document, root)

    assert errors == [
        "customers[1].number: the contract of MCX-000200 is terminated; remove this customer from the file"]


def test_a_consent_event_that_contradicts_the_recorded_one_is_refused(app, document, root, tmp_path):
    run_import(app, document, tmp_path)
    document["customers"][0]["consents"][0]["granted"] = False

    errors = errors_of(document, root)

    assert len(errors) == 1 and errors[0].startswith("customers[0].consents[0].granted: contradicts")


# --- recording files ----------------------------------------------------------------------------

@both_backends
def test_a_checksum_mismatch_is_reported(app, document, root):
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    # same size, other content: S3 reports the checksum it keeps, a local file is read
    put_file(root, item["file"], b"Z" * item["size_bytes"])
    actual = hashlib.sha256(b"Z" * item["size_bytes"]).hexdigest()

    errors = errors_of(document, root)

    assert errors == [f"customers[0].rooms[0].recordings[0].sha256: does not match the file "
                      f"(expected {item['sha256']}, file has {actual})"]


@both_backends
def test_a_size_mismatch_is_reported(app, document, root):
    item = document["customers"][0]["rooms"][0]["recordings"][1]
    put_file(root, item["file"], b"zarzad-marzec" * 200 + b"+")

    errors = errors_of(document, root)

    assert errors == [f"customers[0].rooms[0].recordings[1].size_bytes: does not match the file "
                      f"(expected {item['size_bytes']}, file has {item['size_bytes'] + 1})"]


@both_backends
def test_a_missing_file_is_reported(app, document, root):
    recording_store().delete("MCX-000123/rec2.mp4")

    assert errors_of(document, root) == [
        "customers[0].rooms[0].recordings[1].file: no such file in the recordings directory: MCX-000123/rec2.mp4"]


@pytest.mark.parametrize("escape", ["../outside.mp4", "MCX-000123/../../outside.mp4", "{outside}", "link.mp4"])
def test_a_path_outside_the_recordings_directory_is_refused(app, document, root, tmp_path, escape):
    # the file outside is exactly what the record says, so only the path can be the reason
    outside = tmp_path / "outside.mp4"
    (root / "link.mp4").symlink_to(outside)
    fields = put_file(tmp_path, "outside.mp4", b"secret")
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    item.update(fields, file=escape.format(outside=outside))

    errors = errors_of(document, root)

    assert errors == ["customers[0].rooms[0].recordings[0].file: must be a relative path inside the "
                      "recordings directory (no \"..\", not absolute)"]


@both_backends
@pytest.mark.parametrize("escape", ["../outside.mp4", "MCX-000123/../../outside.mp4", "/outside.mp4"])
def test_a_path_leaving_the_store_is_refused_by_either_store(app, document, root, escape):
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    item["file"] = escape

    assert errors_of(document, root) == ["customers[0].rooms[0].recordings[0].file: must be a relative path inside "
                                         "the recordings directory (no \"..\", not absolute)"]


@pytest.mark.parametrize("recordings_backend", ["s3"], indirect=True)
def test_an_object_is_checked_without_being_read(app, document, root, monkeypatch):
    """S3: the size and the stored SHA-256 come from HeadObject; the import downloads nothing."""
    from portal.storage_s3 import S3Store

    def no_download(*_args, **_kwargs):
        raise AssertionError("the import read an object")

    monkeypatch.setattr(S3Store, "open", no_download)
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    put_file(root, item["file"], b"Z" * item["size_bytes"])

    assert errors_of(document, root)[0].startswith("customers[0].rooms[0].recordings[0].sha256: does not match")
