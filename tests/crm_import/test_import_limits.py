"""The import's newer promises: a published schema, values out of range and odd shapes as error lines,
recordings that share a file refused, files hashed only when needed, and a summary line for cron."""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from portal.crm_import import checks
from portal.crm_import.schema import json_schema
from portal.customers.models import Recording
from portal.extensions import db
from tests.crm_import.test_import import company, errors_of, person, put_file, row_counts, run_import

ROOT = Path(__file__).resolve().parents[2]
RECORDING = "customers[0].rooms[0].recordings[0]"


@pytest.fixture
def root(app) -> Path:
    return Path(app.config["RECORDINGS_DIR"])


@pytest.fixture
def document(root) -> dict:
    return {"customers": [company(root), person()]}


def test_the_committed_schema_is_the_generated_one(app):
    result = app.test_cli_runner().invoke(args=["portal", "import-schema"])

    assert result.exit_code == 0
    committed = json.loads((ROOT / "docs" / "import-schema.json").read_text(encoding="utf-8"))
    assert json.loads(result.stdout) == committed == json_schema()
    customer = committed["$defs"]["Customer"]
    assert customer["additionalProperties"] is False
    assert committed["$defs"]["Recording"]["properties"]["duration_s"]["maximum"] == 2**31 - 1


OUT_OF_RANGE = [
    ("duration_s", "9" * 5000, f"{RECORDING}.duration_s: must be at most 2147483647"),
    ("duration_s", 3_000_000_000, f"{RECORDING}.duration_s: must be at most 2147483647"),
    ("duration_s", 2**63, f"{RECORDING}.duration_s: must be at most 2147483647"),
    ("duration_s", -1, f"{RECORDING}.duration_s: must be a whole number, 0 or more"),
    ("duration_s", 12.5, f"{RECORDING}.duration_s: must be a whole number, 0 or more"),
    ("size_bytes", 2**63, f"{RECORDING}.size_bytes: must be at most 9223372036854775807"),
    ("size_bytes", -5, f"{RECORDING}.size_bytes: must be a whole number, 0 or more"),
    ("started_at", "0001-01-01T00:00:00+01:00",
     f'{RECORDING}.started_at: is out of range (years 1900 to 2999): "0001-01-01T00:00:00+01:00"'),
    ("started_at", "9999-12-31T23:59:59-05:00",
     f'{RECORDING}.started_at: is out of range (years 1900 to 2999): "9999-12-31T23:59:59-05:00"'),
]


@pytest.mark.parametrize(("field", "value", "expected"), OUT_OF_RANGE,
                         ids=[f"{f}={str(v)[:12]}" for f, v, _ in OUT_OF_RANGE])
def test_a_value_out_of_range_is_an_error_line_on_every_database(app, document, tmp_path, field, value, expected):
    # numbers are written as they stand in the file: 5,000 digits is more than Python prints by default
    document["customers"][0]["rooms"][0]["recordings"][0][field] = "@@VALUE@@"
    raw = value if isinstance(value, str) and value.isdigit() else json.dumps(value)
    text = json.dumps(document, ensure_ascii=False).replace('"@@VALUE@@"', raw)
    result = app.test_cli_runner().invoke(args=["portal", "import", str(write(tmp_path, text))])

    assert result.exit_code == 1
    assert expected in result.stderr.splitlines()
    assert "Traceback" not in result.output
    assert row_counts() == {name: 0 for name in row_counts()}


def test_a_date_out_of_range_is_an_error_line(app, document, root):
    document["customers"][0]["contract"]["signed_on"] = "0001-01-01"

    assert errors_of(document, root) == [
        'customers[0].contract.signed_on: is out of range (years 1900 to 2999): "0001-01-01"']


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "export.json"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("text", "expected"), [
    ('[{"number": "MCX-1"}]', 'document: must be a JSON object with a "customers" list'),
    ('"customers"', 'document: must be a JSON object with a "customers" list'),
    ('{"customers": "all"}', "customers: must be a list"),
    ('{"customers": [' + "[" * 100_000 + "]" * 100_000 + "]}", "customers[0]: nested deeper than 16 levels"),
    ('{"customers": [{"number": ' + "9" * 20_000 + "}]}", "a number or text of more than 10000 digits"),
])
def test_a_wrong_shape_ends_in_one_clear_line(app, tmp_path, text, expected):
    result = app.test_cli_runner().invoke(args=["portal", "import", str(write(tmp_path, text))])

    assert result.exit_code == 1
    assert expected in result.stderr.splitlines()[0]
    assert result.stderr.splitlines()[1:] == ["1 error(s): nothing was imported."]
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- recordings that share a file ---------------------------------------------------------------

