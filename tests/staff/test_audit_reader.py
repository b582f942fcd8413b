"""The privacy officer's audit-log reader: filters, keyset pages, chain status, the streamed JSON
Lines export, and every reading audited (SPEC P11)."""
from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from portal import audit
from portal.audit import AuditEvent
from portal.extensions import db
from portal.staff import audit_reader
from tests import factories
from tests.staff.conftest import counted_statements


def shown(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'data-event="(\d+)"', page)]


@pytest.fixture
def events(app):
    a, b = factories.customer(), factories.customer()
    actor = factories.identity("ewa@mcx.pl")
    written = {"a": [], "b": []}
    for n in range(6):
        written["a"].append(audit.record("sign_in", actor_id=actor.id, customer_id=a.id, provider="mcx").id)
        written["b"].append(audit.record("data_exported", customer_id=b.id, format="json").id)
    db.session.commit()
    return a, b, actor, written


def test_only_privacy_officers_read_the_log(app, moderator, sign_in_as):
    assert moderator.get("/staff/audit").status_code == 403
    assert moderator.get("/staff/audit/export.jsonl").status_code == 403
    assert app.test_client().get("/staff/audit").status_code == 302


def test_filters_by_customer_actor_and_kind(officer, events):
    a, b, actor, written = events
    page = officer.get(f"/staff/audit?customer={a.number.lower()}&kind=sign_in").get_data(as_text=True)
    assert shown(page) == written["a"][::-1]
    assert shown(officer.get("/staff/audit?actor=EWA@mcx.pl").get_data(as_text=True)) == written["a"][::-1]
    assert shown(officer.get(f"/staff/audit?actor={actor.id}").get_data(as_text=True)) == written["a"][::-1]
    page = officer.get("/staff/audit?kind=data_exported").get_data(as_text=True)
    assert shown(page) == written["b"][::-1]


def test_filters_by_warsaw_days(officer, events):
    a, _b, _actor, written = events
    # 23:30 UTC on 14 March is 15 March in Warsaw
    first, second = written["a"][0], written["a"][1]
    db.session.execute(update(AuditEvent).where(AuditEvent.id == first).values(at=datetime(2026, 3, 14, 23, 30, tzinfo=UTC)))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == second).values(at=datetime(2026, 3, 14, 22, 30, tzinfo=UTC)))
    db.session.commit()
    page = officer.get(f"/staff/audit?customer={a.number}&since=2026-03-15&until=2026-03-15").get_data(as_text=True)
    assert shown(page) == [first]
    page = officer.get(f"/staff/audit?customer={a.number}&since=2026-03-14&until=2026-03-14").get_data(as_text=True)
    assert shown(page) == [second]


def test_keyset_pages_cover_every_event_once(officer, events, monkeypatch):
    monkeypatch.setattr(audit_reader, "PAGE_SIZE", 4)
    seen, url = [], "/staff/audit?kind=sign_in"
    while url:
        page = officer.get(url).get_data(as_text=True)
        seen += shown(page)
        more = re.search(r'rel="next" href="([^"]+)"', page)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == events[3]["a"][::-1]


def test_each_event_shows_its_position_and_the_head_is_shown(officer, events):
    page = officer.get("/staff/audit").get_data(as_text=True)
    head = db.session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert f"{head.seq}:{head.hash}" in page
    for event_id, seq in db.session.execute(select(AuditEvent.id, AuditEvent.seq).limit(3)):
        assert f'data-event="{event_id}" data-seq="{seq}"' in page


def test_reading_and_exporting_are_audited_and_name_the_customer(officer, events):
    a = events[0]
    officer.get(f"/staff/audit?customer={a.number}&kind=sign_in")
    officer.get(f"/staff/audit/export.jsonl?customer={a.number}")
    read, exported = (db.session.scalars(select(AuditEvent).where(AuditEvent.kind == kind)).one()
                      for kind in ("audit_log_read", "audit_log_exported"))
    assert read.actor_identity_id == officer.identity.id and read.customer_id == a.id
    assert read.details["filters"] == {"customer": a.number, "kind": "sign_in"}
    assert exported.customer_id == a.id


def test_the_export_streams_the_filtered_view_as_json_lines(officer, events, monkeypatch):
    monkeypatch.setattr(audit_reader, "EXPORT_BATCH", 4)
    a, _b, _actor, written = events
    response = officer.get(f"/staff/audit/export.jsonl?customer={a.number}")
    assert response.was_streamed and response.mimetype == "application/jsonl"
    lines = [json.loads(line) for line in response.get_data(as_text=True).splitlines()]
    # the export is recorded before it is read, so it lists itself first
    assert lines[0]["kind"] == "audit_log_exported"
    assert [line["id"] for line in lines[1:]] == written["a"][::-1]
    assert {line["customer_number"] for line in lines} == {a.number}
    assert all(line["data"] == {"provider": "mcx"} and len(line["hash"]) == 64 for line in lines[1:])


@pytest.mark.parametrize("query", ["", "?kind=sign_in", "?customer={number}&since=2020-01-01&until=2099-12-31"])
def test_statements_per_page_do_not_grow_with_the_log(app, officer, query):
    counts = []
    customer = factories.customer()
    for size in (5, 60):
        while db.session.scalar(select(func.count()).select_from(AuditEvent)) < size:
            audit.record("sign_in", customer_id=customer.id, provider="mcx")
        db.session.commit()
        with counted_statements() as statements:
            assert officer.get("/staff/audit" + query.format(number=customer.number)).status_code == 200
            # a deep page
            assert officer.get("/staff/audit?before=40&" + query.lstrip("?").format(number=customer.number)).status_code == 200
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_chain_status_of_an_event_against_the_last_checkpoint():
    from portal.staff.chain import AFTER_CHECKPOINT, UNSEALED, VERIFIED, ChainState

    state = ChainState(head="9:" + "a" * 64, checkpoint_seq=5, checkpoint_at=datetime(2026, 11, 30, tzinfo=UTC))
    assert [state.of(seq) for seq in (1, 5, 6, None)] == [VERIFIED, VERIFIED, AFTER_CHECKPOINT, UNSEALED]
    assert ChainState(head=None, checkpoint_seq=None, checkpoint_at=None).of(1) == AFTER_CHECKPOINT


def test_events_up_to_the_last_verify_audit_checkpoint_show_as_verified(officer, events):
    from portal.audit import AuditCheckpoint

    audit.seal()
    assert audit.verify().ok  # stores the checkpoint, as `flask portal verify-audit` does
    checkpoint = db.session.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc())).first()
    page = officer.get("/staff/audit").get_data(as_text=True)
    chain = dict(re.findall(r'data-seq="(\d+)" data-chain="(\w+)"', page))
    assert chain[str(checkpoint.seq)] == "verified"
    assert chain[str(checkpoint.seq + 1)] == "after_checkpoint"  # the page's own reading came after

    checkpoint.seq += 100  # a writer who cannot sign moves the checkpoint past their edits
    db.session.commit()
    page = officer.get("/staff/audit").get_data(as_text=True)
    assert 'data-chain="verified"' not in page and "MAC" in page
