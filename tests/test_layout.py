"""The package layout: records at the bottom, the domains above them, and what reads or writes every
domain (the transparency pages, the CRM import) on top. A domain never imports upward."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PORTAL = Path(__file__).resolve().parent.parent / "portal"
# packages that read or write every domain's records: nothing below them may import them
ON_TOP = ("portal.account", "portal.transparency", "portal.crm_import", "portal.termination")


def imported_modules(package: str) -> set[str]:
    found = set()
    for path in (PORTAL / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add(node.module)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("package", ["customers", "consents", "people"])
def test_a_domain_imports_downward_only(package):
    upward = sorted(m for m in imported_modules(package) if m.startswith(ON_TOP))
    assert upward == []


def test_the_customer_records_depend_on_no_domain():
    domains = ("portal.consents", "portal.people", "portal.staff", *ON_TOP)
    assert sorted(m for m in imported_modules("customers") if m.startswith(domains)) == []

