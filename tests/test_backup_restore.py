"""Backup of a platform that is being written to, restored onto an empty data directory.

The source is a data directory of its own (demo organisation, processed and indexed demo documents,
12 months of history) on its own embedded server. ``huitong backup`` runs as a separate process
while this process keeps uploading documents and appending audit events; ``huitong restore`` lays
the archive onto a new directory. Then: node counts equal the snapshot's, every blob hashes to its
name and every version's blob is there, restored files are 0600, and a set of searches returns the
same documents in the same order as on the source.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, run_cli

from graph import embedded_server, open_store
from graph.queries import org
from settings import Settings, load_settings

QUERIES = ["expense reimbursement policy", "sales report", "合同", "预算", "security policy", "meeting minutes"]
def _env(data_dir: Path) -> dict[str, str]:
    return {"HUITONG_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}


def _searches(data_dir: Path, usernames: list[str]) -> dict[str, list[str]]:
    """The platform's search (permission-exact, hybrid) on the data directory, as each user."""
    from graph.usecases import Context, actor_by_username
    from ingest import search as service

    settings = load_settings(data_dir=data_dir)
    out = {}
    with open_store(settings) as store:  # a store of its own: its permission cache is its own too
        for username in usernames:
            actor = actor_by_username(store, username, door="cli")
            assert actor is not None
            for text in QUERIES:
                params = {"q": [text], "k": ["10"]}
                query = service.parse_query(lambda name, params=params: params.get(name, []))  # type: ignore[misc]
                found = service.search(Context(store, settings), actor, query, labels=False)
                out[f"{username}:{text}"] = [r.document_id for r in found.results]
    return out


@pytest.fixture(scope="module")
def source() -> Iterator[Settings]:
    root = Path(tempfile.mkdtemp(prefix="ht-bk-"))
    settings = load_settings(data_dir=root / "src")
    server = embedded_server(settings)
    server.ensure_running()
    try:
        from graph.analytics.demo_history import load_demo_history
        from graph.demo_org import load_demo_org
        from graph.workflows.templates import install_templates
        from ingest.demo_docs import load_demo_documents

        with open_store(settings) as store:
            store.ensure_schema()
            load_demo_org(store, "admin-test-password")
            install_templates(store, now=1_700_000_000_000)
            load_demo_documents(store, settings, 10, index=True)
            load_demo_history(store)
        yield settings
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def _writer(settings: Settings, stop: threading.Event, written: list[str]) -> None:
    """Uploads and audit events, as the web and the workers would make them, until told to stop."""
    from graph import audit
    from ingest import uploads

    with open_store(settings) as store:
        owner = store.run(org.PERSON_BY_USERNAME, {"username": "admin"})[0]["id"]
        number = 0
        while not stop.is_set():
            number += 1
            body = f"Concurrent upload {number} written while the backup runs. {os.urandom(8).hex()}\n".encode()
            done = uploads.upload(store, settings, body, f"during-{number}.txt", owner, "general", "internal",
                                   enqueue=None, client="test")
            audit.record(store, action="test.write_during_backup", actor_id=owner, target_kind="document",
                         target_id=done.document_id)
            written.append(done.document_id)


def _blob_files(data_dir: Path) -> dict[str, Path]:
    return {p.name: p for p in (data_dir / "blobs").rglob("*") if p.is_file() and p.parent.name != "tmp"}


