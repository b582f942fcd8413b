"""The recording store's removal: durable, idempotent, and honest about what it could not remove."""
from __future__ import annotations

import pytest

from portal.storage import LocalDirectoryStore, StorageError


@pytest.fixture
def store(tmp_path):
    for name in ("a/1.mp4", "a/2.mp4", "b/3.mp4"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"nagranie")
    return LocalDirectoryStore(tmp_path)


def test_delete_many_removes_every_file(store, tmp_path):
    assert store.delete_many(["a/1.mp4", "a/2.mp4", "b/3.mp4"]) == {}
    assert list(tmp_path.rglob("*.mp4")) == []


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
