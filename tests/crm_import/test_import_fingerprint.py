"""A re-import knows an unchanged customer by the digest of its record (issue 16), and that
shortcut never changes what the import does: whatever happened in the portal since, the result
is the one the full comparison gives."""
from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from portal.crm_import import importer
from portal.crm_import.importer import ImportFailed, import_customers
from portal.customers.fingerprints import CustomerImportFingerprint
from portal.customers.models import ContractService, ContractStatus, Recording, Room
from portal.extensions import db
from portal.people.models import Delegate, DelegateStatus, delegate_rooms
from tests.conftest import both_backends
from tests.crm_import.test_import import customer, document, put_file, root, run_import  # noqa: F401 (fixtures)


def outcome(document: dict, root: Path) -> tuple:
    """What an import reports, or every error line it refuses the file with."""
    try:
        report = import_customers(document, root)
    except ImportFailed as failure:
        return ("refused", failure.errors)
    return ("imported", report.counts(), report.not_in_file, report.persons_not_restored)


def with_and_without_digests(document: dict, root: Path) -> tuple[tuple, tuple]:
    """The outcome of re-importing `document` as it is, and once every digest is forgotten."""
    attempt = db.session.begin_nested()
    with_digests = outcome(document, root)
    attempt.rollback()
    db.session.execute(delete(CustomerImportFingerprint))
    return with_digests, outcome(document, root)


@pytest.fixture
def imported(app, document, tmp_path):
    result = run_import(app, document, tmp_path)
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(db.func.count()).select_from(CustomerImportFingerprint)) == 2
    return document


def _phone(_root):
    customer("MCX-000200").phone = "+48 500 600 700"


def _room_renamed(_root):
    db.session.scalar(select(Room).where(Room.key == "r2")).name = "Nowa nazwa"


def _recording_deleted(_root):
    db.session.delete(db.session.scalar(select(Recording).where(Recording.key == "rec2")))


def _person_removed(_root):
    db.session.scalar(select(Delegate)).status = DelegateStatus.REMOVED


def _person_room_unlinked(_root):
    db.session.execute(delete(delegate_rooms))


def _service_dropped(_root):
    db.session.execute(delete(ContractService).where(ContractService.service == "pc_video"))


def _terminated(_root):
    customer("MCX-000200").contract.status = ContractStatus.TERMINATED


def _file_grew(root):
    (root / "MCX-000123/rec1.mp4").write_bytes(b"zarzad-luty" * 301)


def _file_now_a_link_to_another(root):
    target = root / "MCX-000123/rec1.mp4"
    (root / "MCX-000123/rec2.mp4").unlink()
    (root / "MCX-000123/rec2.mp4").hardlink_to(target)


@pytest.mark.parametrize("change", [_phone, _room_renamed, _recording_deleted, _person_removed,
                                    _person_room_unlinked, _service_dropped, _terminated, _file_grew,
                                    _file_now_a_link_to_another])
def test_a_change_since_the_last_import_is_seen_as_without_digests(app, imported, root, change):
    change(root)
    db.session.commit()

    with_digests, without = with_and_without_digests(imported, root)

    assert with_digests == without


def test_an_unchanged_customer_is_not_validated_again(app, imported, root, monkeypatch):
    validated = []
    real = importer.CustomerData

    class Counting:
        @staticmethod
        def model_validate(raw):
            validated.append(raw["number"])
            return real.model_validate(raw)

    monkeypatch.setattr(importer, "CustomerData", Counting)
    imported["customers"][1]["last_name"] = "Nowy"

    report = import_customers(imported, root)

    assert (report.customers_unchanged, report.customers_updated) == (1, 1)
    assert validated == ["MCX-000200"]  # once: the apply pass takes the validated record from the spool


def test_a_digest_is_kept_only_for_a_customer_the_file_fully_describes(app, imported, root):
    imported["customers"][0]["rooms"].pop(2)  # room r3 stays in the database, "kept, not in file"
    report = import_customers(imported, root)
    db.session.commit()
    assert report.not_in_file == ['MCX-000123: room "r3"']

    with_digests, without = with_and_without_digests(imported, root)

    assert with_digests == without
    assert with_digests[2] == ['MCX-000123: room "r3"']


