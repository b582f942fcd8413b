"""Each customer's recording count and size are kept by the database's triggers (issue 15): whatever
writes recordings — the import, a termination's deletion, a plain INSERT — the figures the account
home and the termination page show stay those of the recordings table, on SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update

from portal.customers.models import Customer, Recording, Room
from portal.customers.totals import totals
from portal.extensions import db
from portal.termination import services as termination
from tests import factories
from tests.crm_import.test_import import company, person
from tests.termination.conftest import EFFECTIVE, make_account, requested_termination


def counted(customer_id: int) -> tuple[int, int]:
    """What a scan of the recordings says (the figures the triggers must agree with)."""
    count, size = db.session.execute(
        select(func.count(Recording.id), func.coalesce(func.sum(Recording.size_bytes), 0))
        .join(Room).where(Room.customer_id == customer_id)).one()
    return count, int(size)


def test_import_counts_the_imported_recordings(app, tmp_path):
    root = tmp_path / "files"
    document = {"customers": [company(root), person()]}
    app.config["RECORDINGS_DIR"] = str(root)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["portal", "import", str(path)])
    assert result.exit_code == 0, result.output

    anna = db.session.scalar(select(Customer).where(Customer.number == "MCX-000123"))
    tomasz = db.session.scalar(select(Customer).where(Customer.number == "MCX-000200"))
    assert totals(anna.id) == counted(anna.id)
    assert totals(anna.id)[0] == 2 and totals(anna.id)[1] == len(b"zarzad-luty" * 300) + len(b"zarzad-marzec" * 200)
    assert totals(tomasz.id) == (0, 0)

    # the same file again changes nothing
    result = app.test_cli_runner().invoke(args=["portal", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert totals(anna.id) == counted(anna.id) == (2, totals(anna.id)[1])


def test_deletion_through_termination_brings_the_totals_to_zero(app):
    account = make_account(app, recordings=5)
    other = make_account(app, recordings=2)
    before = totals(account.customer.id)
    assert before == counted(account.customer.id) and before[0] == 5 and before[1] > 0

    requested_termination(account)
    report = termination.run_due(today=EFFECTIVE, batch_size=2)
    assert [o.status for o in report.outcomes] == ["completed"]
    db.session.expire_all()

    assert totals(account.customer.id) == counted(account.customer.id) == (0, 0)
    assert totals(other.customer.id) == counted(other.customer.id) and totals(other.customer.id)[0] == 2


def test_direct_inserts_updates_and_deletes_keep_the_totals(app):
    customer = factories.customer()
    stranger = factories.customer()
    board, archive = factories.room(customer, "Sala"), factories.room(customer, "Archiwum")
    elsewhere = factories.room(stranger, "Cudza sala")
    assert totals(customer.id) == (0, 0)

    started = datetime(2025, 2, 3, 10, 0, tzinfo=UTC)
    db.session.execute(insert(Recording), [
        {"room_id": room.id, "key": f"k{n}", "title": "t", "started_at": started, "duration_s": 1,
         "file": f"f{n}", "size_bytes": 1000 + n, "sha256": "0" * 64}
        for n, room in enumerate([board, board, archive, elsewhere])])
    assert totals(customer.id) == counted(customer.id) == (3, 3003)
    assert totals(stranger.id) == counted(stranger.id) == (1, 1003)

    db.session.execute(update(Recording).where(Recording.room_id == archive.id).values(size_bytes=5))
    assert totals(customer.id) == counted(customer.id) == (3, 2006)

    # a recording moved to another customer's room moves between their totals
    moved = db.session.scalar(select(Recording.id).where(Recording.room_id == board.id).limit(1))
    db.session.execute(update(Recording).where(Recording.id == moved).values(room_id=elsewhere.id))
    assert totals(customer.id) == counted(customer.id)
    assert totals(stranger.id) == counted(stranger.id)

    db.session.execute(delete(Recording).where(Recording.room_id.in_([board.id, archive.id])))
    assert totals(customer.id) == counted(customer.id) == (0, 0)
    db.session.commit()
    assert totals(stranger.id) == counted(stranger.id) and totals(stranger.id)[0] == 2


def test_the_account_home_shows_the_kept_count(app):
    from portal.account.services import owned_account

    account = make_account(app, recordings=3)
    # a row the ORM never saw: only the trigger can have counted it
    db.session.execute(insert(Recording).values(
        room_id=db.session.scalar(select(Room.id).where(Room.customer_id == account.customer.id).limit(1)),
        key="direct", title="t", started_at=datetime(2025, 2, 3, tzinfo=UTC), duration_s=1, file="direct",
        size_bytes=7, sha256="0" * 64))
    db.session.commit()
    assert owned_account(account.owner).recordings == 4
