"""What the CRM import last wrote for each customer, as a digest, forgotten by the database itself
as soon as anything it covers changes (issue 16: "the same file again in 15 s").

A row says: this customer's record in the export had digest `digest`, the import applied it, and
since then nothing the import reads about the customer (the customer's own fields, contract and
services, rooms, recordings, authorized persons and their rooms, consent events) has changed.
A re-import that finds the same digest therefore knows the customer is unchanged without
validating and comparing every child row again.

No writer has to remember this: triggers on every one of those tables delete the customer's row
on any insert, update or delete, whoever makes it (the portal, deletion, retention, the import
itself, a hand-written UPDATE). The import writes the new row last, after its own writes.
On PostgreSQL the import's own transaction tells the triggers to leave its writes alone
(`IMPORT_WRITES_DIGESTS`, a transaction-local setting): it writes, after every batch, the digest
or the NULL of each customer it wrote to itself, so forgetting first only cost one upsert per
watched table and batch, each joining the whole parent table. Every other transaction's change
still forgets.
PostgreSQL runs one statement-level trigger per statement (transition tables, as the recording
totals do); SQLite runs row-level ones. The same DDL is emitted by migration
0015_import_fingerprint and by `metadata.create_all`.
"""
from __future__ import annotations

from sqlalchemy import DDL, ForeignKey, String, event
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db

TABLE = "customer_import_fingerprints"


class CustomerImportFingerprint(db.Model):
    """The digest of a customer's export record as last applied; NULL (or no row) once anything
    changed. PostgreSQL's triggers set it to NULL by an upsert rather than deleting the row: an
    upsert waits for an import still holding an uncommitted digest of that customer and then
    forgets it, where a DELETE would not see that row and the stale digest would survive."""

    __tablename__ = TABLE

    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    digest: Mapped[str | None] = mapped_column(String(64))


# the columns of `customers` the import writes and compares; other updates (a login, the
# preferred language) leave the fingerprint alone
CUSTOMER_COLUMNS = ("number", "kind", "company_name", "tax_id", "first_name", "last_name", "email", "phone",
                    "street", "postal_code", "city", "country")

# each watched table → how its changed rows (`x`) lead to their customers' ids
OWNERS = {
    "contracts": "SELECT x.customer_id FROM {rows} x",
    "contract_services": "SELECT c.customer_id FROM {rows} x JOIN contracts c ON c.id = x.contract_id",
    "rooms": "SELECT x.customer_id FROM {rows} x",
    "recordings": "SELECT r.customer_id FROM {rows} x JOIN rooms r ON r.id = x.room_id",
    "delegates": "SELECT x.customer_id FROM {rows} x",
    "delegate_rooms": "SELECT d.customer_id FROM {rows} x JOIN delegates d ON d.id = x.delegate_id",
    "consent_events": "SELECT x.customer_id FROM {rows} x",
}


# Forget the digests of the customers `owners` selects: an upsert of NULL, which waits for a
# concurrent import's uncommitted digest row (see CustomerImportFingerprint); customers deleted in
# this transaction are left out (their rows are gone, the cascade took their digests).
_PG_FORGET = (f"INSERT INTO {TABLE} (customer_id, digest) "  # nosec B608
              f"SELECT DISTINCT o.id, NULL::varchar FROM ({{owners}}) AS o(id) "
              f"WHERE EXISTS (SELECT 1 FROM customers c WHERE c.id = o.id) "
              f"ON CONFLICT (customer_id) DO UPDATE SET digest = NULL WHERE {TABLE}.digest IS NOT NULL;")


# The transaction-local setting by which the import's own transaction says: the digests of the
# customers I write are mine to write (portal.crm_import.importer). Only PostgreSQL reads it.
IMPORT_WRITES_DIGESTS = "portal.import_writes_digests"
_PG_OWN_WRITES = f"IF current_setting('{IMPORT_WRITES_DIGESTS}', true) = 'on' THEN RETURN NULL; END IF;\n"


def pg_function_statements(own_writes: bool = True) -> list[str]:
    """The CREATE OR REPLACE FUNCTION statements of the PostgreSQL triggers; with `own_writes`
    (since 0017_import_speed) they do nothing in a transaction that set IMPORT_WRITES_DIGESTS."""
    skip = _PG_OWN_WRITES if own_writes else ""
    statements = [
        "CREATE OR REPLACE FUNCTION import_fingerprint_forget_customer() "  # nosec B608
        "RETURNS trigger LANGUAGE plpgsql AS $$\n"
        f"BEGIN {skip}{_PG_FORGET.format(owners='SELECT NEW.id')} RETURN NULL; END $$"]
    for table, owners in OWNERS.items():
        old, new = owners.format(rows="old_rows"), owners.format(rows="new_rows")
        statements.append(
            f"CREATE OR REPLACE FUNCTION import_fingerprint_forget_{table}() "  # nosec B608
            "RETURNS trigger LANGUAGE plpgsql AS $$\n"
            f"BEGIN\n    {skip}"
            f"    IF TG_OP IN ('DELETE', 'UPDATE') THEN {_PG_FORGET.format(owners=old)} END IF;\n"
            f"    IF TG_OP IN ('INSERT', 'UPDATE') THEN {_PG_FORGET.format(owners=new)} END IF;\n"
            "    RETURN NULL;\n"
            "END $$")
    return statements