@both_backends
def test_a_second_recording_on_one_file_is_refused_though_its_customer_is_unchanged(app, imported, root):
    # a new customer claims the file of the unchanged company's first recording
    other = json.loads(json.dumps(imported["customers"][1]))
    other.update(number="MCX-000300", contract={**other["contract"], "number": "U/2025/300"})
    other["rooms"] = [{"key": "r1", "name": "Nagrania", "kind": "recorded_video_room", "recordings": [
        {"key": "x", "title": "Kopia", "started_at": "2025-02-03T10:00:00Z", "duration_s": 1,
         **put_file(root, "MCX-000123/rec1.mp4", b"zarzad-luty" * 300)}]}]
    imported["customers"].append(other)

    with_digests, without = with_and_without_digests(imported, root)

    assert with_digests == without
    assert with_digests[0] == "refused"


def test_verify_files_hashes_the_files_of_an_unchanged_customer_too(app, imported, root):
    (root / "MCX-000123/rec1.mp4").write_bytes(b"X" * len(b"zarzad-luty" * 300))  # same size, other bytes
    db.session.commit()

    assert outcome(imported, root)[0] == "imported"  # the size is all a re-import checks
    with pytest.raises(ImportFailed) as failure:
        import_customers(imported, root, verify_files=True)

    assert failure.value.errors[0].startswith("customers[0].rooms[0].recordings[0].sha256: does not match the file")


def test_a_change_committed_while_an_import_runs_leaves_no_digest_behind(app, imported, root):
    """PostgreSQL: a writer that commits while an import's transaction is still open must make
    that import's new digests forgotten too. The triggers' DELETE cannot see a digest row another
    transaction inserted and has not committed, so they did not wait for it and deleted nothing;
    the import then committed a digest for data that has changed since (here: the contract was
    terminated, which the full comparison refuses; a re-import with the digest accepts the file)."""
    from sqlalchemy import text

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers queue for one write lock: the writer waits for the import")
    db.session.execute(delete(CustomerImportFingerprint))  # as after the upgrade that adds them
    db.session.commit()

    import_customers(imported, root)  # stores both digests, not committed yet
    engine, errors = db.engine, []

    def terminate():  # another request, on its own connection, while the import is still open
        try:
            with engine.connect() as other:
                other.execute(text("SET lock_timeout = '20s'"))
                other.execute(text("UPDATE contracts SET status = :status WHERE customer_id = "
                                   "(SELECT id FROM customers WHERE number = 'MCX-000200')"),
                              {"status": ContractStatus.TERMINATED.value})
                other.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    writer = threading.Thread(target=terminate)
    writer.start()
    writer.join(1.0)  # it waits for the import's uncommitted digest (the upsert's unique check)
    db.session.commit()
    writer.join(25)
    assert not writer.is_alive() and errors == []

    with_digests, without = with_and_without_digests(imported, root)

    assert without[0] == "refused"
    assert with_digests == without