def second_recording(document: dict) -> dict:
    """A recording of the second customer (made a recorded room) that the test points somewhere."""
    tomasz = document["customers"][1]
    tomasz["contract"]["services"] = ["recorded_video_room"]
    tomasz["rooms"] = [{"key": "r1", "name": "Nagrania", "kind": "recorded_video_room", "recordings": [
        {"key": "t1", "title": "Narada", "started_at": "2025-04-01T08:00:00Z", "duration_s": 60}]}]
    return tomasz["rooms"][0]["recordings"][0]


def test_two_customers_naming_one_path_are_refused(app, document, root):
    first = document["customers"][0]["rooms"][0]["recordings"][0]
    second_recording(document).update(file=first["file"], size_bytes=first["size_bytes"], sha256=first["sha256"])

    assert errors_of(document, root) == [
        "customers[1].rooms[0].recordings[0].file: is the same file as customers[0].rooms[0].recordings[0]; "
        "a file belongs to one recording"]


def test_two_recordings_of_one_customer_naming_one_file_through_a_hard_link_are_refused(app, document, root):
    recordings = document["customers"][0]["rooms"][0]["recordings"]
    os.link(root / recordings[0]["file"], root / "MCX-000123/copy.mp4")
    recordings[1].update(file="MCX-000123/copy.mp4", size_bytes=recordings[0]["size_bytes"],
                         sha256=recordings[0]["sha256"])

    assert errors_of(document, root) == [
        "customers[0].rooms[0].recordings[1].file: is the same file as customers[0].rooms[0].recordings[0]; "
        "a file belongs to one recording"]


def test_a_symbolic_link_to_another_customers_stored_recording_is_refused(app, document, root, tmp_path):
    only_anna = {"customers": [document["customers"][0]]}
    assert run_import(app, only_anna, tmp_path).exit_code == 0
    (root / "elsewhere").mkdir()
    (root / "elsewhere/link.mp4").symlink_to(root / "MCX-000123/rec2.mp4")
    rec2 = document["customers"][0]["rooms"][0]["recordings"][1]
    second_recording(document).update(file="elsewhere/link.mp4", size_bytes=rec2["size_bytes"], sha256=rec2["sha256"])

    errors = errors_of({"customers": [document["customers"][1]]}, root)

    assert errors == [
        'customers[0].rooms[0].recordings[0].file: is the same file as recording "r1/rec2" of customer MCX-000123 '
        "(in the database); a file belongs to one recording"]


def test_a_stored_recording_left_out_of_the_file_keeps_its_file(app, document, root, tmp_path):
    assert run_import(app, document, tmp_path).exit_code == 0
    recordings = document["customers"][0]["rooms"][0]["recordings"]
    rec2 = recordings.pop()  # rec2 stays in the database, with its file
    second_recording(document).update(file=rec2["file"], size_bytes=rec2["size_bytes"], sha256=rec2["sha256"])

    assert errors_of(document, root) == [
        'customers[1].rooms[0].recordings[0].file: is the same file as recording "r1/rec2" of customer MCX-000123 '
        "(in the database); a file belongs to one recording"]


# --- hashing only what changed ------------------------------------------------------------------

