"""The audit chain is keyed with PORTAL_AUDIT_KEY (HMAC-SHA256): someone who can write the table
but does not hold the key cannot edit an event and recompute the hashes after it; rotating the
key keeps older events verifiable; events from before the key are anchored by the first keyed one."""
from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text

from portal import audit, config, create_app
from portal.audit import AuditEvent
from portal.config import ConfigError
from portal.extensions import db
from tests.test_audit import verify_audit
from tests.test_migrations import run, throwaway_database  # noqa: F401  (a fixture)


def plain_sha256(prev: str, seq: int, at, kind: str, actor, customer, data: str) -> str:
    """The hash anyone can compute without the key: SHA-256 over the event's fields."""
    body = json.dumps([prev, seq, at.isoformat(timespec="microseconds"), kind, actor, customer, data],
                      separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def guessed_key(prev: str, seq: int, at, kind: str, actor, customer, data: str) -> str:
    """An HMAC as the portal computes it, under a key the writer guessed."""
    return audit._digest(prev, seq, at, kind, actor, customer, data, "dev", b"mcx-portal-dev-secret")


def rehash_from(seq: int, digest=plain_sha256, **changes) -> None:
    """A database writer edits the events from `seq` on and recomputes every hash after them."""
    with db.engine.begin() as conn:
        for column, value in changes.items():
            conn.execute(text(f"UPDATE audit_events SET {column} = :v WHERE seq >= :seq"), {"v": value, "seq": seq})
    db.session.expire_all()
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    prev = events[seq - 2].hash if seq > 1 else audit.GENESIS
    with db.engine.begin() as conn:
        for event in events[seq - 1:]:
            new = digest(prev, event.seq, event.at, event.kind, event.actor_identity_id, event.customer_id, event.data)
            conn.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                         {"p": prev, "h": new, "s": event.seq})
            prev = new
    db.session.expire_all()


def write_chain(n: int) -> None:
    for i in range(n):
        audit.record("consent_changed", number=i)
    db.session.commit()


def test_an_edited_tail_with_recomputed_hashes_is_detected_without_a_recorded_head(app):
    write_chain(6)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET data = :d WHERE seq = 4"), {"d": '{"number":400}'})
    rehash_from(4)

    result = verify_audit(app)

    assert result.exit_code == 1
    assert "broken at event 4" in result.output


def test_a_tail_re_hashed_under_a_guessed_key_is_detected(app):
    write_chain(5)
    rehash_from(3, guessed_key, kind="harmless")

    result = verify_audit(app)

    assert result.exit_code == 1 and "broken at event 3" in result.output


def test_a_tail_relabelled_as_legacy_is_detected(app):
    write_chain(5)
    rehash_from(4, key_id="legacy")

    result = verify_audit(app)

    assert result.exit_code == 1 and "broken at event 4" in result.output and "unkeyed" in result.output


def test_a_whole_chain_relabelled_as_legacy_is_detected(app):
    write_chain(5)
    rehash_from(1, key_id="legacy")

    result = verify_audit(app)

    assert result.exit_code == 1 and "no keyed event anchors" in result.output


def test_rotation_keeps_older_events_verifiable_and_each_event_names_its_key(app):
    app.config.update(AUDIT_KEY_ID="2025", AUDIT_KEYS={"2025": b"a" * 48})
    write_chain(3)
    app.config.update(AUDIT_KEY_ID="2026", AUDIT_KEYS={"2026": b"b" * 48, "2025": b"a" * 48})
    write_chain(2)

    result = verify_audit(app)

    assert result.exit_code == 0, result.output and "5 events" in result.output
    assert list(db.session.scalars(select(AuditEvent.key_id).order_by(AuditEvent.seq))) == [
        "2025", "2025", "2025", "2026", "2026"]
    app.config.update(AUDIT_KEYS={"2026": b"b" * 48})  # the earlier key dropped too soon
    dropped = verify_audit(app)
    assert dropped.exit_code == 1 and "broken at event 1" in dropped.output and "'2025'" in dropped.output


def test_the_key_is_never_stored_in_the_database(app):
    app.config.update(AUDIT_KEY_ID="k1", AUDIT_KEYS={"k1": b"very-secret-audit-key-0123456789abcdef"})
    write_chain(2)
    with db.engine.connect() as conn:
        dump = " ".join(str(value) for row in conn.execute(text("SELECT * FROM audit_events")) for value in row)
    assert "very-secret" not in dump