def test_backup_during_writes_restores_identically(source: Settings, tmp_path: Path) -> None:
    usernames = ["admin", "zhangwei"]
    with open_store(source) as store:
        known = {u for u in usernames if store.run(org.PERSON_BY_USERNAME, {"username": u})}
    usernames = sorted(known) or ["admin"]
    before = _searches(source.data_dir, usernames)
    assert any(before.values()), "the searches find nothing on the source: the comparison would prove nothing"

    archive = tmp_path / "huitong.tar.zst"
    stop, written = threading.Event(), list[str]()
    thread = threading.Thread(target=_writer, args=(source, stop, written), daemon=True)
    thread.start()
    try:
        while len(written) < 5:  # writes are under way before the backup starts...
            thread.join(0.05)
        made = run_cli("backup", str(archive), "--json", env=_env(source.data_dir), timeout=600)
        during = len(written)
    finally:
        stop.set()
        thread.join(60)
    assert made.returncode == 0, made.stderr
    summary = json.loads(made.stdout)
    assert during > 5  # ...and went on while it ran
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600

    restored_dir = tmp_path / "restored"
    done = run_cli("restore", str(archive), "--json", env=_env(restored_dir), timeout=600)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["nodes"] == summary["nodes"]

    again = run_cli("restore", str(archive), env=_env(restored_dir))
    assert again.returncode != 0 and "not empty" in again.stderr

    restored = load_settings(data_dir=restored_dir)
    server = embedded_server(restored)
    server.ensure_running()
    try:
        from graph.queries import backup as q

        with open_store(restored) as store:
            counts = store.counts()
            hashes = {row["sha256"] for row in store.run(q.VERSION_HASHES)}
        with open_store(source) as store:
            source_counts = store.counts()
        assert counts == result["counts"]
        assert sum(counts.values()) == summary["nodes"]
        # The writes after the snapshot are on the source, not in the restored graph.
        assert source_counts["Document"] > counts["Document"]
        assert source_counts["AuditEvent"] > counts["AuditEvent"]

        blobs = _blob_files(restored_dir)
        for name, path in blobs.items():
            assert hashlib.sha256(path.read_bytes()).hexdigest() == name
        assert hashes <= blobs.keys()
        source_blobs = _blob_files(source.data_dir)
        assert {n for n in blobs} <= source_blobs.keys()
        for path in [*blobs.values(), *(restored_dir / "text").rglob("*.json")]:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        # Everything else in the restored folder too, the graph server's own files (AOF, log, pid) included.
        loose = [f"{oct(stat.S_IMODE(p.stat().st_mode))} {p}" for p in restored_dir.rglob("*")
                 if p.is_file() and stat.S_IMODE(p.stat().st_mode) & 0o077]
        assert not loose, loose
        # The uploads made during the backup were queued for extraction, not indexed: the source's results
        # are still ``before``, and the restored platform must give exactly those.
        assert _searches(restored_dir, usernames) == before
    finally:
        server.stop()


def test_restore_refuses_a_non_empty_directory_and_a_foreign_file(tmp_path: Path) -> None:
    target = tmp_path / "data"
    target.mkdir()
    (target / "something").write_text("x")
    foreign = tmp_path / "not-a-backup.tar.zst"
    foreign.write_bytes(b"hello")
    refused = run_cli("restore", str(foreign), env=_env(target))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    empty = tmp_path / "empty"
    refused = run_cli("restore", str(foreign), env=_env(empty))
    assert refused.returncode == 1 and "not a Huitong backup" in refused.stderr
    # Every command makes the data directory (private, 0700) before it starts; the refusal leaves it empty.
    assert not empty.exists() or not any(empty.iterdir())


def test_a_damaged_archive_is_refused_and_leaves_nothing(source: Settings, tmp_path: Path) -> None:
    import io
    import tarfile

    import zstandard

    from ingest.backup import backup, open_archive
    from ingest.restore import restore

    good = tmp_path / "good.tar.gz"
    made = backup(source, good)
    assert made.manifest["graph"]["nodes"] > 0 and made.manifest["blobs"]["count"] > 0
    damaged = tmp_path / "damaged.tar.zst"
    stream, tar = open_archive(good)
    with stream, tar, damaged.open("wb") as raw, \
            zstandard.ZstdCompressor().stream_writer(raw) as packed, tarfile.open(fileobj=packed, mode="w|") as out:
        flipped = False
        for member in tar:
            data = tar.extractfile(member).read()  # type: ignore[union-attr]
            if member.name.startswith("files/blobs/") and not flipped:
                data, flipped = data[:-1] + bytes([data[-1] ^ 1]), True
            out.addfile(member, io.BytesIO(data))
    target = tmp_path / "target"
    with pytest.raises(Exception, match="does not match its recorded size and SHA-256"):
        restore(load_settings(data_dir=target), damaged)
    assert not target.exists()
    restored = restore(load_settings(data_dir=tmp_path / "ok"), good)  # the gzip one restores
    assert restored.counts == made.manifest["graph"]["counts"]
