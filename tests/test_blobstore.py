"""The content-addressed blob store: fan-out layout, dedup, atomic writes, size limit."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import time
from pathlib import Path

import pytest

from ingest.blobstore import BlobStore, BlobTooLarge


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and "tmp" not in p.relative_to(root).parts]


def test_layout_and_content(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = "汇通 blob store\n".encode()
    blob = store.put(data)
    digest = hashlib.sha256(data).hexdigest()
    assert blob.sha256 == digest and blob.size == len(data) and blob.created
    assert blob.path == tmp_path / digest[:2] / digest[2:4] / digest
    assert store.read(digest) == data and store.exists(digest)
    assert not os.access(blob.path, os.W_OK) or os.geteuid() == 0  # stored read-only (root ignores modes)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_same_bytes_are_stored_once_from_bytes_path_and_stream(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = os.urandom(3 * 1024 * 1024 + 17)  # spans several read chunks
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    first = store.put(data)
    second = store.put(source)
    third = store.put(io.BytesIO(data))
    assert first.created and not second.created and not third.created
    assert first.path == second.path == third.path
    assert len(_files(tmp_path / "blobs")) == 1


def test_concurrent_puts_of_the_same_bytes_leave_one_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    data = os.urandom(256 * 1024)
    results = []
    barrier = threading.Barrier(6)

    def put() -> None:
        barrier.wait()
        results.append(store.put(data))

    threads = [threading.Thread(target=put) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.sha256 for r in results}) == 1
    assert len(_files(tmp_path)) == 1 and store.read(results[0].sha256) == data
    assert list((tmp_path / "tmp").iterdir()) == []


def test_size_limit_rejects_and_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path, max_bytes=1024)
    store.put(b"x" * 1024)  # exactly the limit is fine
    with pytest.raises(BlobTooLarge, match="upload limit"):
        store.put(io.BytesIO(b"y" * 5000))
    assert len(_files(tmp_path)) == 1
    assert list((tmp_path / "tmp").iterdir()) == []


def test_staged_blob_discarded_leaves_nothing(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    with store.stage(b"never committed") as staged:
        assert staged.temp_path.exists()
    assert not staged.temp_path.exists() and _files(tmp_path) == []


def test_bad_hash_never_becomes_a_path(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    for bad in ("../../etc/passwd", "A" * 64, "abc", ""):
        with pytest.raises(ValueError):
            store.path(bad)


def test_sweep_removes_old_temporary_files(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    (tmp_path / "tmp").mkdir()
    old, fresh = tmp_path / "tmp" / "up-old", tmp_path / "tmp" / "up-new"
    old.write_bytes(b"left by a crash")
    fresh.write_bytes(b"upload in progress")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.sweep_temp(older_than_seconds=3600) == 1
    assert not old.exists() and fresh.exists()
