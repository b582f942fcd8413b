"""The registry of personal data accounts for every column, and the README is generated from it."""
from __future__ import annotations

import subprocess
import sys

from flask_babel import force_locale

from portal import ROOT
from portal.extensions import db
from portal.transparency.registry import CATEGORIES, TECHNICAL_COLUMNS, classify


def all_columns() -> set[str]:
    return {f"{table.name}.{column.name}" for table in db.metadata.sorted_tables for column in table.columns}


def test_every_column_is_registered_personal_data_or_listed_as_technical(app):
    result = classify(db.metadata)

    assert result.unclassified == set(), (
        "columns that are neither in portal/transparency/registry.py (CATEGORIES) nor in TECHNICAL_COLUMNS: "
        f"{sorted(result.unclassified)}. If a column holds personal data, add it to a category (the data page, "
        "the export and the README follow); otherwise list it in TECHNICAL_COLUMNS with the reason.")
    assert result.registered | result.technical == all_columns()


def test_classification_is_not_vacuous(app):
    """A personal column the registry forgot really is reported."""
    from sqlalchemy import Column, MetaData, String, Table

    metadata = MetaData()
    Table("customers", metadata, Column("id", String, primary_key=True), Column("email", String),
          Column("shoe_size", String))

    assert classify(metadata).unclassified == {"customers.shoe_size"}


def test_the_registry_names_only_columns_that_exist(app):
    named = {column for category in CATEGORIES for column in category.columns}

    assert named - all_columns() == set()
    assert set(TECHNICAL_COLUMNS) - all_columns() == set()
    assert named & set(TECHNICAL_COLUMNS) == set(), "a column is either personal data or technical, not both"


def test_keys_are_unique_and_each_category_says_why_how_and_how_long(app):
    keys = [c.key for c in CATEGORIES]
    assert len(keys) == len(set(keys))
    for category in CATEGORIES:
        fields = [f.key for f in category.fields]
        assert len(fields) == len(set(fields)), category.key
        assert category.bases and category.sources, category.key
        with force_locale("pl"):
            for text in (category.label, category.purpose, category.retention, category.recipients):
                assert str(text).strip(), category.key


def generated_section() -> str:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "data_inventory.py")],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    return result.stdout.strip()


def test_the_inventory_script_prints_every_category_with_its_basis(app):
    section = generated_section()

    for category in CATEGORIES:
        assert f"(`{category.key}`)" in section
        for f in category.fields:
            assert f"(`{f.key}`)" in section
    assert "the contract with you (GDPR art. 6(1)(b))" in section
    assert "a legal duty of MCX (GDPR art. 6(1)(c))" in section and "your consent (GDPR art. 6(1)(a))" in section


def test_readme_holds_the_generated_section(app):
    readme = (ROOT / "README.md").read_text()
    section = generated_section()
    start, end = section.splitlines()[0], section.splitlines()[-1]

    assert start in readme and end in readme, "paste the output of `python scripts/data_inventory.py` into README.md"
    in_readme = readme[readme.index(start):readme.index(end) + len(end)]
    assert in_readme == section, "README.md is out of date: paste the output of `python scripts/data_inventory.py`"
