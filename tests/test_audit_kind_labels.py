"""Every audit event kind the code can record has words, in Polish and in English: the activity
log and the staff audit log showed raw codes ("termination_requested", "sign out") on Polish pages.
The kinds are found in the source of portal/, so a new `audit.record("…")` without words fails."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from portal import ROOT

# audit.record("kind", …), audit.record_many("kind", …), record_reading(officer, "kind", …),
# and the events the audit chain writes itself (AuditEvent(…, kind="…", …) in portal/audit.py)
LITERAL = re.compile(r'\brecord(?:_many)?\(\s*"([a-z_]+)"|\brecord_reading\([^,()]+,\s*"([a-z_]+)"')
CHAIN = re.compile(r'\bkind="([a-z_]+)"')
# kinds built from a code: the prefix → every code it is built from
FORMATTED = re.compile(r'\brecord\(\s*f"([a-z_]*)\{')
BUILT = {"access_request_": ("approved", "rejected")}


def recorded_kinds() -> set[str]:
    kinds: set[str] = set()
    for path in (ROOT / "portal").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        kinds.update(a or b for a, b in LITERAL.findall(source))
        if path.name == "audit.py" and path.parent.name == "portal":
            kinds.update(CHAIN.findall(source))
        for prefix in FORMATTED.findall(source):
            assert prefix in BUILT, f"{path}: a kind built from {prefix!r}…: list its codes in BUILT"
            kinds.update(prefix + code for code in BUILT[prefix])
    return kinds


KINDS = sorted(recorded_kinds())


def test_the_kinds_are_found():
    assert {"sign_in", "termination_requested", "audit_chain_keyed", "import", "access_request_approved",
            "audit_log_read", "customer_imported"} <= set(KINDS)


@pytest.mark.parametrize("kind", KINDS)
def test_every_recorded_kind_has_polish_and_english_words(app, kind):
    from portal.audit_kinds import describe, registered_kinds
    from portal.staff.activity_kinds import kind_labels

    assert kind in registered_kinds(), f"{kind}: no words registered (register_kind)"
    with app.test_request_context():
        with force_locale("pl"):
            polish = str(describe(kind).label)
            offered = str(kind_labels()[kind])
        with force_locale("en"):
            english = str(describe(kind).label)
    raw = {kind, kind.replace("_", " ")}
    assert polish not in raw and english not in raw
    assert polish != english, f"{kind}: {english!r} has no Polish translation"
    assert offered not in raw  # the staff audit log's words (third person where the customer's differ)
