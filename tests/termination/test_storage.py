"""The recording store's removal: durable, idempotent, and honest about what it could not remove."""
from __future__ import annotations

import hashlib

import pytest

from portal.storage import LocalDirectoryStore, ObjectStat, RangeBody, StorageError
from portal.storage_s3 import S3Store
from tests.support.s3 import LOCKED_BUCKET

KEYS = ("a/1.mp4", "a/2.mp4", "b/3.mp4")


@pytest.fixture(params=["local", "s3"])
def any_store(request, tmp_path):
    """The same three recordings in a directory, and in a versioned S3 bucket."""
    if request.param == "local":
        store = LocalDirectoryStore(tmp_path)
    else:
        store = S3Store(request.getfixturevalue("s3_server").fresh_url())
    for name in KEYS:
        store.put(name, b"nagranie")
    return store


@pytest.fixture
def store(tmp_path):
    for name in KEYS:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"nagranie")
    return LocalDirectoryStore(tmp_path)


def test_delete_many_removes_every_file(any_store):
    assert any_store.delete_many(list(KEYS)) == {}
    assert not any(any_store.exists(key) for key in KEYS)


def test_a_file_already_gone_is_not_an_error_in_either_store(any_store):
    any_store.delete("a/1.mp4")
    any_store.delete("a/1.mp4")
    assert any_store.delete_many(["a/1.mp4", "a/2.mp4"]) == {}
    assert not any_store.exists("a/2.mp4") and any_store.exists("b/3.mp4")


def test_ranges_are_read_as_asked(any_store):
    any_store.put("c/4.mp4", bytes(range(256)) * 4)

    with any_store.open("c/4.mp4", 1000, 1010) as part:
        assert part.read() == (bytes(range(256)) * 4)[1000:1010]
    with any_store.open("c/4.mp4", 1020) as tail:
        assert tail.read() == (bytes(range(256)) * 4)[1020:]
    body = RangeBody(any_store, "c/4.mp4", 1024)
    body.seek(512)
    assert b"".join(body) == (bytes(range(256)) * 4)[512:]


def test_stat_gives_the_size_and_the_checksum_where_the_store_keeps_one(any_store):
    stat = any_store.stat("a/1.mp4")

    assert stat.size == len(b"nagranie")
    if isinstance(any_store, S3Store):  # uploaded with a SHA-256 checksum, which S3 keeps
        assert stat == ObjectStat(8, hashlib.sha256(b"nagranie").hexdigest())
    else:  # a directory keeps none: os.stat only
        assert stat.sha256 is None
    assert any_store.stat("a/none.mp4") is None


@pytest.mark.parametrize("key", ["../x.mp4", "a/../../x.mp4", "/etc/hostname", "a/nul\x00.mp4"])
def test_names_that_are_not_recordings_are_refused_by_either_store(any_store, key):
    with pytest.raises(StorageError):
        any_store.stat(key)
    assert set(any_store.delete_many([key])) == {key}


def test_every_version_and_delete_marker_is_removed_from_a_versioned_bucket(s3_server):
    store = S3Store(s3_server.fresh_url())
    store.put("c/1.mp4", b"first")
    store.put("c/1.mp4", b"second")
    store.client.delete_object(Bucket=store.bucket, Key=store.object_key("c/1.mp4"))  # a delete marker
    store.put("c/1.mp4", b"third")
    store.client.delete_object(Bucket=store.bucket, Key=store.object_key("c/1.mp4"))
    store.put("c/10.mp4", b"another recording, same prefix")
    assert len(s3_server.all_versions(store.bucket, store.object_key("c/1.mp4"))) == 5

    removal = store.remove_many(["c/1.mp4"])

    assert removal.failures == {}
    assert removal.removed["c/1.mp4"].as_dict() == {"versions": 3, "delete_markers": 2}
    # nothing of it is left, not even a version the store could restore; its neighbour is kept
    assert [v["Key"] for v in s3_server.all_versions(store.bucket, store.prefix)] == [store.object_key("c/10.mp4")]


def test_a_deletion_the_store_refuses_is_reported_with_the_stores_error(s3_server):
    store = S3Store(s3_server.fresh_url(LOCKED_BUCKET))
    store.put("c/held.mp4", b"under legal hold")
    store.put("c/free.mp4", b"free")
    store.client.put_object_legal_hold(Bucket=store.bucket, Key=store.object_key("c/held.mp4"),
                                       LegalHold={"Status": "ON"})
    try:
        removal = store.remove_many(["c/held.mp4", "c/free.mp4"])

        assert set(removal.failures) == {"c/held.mp4"} and "AccessDenied" in str(removal.failures["c/held.mp4"])
        assert "c/held.mp4" not in removal.removed and store.exists("c/held.mp4")
        assert not store.exists("c/free.mp4")
    finally:
        store.client.put_object_legal_hold(Bucket=store.bucket, Key=store.object_key("c/held.mp4"),
                                           LegalHold={"Status": "OFF"})


def test_a_file_already_gone_is_not_an_error(store):
    store.delete("a/1.mp4")
    store.delete("a/1.mp4")
    assert store.delete_many(["a/1.mp4", "a/2.mp4"]) == {}
    assert not store.exists("a/2.mp4")


def test_what_cannot_be_removed_is_reported_and_the_rest_removed(store, tmp_path):
    (tmp_path / "a" / "dir.mp4").mkdir()

    failures = store.delete_many(["a/dir.mp4", "a/1.mp4", "../outside.mp4"])

    assert set(failures) == {"a/dir.mp4", "../outside.mp4"}
    assert all(isinstance(f, StorageError) for f in failures.values())
    assert not store.exists("a/1.mp4") and store.exists("a/2.mp4")


def test_delete_raises_what_it_could_not_do(store, tmp_path):
    (tmp_path / "a" / "dir.mp4").mkdir()
    with pytest.raises(StorageError):
        store.delete("a/dir.mp4")


def test_symbolic_links_never_lead_outside_the_root(tmp_path):
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "a").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.mp4").write_bytes(b"not a recording")
    (root / "a" / "link.mp4").symlink_to(outside / "secret.mp4")
    (root / "elsewhere").symlink_to(outside, target_is_directory=True)
    store = LocalDirectoryStore(root)

    for key in ("a/link.mp4", "elsewhere/secret.mp4", "../outside/secret.mp4", "/etc/hostname"):
        with pytest.raises(StorageError):
            store.path(key)
    assert set(store.delete_many(["a/link.mp4", "elsewhere/secret.mp4"])) == {"a/link.mp4", "elsewhere/secret.mp4"}
    assert (outside / "secret.mp4").exists()