# The DDL below is built from the schema's own table and column names (constants here), never
# from an outside value: bandit's SQL-injection warnings on it are marked `nosec B608`.
def _pg_statements() -> list[str]:
    functions = pg_function_statements()
    statements = [
        functions[0],
        f"CREATE TRIGGER import_fingerprint_customers AFTER UPDATE OF {', '.join(CUSTOMER_COLUMNS)} ON customers "
        "FOR EACH ROW EXECUTE FUNCTION import_fingerprint_forget_customer()",
    ]
    for table, function_statement in zip(OWNERS, functions[1:], strict=True):
        statements.append(function_statement)
        function = f"import_fingerprint_forget_{table}()"
        statements += [
            f"CREATE TRIGGER import_fingerprint_{table}_insert AFTER INSERT ON {table} "
            f"REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
            f"CREATE TRIGGER import_fingerprint_{table}_delete AFTER DELETE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
            f"CREATE TRIGGER import_fingerprint_{table}_update AFTER UPDATE ON {table} "
            f"REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}",
        ]
    return statements


# the same mapping as OWNERS, for one row (NEW or OLD) of a row-level trigger
_SQLITE_OWNER = {
    "contracts": "{row}.customer_id",
    "contract_services": "(SELECT customer_id FROM contracts WHERE id = {row}.contract_id)",
    "rooms": "{row}.customer_id",
    "recordings": "(SELECT customer_id FROM rooms WHERE id = {row}.room_id)",
    "delegates": "{row}.customer_id",
    "delegate_rooms": "(SELECT customer_id FROM delegates WHERE id = {row}.delegate_id)",
    "consent_events": "{row}.customer_id",
}


def _sqlite_statements() -> list[str]:
    def forget(table: str, row: str) -> str:
        return f"DELETE FROM {TABLE} WHERE customer_id = {_SQLITE_OWNER[table].format(row=row)};"  # nosec B608

    updated = ", ".join(CUSTOMER_COLUMNS)
    statements = [f"CREATE TRIGGER import_fingerprint_customers AFTER UPDATE OF {updated} "  # nosec B608
                  f"ON customers BEGIN DELETE FROM {TABLE} WHERE customer_id = NEW.id; END"]
    for table in OWNERS:
        statements += [
            f"CREATE TRIGGER import_fingerprint_{table}_insert AFTER INSERT ON {table} "
            f"BEGIN {forget(table, 'NEW')} END",
            f"CREATE TRIGGER import_fingerprint_{table}_delete AFTER DELETE ON {table} "
            f"BEGIN {forget(table, 'OLD')} END",
            f"CREATE TRIGGER import_fingerprint_{table}_update AFTER UPDATE ON {table} "
            f"BEGIN {forget(table, 'OLD')} {forget(table, 'NEW')} END",
        ]
    return statements


def create_statements(dialect: str) -> list[str]:
    """The trigger DDL for `dialect` ("postgresql" or "sqlite"), in order."""
    if dialect == "postgresql":
        return _pg_statements()
    if dialect == "sqlite":
        return _sqlite_statements()
    raise NotImplementedError(f"import fingerprints have no triggers for {dialect}")


def drop_statements(dialect: str) -> list[str]:
    """The DDL that removes every trigger (and PostgreSQL function) create_statements made."""
    names = ["customers"] + [f"{table}_{op}" for table in OWNERS for op in ("insert", "delete", "update")]
    if dialect == "postgresql":
        owners = {"customers": "customers", **{f"{t}_{op}": t for t in OWNERS for op in ("insert", "delete", "update")}}
        return ([f"DROP TRIGGER IF EXISTS import_fingerprint_{name} ON {owners[name]}" for name in names]
                + ["DROP FUNCTION IF EXISTS import_fingerprint_forget_customer()"]
                + [f"DROP FUNCTION IF EXISTS import_fingerprint_forget_{table}()" for table in OWNERS])
    return [f"DROP TRIGGER IF EXISTS import_fingerprint_{name}" for name in names]


# create_all (scripts, throwaway databases) builds the triggers too, once every table exists;
# the migration calls create_statements() itself.
for _dialect in ("postgresql", "sqlite"):
    for _statement in create_statements(_dialect):
        event.listen(db.metadata, "after_create", DDL(_statement).execute_if(dialect=_dialect))