def test_every_migration_leaves_the_fingerprint_triggers_in_place(app):
    """A later migration that rebuilds a watched table (SQLite's batch mode) drops its triggers
    silently, and every digest of that table's changes would then outlive them (as 0012 had to put
    the totals triggers back): the test database is migrated, so each trigger must be there."""
    from sqlalchemy import text

    from portal.customers import fingerprints

    wanted = {"import_fingerprint_customers"} | {f"import_fingerprint_{table}_{op}" for table in fingerprints.OWNERS
                                                  for op in ("insert", "delete", "update")}
    if db.engine.dialect.name == "sqlite":
        names = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    else:
        names = set(db.session.scalars(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")))
    assert wanted <= names, sorted(wanted - names)


def digest_of(number: str) -> str | None:
    return db.session.scalar(select(CustomerImportFingerprint.digest)
                             .where(CustomerImportFingerprint.customer_id == customer(number).id))


def test_the_import_writes_its_own_customers_digests_and_the_triggers_leave_them_alone(app, imported, root,
                                                                                      monkeypatch):
    """Issue 16: forgetting a digest the import is about to write again cost an upsert per watched
    table and batch. On PostgreSQL the import's own writes no longer fire the forgetting (on SQLite
    each row trigger still deletes): the old digest is still there when the import writes the new."""
    from portal.crm_import import fingerprint

    old = digest_of("MCX-000200")
    held_at_remember = []
    real = fingerprint.remember

    def spying(digests):
        held_at_remember.append(digest_of("MCX-000200"))
        real(digests)

    monkeypatch.setattr(fingerprint, "remember", spying)
    # without the batch's hold (which forgets, to lock the digest rows: the next test), what is
    # left at `remember` shows whether the triggers forgot for the import's own writes
    monkeypatch.setattr(fingerprint, "hold", lambda numbers: None)
    imported["customers"][1]["last_name"] = "Nowy"
    imported["customers"][1]["consents"] = []  # nothing the import deletes; the event stays

    report = import_customers(imported, root)

    assert report.customers_updated == 1
    expected = None if db.engine.dialect.name == "sqlite" else old
    assert held_at_remember == [expected]
    assert digest_of("MCX-000200") == fingerprint.digest(imported["customers"][1]) != old


def test_a_customer_the_import_changed_but_cannot_settle_has_its_digest_forgotten(app, imported, root):
    imported["customers"][0]["last_name"] = "Nowak"
    imported["customers"][0]["rooms"].pop(2)  # room r3 stays in the database, "kept, not in file"

    report = import_customers(imported, root)

    assert report.customers_updated == 1 and report.not_in_file == ['MCX-000123: room "r3"']
    assert digest_of("MCX-000123") is None
    assert digest_of("MCX-000200") is not None


def test_a_change_after_the_import_in_its_transaction_still_forgets(app, imported, root):
    """The import's word to the triggers lasts only while it writes, not to the end of the
    caller's transaction."""
    imported["customers"][1]["last_name"] = "Nowy"
    import_customers(imported, root)
    assert digest_of("MCX-000200") is not None

    customer("MCX-000200").phone = "+48 500 600 700"
    db.session.flush()

    assert digest_of("MCX-000200") is None


def test_a_change_committed_between_an_import_s_writes_and_its_digests_is_not_overwritten(
        app, imported, root, monkeypatch):
    """PostgreSQL: the import's triggers leave its own writes alone and it writes each batch's
    digests after the batch. Another transaction that renamed a room of a customer in that batch
    in between, and committed, had its forgetting overwritten by the file's digest: the next
    import skipped the customer and the room kept a name the file does not give. The import now
    holds the batch's digest rows first, so that change waits for the import and forgets after."""
    from sqlalchemy import text

    from portal.crm_import import fingerprint

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite's triggers forget for the import's writes too; its writers queue")
    engine, errors, real_remember = db.engine, [], fingerprint.remember

    def rename():  # a portal edit on its own connection, while the import's batch is written
        try:
            with engine.connect() as other:
                other.execute(text("SET lock_timeout = '20s'"))
                other.execute(text("UPDATE rooms SET name = 'Zmieniona w portalu' WHERE key = 'r2'"))
                other.commit()
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    writer = threading.Thread(target=rename)

    def remember_after_the_other_write(digests):
        writer.start()
        writer.join(1.0)  # now it waits for the import's held digest row
        real_remember(digests)

    monkeypatch.setattr(fingerprint, "remember", remember_after_the_other_write)
    imported["customers"][0]["last_name"] = "Nowak"  # the customer is written to, not skipped
    import_customers(imported, root)
    db.session.commit()
    writer.join(25)
    assert not writer.is_alive() and errors == []
    monkeypatch.setattr(fingerprint, "remember", real_remember)

    again = import_customers(imported, root)
    db.session.commit()

    assert again.customers_unchanged == 1  # the other customer; the renamed one is compared
    assert db.session.scalar(select(Room.name).where(Room.key == "r2")) == "Sala szkoleniowa"