def test_events_from_before_the_key_are_anchored_by_the_migration(throwaway_database, tmp_path):  # noqa: F811
    portal_app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": throwaway_database, "OIDC_PROVIDERS": [],
                             "RECORDINGS_DIR": str(tmp_path), "AUDIT_KEY_ID": "k1", "AUDIT_KEYS": {"k1": b"k" * 40}})
    run(portal_app, "db", "upgrade", "0006")
    with portal_app.app_context():
        # three events as the portal wrote them before the chain was keyed
        prev = audit.GENESIS
        with db.engine.begin() as conn:
            for seq in (1, 2, 3):
                at, data = audit.utcnow(), json.dumps({"n": seq})
                digest = plain_sha256(prev, seq, at, "sign_in", None, None, data)
                conn.execute(text("INSERT INTO audit_events (seq, at, kind, data, prev_hash, hash) "
                                  "VALUES (:seq, :at, 'sign_in', :data, :prev, :hash)"),
                             {"seq": seq, "at": at.replace(tzinfo=None), "data": data, "prev": prev, "hash": digest})
                prev = digest
        db.engine.dispose()
    run(portal_app, "db", "upgrade")
    with portal_app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        assert [(e.seq, e.key_id, e.kind) for e in events] == [
            (1, "legacy", "sign_in"), (2, "legacy", "sign_in"), (3, "legacy", "sign_in"),
            (4, "k1", "audit_chain_keyed")]
        assert audit.verify().ok
        audit.record("sign_in", n=5)
        db.session.commit()
        assert audit.verify().ok and audit.verify().events == 5
        # a writer edits a legacy event and re-hashes the legacy part: the keyed anchor no longer fits
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET data = :d WHERE seq = 2"), {"d": '{"n":20}'})
        db.session.expire_all()
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
        prev = events[0].hash
        with db.engine.begin() as conn:
            for event in events[1:3]:
                digest = plain_sha256(prev, event.seq, event.at, event.kind, None, None, event.data)
                conn.execute(text("UPDATE audit_events SET prev_hash = :p, hash = :h WHERE seq = :s"),
                             {"p": prev, "h": digest, "s": event.seq})
                prev = digest
        db.session.expire_all()
        # the edit lies before the checkpoint the runs above recorded: a full walk finds it
        broken = audit.verify(full=True)
        db.session.remove()
        db.engine.dispose()
    assert not broken.ok and broken.broken_seq == 4


def test_production_needs_an_audit_key(tmp_path):
    env = {"PORTAL_ENV": "production", "PORTAL_SECRET_KEY": "s" * 48, "PORTAL_OIDC_ISSUER": "https://login.mcx.example",
           "PORTAL_OIDC_CLIENT_ID": "portal", "PORTAL_OIDC_CLIENT_SECRET": "secret",
           "PORTAL_EXTERNAL_URL": "https://portal.mcx.example"}

    with pytest.raises(ConfigError, match="PORTAL_AUDIT_KEY"):
        config.load(str(tmp_path), env)
    with pytest.raises(ConfigError, match="too short"):
        config.load(str(tmp_path), {**env, "PORTAL_AUDIT_KEY": "2026:short"})
    settings = config.load(str(tmp_path), {**env, "PORTAL_AUDIT_KEY": f"2026:{'n' * 40}, 2025:{'o' * 40}"})
    assert settings["AUDIT_KEY_ID"] == "2026"
    assert settings["AUDIT_KEYS"] == {"2026": b"n" * 40, "2025": b"o" * 40}
    assert not (tmp_path / "dev-audit-key").exists()


@pytest.mark.parametrize("value, says", [("legacy:" + "x" * 40, "key id"), ("a b:" + "x" * 40, "key id"),
                                         (f"k:{'x' * 40},k:{'y' * 40}", "twice")])
def test_malformed_audit_keys_are_refused(tmp_path, value, says):
    with pytest.raises(ConfigError, match=says):
        config.load(str(tmp_path), {"PORTAL_AUDIT_KEY": value})


def test_development_generates_a_private_audit_key_once(tmp_path):
    first = config.load(str(tmp_path), {})
    second = config.load(str(tmp_path), {})

    assert first["AUDIT_KEY_ID"] == "dev" and len(first["AUDIT_KEYS"]["dev"]) >= 32
    assert first["AUDIT_KEYS"] == second["AUDIT_KEYS"]
    assert (tmp_path / "dev-audit-key").stat().st_mode & 0o077 == 0
    assert first["AUDIT_KEYS"]["dev"] != first["SECRET_KEY"].encode()
