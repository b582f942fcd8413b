"""Every text a person can see has a Polish translation, and the compiled catalog is current."""
from __future__ import annotations

import gettext
import io
import re

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from portal import ROOT

PO = ROOT / "portal" / "translations" / "pl" / "LC_MESSAGES" / "messages.po"
MO = PO.with_suffix(".mo")
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "lazy_ngettext": (1, 2),
            "lazy_pgettext": ((1, "c"), 2)}
PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[sdifr]")


@pytest.fixture(scope="module")
def source_messages() -> dict[tuple[str, str | None], list[str]]:
    """What `pybabel extract -F babel.cfg -k _l …` would find: msgid (and context) → where."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[tuple[str, str | None], list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=KEYWORDS):
        msgid = message[0] if isinstance(message, tuple) else message
        found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


@pytest.fixture(scope="module")
def catalog():
    with open(PO, "rb") as f:
        return read_po(f, locale="pl")


def test_extraction_sees_python_and_template_texts(source_messages):
    places = [p for where in source_messages.values() for p in where]
    assert any(p.startswith("portal/") for p in places)
    assert any(p.startswith("templates/") for p in places)
    assert ("Not found", None) in source_messages  # a lazy `_l` text


def test_every_text_has_a_polish_translation(source_messages, catalog):
    missing = []
    for (msgid, context), where in sorted(source_messages.items(), key=lambda item: item[1][0]):
        entry = catalog.get(msgid, context=context)
        strings = entry.string if entry else None
        translations = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or not all(translations):
            missing.append(f"{where[0]}: {msgid!r}")
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_no_translation_is_fuzzy(catalog):
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy


def test_translations_keep_the_placeholders(catalog):
    """A missing or misspelt %(name)s would drop the value or break the page."""
    wrong = []
    for message in catalog:
        if not message.id or not message.string:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            if sorted(PLACEHOLDER.findall(string)) != expected:
                wrong.append(f"{ids[0]!r} → {string!r}")
    assert not wrong, "\n".join(wrong)


def test_compiled_catalog_matches_the_po_file(catalog):
    """The portal reads messages.mo: it must hold exactly what messages.po says."""
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    expected = gettext.GNUTranslations(compiled)._catalog

    with open(MO, "rb") as f:
        shipped = gettext.GNUTranslations(f)._catalog

    stale = sorted(str(k) for k in expected.keys() ^ shipped.keys())
    changed = sorted(str(k) for k in expected.keys() & shipped.keys() if k and expected[k] != shipped[k])
    assert not stale and not changed, f"run `pybabel compile -d portal/translations`: {stale + changed}"
