"""The staff audit log speaks of the customer in the third person: the customer's activity log
says "your data", staff reading every customer's events need "the customer's". At 320 px its
table, like every table, says in each cell which column it belongs to (data-label)."""
from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from portal import ROOT, audit
from portal.extensions import db
from tests import factories

SECOND_PERSON = {
    "pl": re.compile(r"\b(Tw(ój|oj\w*|oi\w*|ego|emu|ym|ymi|ych)|Ci|Cię|Tobie|Ty)\b|\w+(łeś|łaś)\b", re.I),
    "en": re.compile(r"\b(you|your|yours)\b", re.I),
}


@pytest.mark.parametrize("language", ["pl", "en"])
def test_every_kind_reads_in_the_third_person_for_staff(app, language):
    from portal.staff.activity_kinds import kind_labels

    with app.test_request_context(), force_locale(language):
        second_person = {kind: str(label) for kind, label in kind_labels().items()
                         if SECOND_PERSON[language].search(str(label))}
    assert not second_person


def test_the_audit_page_shows_staff_wording(officer):
    customer = factories.customer()
    audit.record("customer_looked_up", customer_id=customer.id)
    db.session.commit()

    page = officer.get("/staff/audit").get_data(as_text=True)

    table = re.search(r'<table[^>]*id="audit-events".*?</table>', page, re.S).group(0)
    assert "Pracownik MCX wyszukał konto klienta" in table and "Twoje" not in table


def _cells_without_label():
    """<td>s of the templates' tables that do not name their column: only action cells (a form or
    button that says what it does), `*-actions` cells and cells spanning the row may."""
    missing = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        for table in re.findall(r"<table\b.*?</table>", path.read_text(encoding="utf-8"), re.S):
            for opening, content in re.findall(r"(<td\b[^>]*>)(.*?)</td>", table, re.S):
                if "data-label" in opening or "colspan" in opening or "-actions" in opening:
                    continue
                if "<form" in content or "<button" in content:
                    continue
                missing.append(f"{path.relative_to(ROOT)}: {opening} {content.strip()[:60]}")
    return missing


def test_every_table_cell_names_its_column():
    assert not _cells_without_label()
