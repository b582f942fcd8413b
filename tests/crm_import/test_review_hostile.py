"""Hostile export files (security review): every one ends in error lines, never a crash or a half import."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.crm_import.test_import import company, person, row_counts


@pytest.fixture
def root(app) -> Path:
    return Path(app.config["RECORDINGS_DIR"])


def _run(app, tmp_path, raw: bytes):
    path = tmp_path / "export.json"
    path.write_bytes(raw)
    return app.test_cli_runner().invoke(args=["portal", "import", str(path)])


def _doc(root) -> str:
    return json.dumps({"customers": [company(root), person()]}, ensure_ascii=False)


@pytest.mark.parametrize("mutate", [
    lambda t: t.replace('"Zarząd 2025-02"', '"\\ud800 lone"'),                 # lone surrogate in a title
    lambda t: t.replace('"Sala zarządu"', '"\\udfff"'),                          # lone surrogate in a room name
    lambda t: t.replace('"Anna"', '"An\\u0000na"'),                              # NUL in a name
    lambda t: t.replace('"duration_s": 3600', '"duration_s": NaN'),
    lambda t: t.replace('"duration_s": 3600', '"duration_s": Infinity'),
    lambda t: "\ufeff" + t,                                                       # BOM
])
def test_hostile_exports_end_in_error_lines(app, root, tmp_path, mutate):
    before = row_counts()
    text = mutate(_doc(root))
    result = _run(app, tmp_path, text.encode("utf-8"))
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code != 0:
        assert row_counts() == before


@pytest.mark.parametrize("mutate", [
    lambda t: t.replace('"Anna"', '"An\\u0000na"'),
    lambda t: t.replace('"Zarząd 2025-02"', '"Zarząd\\r\\nBcc: x@example.com"'),
    lambda t: t.replace('"Sala zarządu"', '"Sala\\u001b[31m"'),
])
def test_control_characters_in_a_text_are_an_error_line_on_every_database(app, root, tmp_path, mutate):
    before = row_counts()
    result = _run(app, tmp_path, mutate(_doc(root)).encode("utf-8"))

    assert result.exit_code == 1, result.exception
    assert "may not hold control characters" in result.stderr
    assert row_counts() == before


def test_non_utf8_bytes_are_one_line(app, root, tmp_path):
    result = _run(app, tmp_path, _doc(root).replace("Anna", "An\udcffna").encode("utf-8", "surrogateescape"))
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)


@pytest.mark.parametrize(("old", "new", "field"), [
    ('"number": "MCX-000200"', '"number": "MCX-000200", "number": "MCX-000123"', "number"),
    ('"email": "anna@example.pl"', '"email": "anna@example.pl", "email": "someone@example.com"', "email"),
    ('"city": "Warszawa"', '"city": "Warszawa", "city": "Kraków"', "city"),
])
def test_a_field_named_twice_is_an_error_line_not_a_silent_choice(app, root, tmp_path, old, new, field):
    before = row_counts()
    text = _doc(root)
    assert old in text
    result = _run(app, tmp_path, text.replace(old, new, 1).encode("utf-8"))

    assert result.exit_code == 1
    assert f'the field "{field}" appears more than once' in result.stderr
    assert row_counts() == before