def test_files_are_hashed_only_when_new_or_changed_unless_verified(app, document, root, tmp_path, monkeypatch):
    assert run_import(app, document, tmp_path).exit_code == 0
    hashed = []
    original = checks.LocalDirectoryStore.sha256
    monkeypatch.setattr(checks.LocalDirectoryStore, "sha256",
                        lambda self, key: hashed.append(key) or original(self, key))
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    (root / item["file"]).write_bytes(b"Z" * item["size_bytes"])  # same size, other content: only hashing sees it

    assert run_import(app, document, tmp_path).exit_code == 0
    assert hashed == []

    result = app.test_cli_runner().invoke(args=["portal", "import", "--verify-files", str(tmp_path / "export.json")])

    assert result.exit_code == 1
    assert f"{RECORDING}.sha256: does not match the file" in result.stderr
    assert sorted(hashed) == ["MCX-000123/rec1.mp4", "MCX-000123/rec2.mp4"]


def test_a_changed_checksum_in_the_file_is_hashed_again(app, document, root, tmp_path):
    assert run_import(app, document, tmp_path).exit_code == 0
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    item.update(put_file(root, item["file"], b"N" * 50))

    result = run_import(app, document, tmp_path)

    assert result.exit_code == 0, result.output
    assert "recordings: 0 created, 1 updated" in result.stdout
    stored = db.session.scalar(select(Recording).where(Recording.key == "rec1"))
    assert (stored.size_bytes, stored.sha256) == (50, item["sha256"])


def test_the_size_of_every_file_is_checked_on_every_import(app, document, root, tmp_path):
    assert run_import(app, document, tmp_path).exit_code == 0
    item = document["customers"][0]["rooms"][0]["recordings"][0]
    (root / item["file"]).write_bytes(b"short")

    result = run_import(app, document, tmp_path)

    assert f"{RECORDING}.size_bytes: does not match the file (expected {item['size_bytes']}, file has 5)" \
        in result.stderr


# --- progress -----------------------------------------------------------------------------------

def test_off_a_terminal_one_summary_line_is_printed(app, document, tmp_path):
    result = run_import(app, document, tmp_path)

    assert result.exit_code == 0, result.output
    (line,) = result.stderr.splitlines()
    assert line.startswith("import: 2 customers in ") and line.endswith(" customers/s)")
    assert "customers: 2 created" in result.stdout


def test_a_large_file_is_imported_in_batches_and_again_unchanged(app, root, tmp_path, monkeypatch):
    from portal.crm_import import importer

    monkeypatch.setattr(importer, "BATCH", 3)
    customers = []
    for n in range(7):
        data = person()
        data.update(number=f"MCX-{n:06d}", email=f"p{n}@example.pl")
        data["contract"]["number"] = f"U/{n}"
        customers.append(data)

    first = run_import(app, {"customers": customers}, tmp_path)
    again = run_import(app, {"customers": customers}, tmp_path)

    assert "customers: 7 created, 0 updated, 0 unchanged" in first.stdout
    assert "customers: 0 created, 0 updated, 7 unchanged" in again.stdout


def test_a_failure_in_the_middle_of_applying_leaves_nothing(app, root, tmp_path, monkeypatch):
    from portal.crm_import import importer
    from portal.crm_import.apply import Applier

    monkeypatch.setattr(importer, "BATCH", 1)
    applied = []
    original = Applier.apply

    def apply_then_fail(self, batch):
        if applied:
            raise RuntimeError("the database went away")
        applied.append(batch)
        original(self, batch)

    monkeypatch.setattr(Applier, "apply", apply_then_fail)

    result = run_import(app, {"customers": [company(root), person()]}, tmp_path)

    assert result.exit_code != 0 and len(applied) == 1
    assert row_counts() == {name: 0 for name in row_counts()}


def test_on_a_terminal_progress_shows_the_rate_and_the_time_left():
    import io

    from portal.crm_import.progress import Progress

    ticks = iter([0.0, 10.0])  # started, then one tick 10 s later
    out = io.StringIO()
    progress = Progress(1000, stream=out, tty=True, clock=lambda: next(ticks))

    progress.tick(500, 250)  # a quarter of the work (half of the first of two passes) in 10 s

    assert "500 customers, 50/s, 12% done, about 1 min 10 s left" in out.getvalue()
