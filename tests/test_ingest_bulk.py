"""The bulk path of ingestion: a batch's graph work in a few statements whatever its size, a bulk write the
engine refuses failing only the file that caused it, every created document in the audit trail, and blobs
flushed to disk side by side before any record names them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from documents_helpers import People
from test_ingest_support import many_files

from graph import audit, document_rows
from graph import documents as docs
from graph.cypher import Statement
from graph.embedded_server import EmbeddedServer
from graph.errors import GraphUnavailable
from graph.falkordb_backend import FalkorStore
from graph.queries import documents as doc_q
from ingest import jobs, processing
from ingest.blobstore import Blob, BlobStore
from settings import Settings


class _Counting:
    """The real store, counting the statements sent to it."""

    def __init__(self, store: FalkorStore) -> None:
        self.store = store
        self.sent: list[str] = []

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[dict]:
        self.sent.append(statement.name)
        return self.store.run(statement, params)

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.store, name)


def _plan(store: FalkorStore, settings: Settings, folder: Path, actor_id: str, batch_files: int) -> tuple[str, list]:
    started = jobs.start_job(store, settings, folder, actor_id, jobs.JobOptions(index=False, batch_files=batch_files))
    queued: list[list[str]] = []
    jobs.plan_job(store, settings, started.id, lambda job_id, ids, queue: queued.append(ids))
    return started.id, queued


def _distinct_files(folder: Path, count: int) -> None:
    tag = uuid.uuid4().hex
    for i in range(count):
        (folder / f"note-{i:03d}.md").write_text(f"# {tag} {i}\n\n第 {i} 号会议纪要。Minutes number {i} for FIN.\n",
                                                 encoding="utf-8")


def _statements_of_one_batch(store: FalkorStore, settings: Settings, folder: Path, actor_id: str,
                             count: int) -> list[str]:
    folder.mkdir()
    _distinct_files(folder, count)
    job_id, queued = _plan(store, settings, folder, actor_id, batch_files=count)
    assert len(queued) == 1 and len(queued[0]) == count
    counting = _Counting(store)
    assert jobs.run_batch(counting, settings, job_id, queued[0]) == {"ingested": count}  # type: ignore[arg-type]
    summary = jobs.summary(store, job_id)
    assert (summary["status"], summary["files"], summary["ingested"], summary["failed"]) == ("done", count, count, [])
    return [name for name in counting.sent if name != "documents.known_entities"]  # a cache refill, 30 s apart


def test_a_batch_takes_a_few_statements_not_a_few_per_file(org: FalkorStore, owner: dict, settings: Settings,
                                                            tmp_path: Path) -> None:
    small = _statements_of_one_batch(org, settings, tmp_path / "small", owner["id"], 3)
    large = _statements_of_one_batch(org, settings, tmp_path / "large", owner["id"], 30)
    # Job, files, decisions, documents, audit, locations, versions, then per chunk of extracted versions:
    # extractions, audit, mentions (2), duplicates (3); then the outcomes. Closing the job (this batch is its
    # last) follows.
    per_chunk = ["documents.set_extractions", "audit.record_many_on_document", "documents.clear_mentions_many",
                 "documents.link_mentions_many", "duplicates.sign", "duplicates.signatures_since", "duplicates.relink"]
    work = small[:small.index("ingest_jobs.set_outcomes") + 1]
    assert len(work) == 15 and work[7:14] == per_chunk, small
    chunks = -(-30 // processing.WRITE_CHUNK)
    assert large == small[:7] + per_chunk * chunks + small[14:]


def test_every_created_document_is_in_the_audit_trail_and_linked(org: FalkorStore, owner: dict, settings: Settings,
                                                      tmp_path: Path) -> None:
    _distinct_files(tmp_path, 5)
    job_id, queued = _plan(org, settings, tmp_path, owner["id"], batch_files=5)
    for ids in queued:
        jobs.run_batch(org, settings, job_id, ids)
    created = [f["document_id"] for f in jobs.iter_files(org, job_id)]
    assert len(created) == 5 and all(created)
    for document_id in created:
        events = audit.list_events(org, audit.AuditFilter(target_kind="document", target_id=document_id))
        by_action = {e["action"]: e for e in events}
        assert set(by_action) == {"document.upload", "document.extracted"}
        assert all(e["target_linked"] for e in events)
        upload = by_action["document.upload"]
        assert upload["actor_id"] == owner["id"] and upload["actor_username"] and upload["client"] == "ingest"
        assert '"status": "ok"' in by_action["document.extracted"]["detail"]
        # and its text was linked to what it names, as one upload's would be
        assert [m["code"] for m in org.run(doc_q.MENTIONED, {"id": document_id})] == ["FIN"]


def test_a_bulk_write_the_engine_refuses_fails_only_its_file(org: FalkorStore, owner: dict, settings: Settings,
                                                              tmp_path: Path) -> None:
    folder = tmp_path / "src"
    folder.mkdir()
    distinct, copies = many_files(folder, 12, uuid.uuid4().hex[:8])
    started = jobs.start_job(org, settings, folder, owner["id"], jobs.JobOptions(index=False, batch_files=50))
    queued: list[list[str]] = []
    jobs.plan_job(org, settings, started.id, lambda job_id, ids, queue: queued.append(ids))
    assert len(queued) == 1
    victim = next(f for f in jobs.iter_files(org, started.id) if f["path"].endswith(".pdf"))
    # Another person's document already holds the id this file's document would get (other bytes): the engine's
    # unique key refuses the bulk creation, which must then fail this file alone.
    squatter = People(org).one("FIN", 1)["id"]
    taken = jobs._own_id(jobs.location_key(owner["id"], started.job["source"], victim["path"]), victim["sha256"])
    docs.create_document(org, docs.NewDocument(
        document_id=taken, version_id=docs.new_id(), owner_id=squatter, title="squatter", title_source="user",
        kind="txt", mime="text/plain", domain="general", data_type="unstructured", access="internal", size=1,
        sha256="0" * 64, filename="squatter.txt"))
    outcome = jobs.run_batch(org, settings, started.id, queued[0])
    assert outcome == {"ingested": distinct - 1, "duplicate": copies, "failed": 1}
    files = {f["path"]: f for f in jobs.iter_files(org, started.id)}
    assert files[victim["path"]]["status"] == "failed" and files[victim["path"]]["error"]
    landed = [f for f in files.values() if f["status"] == "done"]
    assert all(f["document_id"] and f["extraction"] == "ok" for f in landed)
    assert document_rows.get_document(org, taken)["title"] == "squatter"  # the other document is untouched


def test_blobs_committed_together_are_whole_and_stored_once(tmp_path: Path) -> None:
    blobs = BlobStore(tmp_path / "blobs")
    payloads = [b"alpha " * 1000, "贰".encode() * 500, b"alpha " * 1000, b""]
    staged = [blobs.stage(p, sync=False) for p in payloads]
    assert not any(s.synced for s in staged)
    done = blobs.commit_all(staged)
    assert all(isinstance(b, Blob) for b in done)
    assert [b.created for b in done] == [True, True, False, True]  # the second copy is not stored again
    for blob, payload in zip(done, payloads, strict=True):
        assert blobs.read(blob.sha256) == payload
    assert list((tmp_path / "blobs" / "tmp").iterdir()) == []
    # One staged without a flush and committed alone is flushed before it is renamed into place.
    single = blobs.stage(b"gamma", sync=False).commit()
    assert single.created and blobs.read(single.sha256) == b"gamma"
    assert blobs.commit_all([]) == []


def test_shared_locks_are_all_or_none_renewed_and_released(graph_server: EmbeddedServer, settings: Settings,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import threading
    import time

    from graph import live as bus
    from ingest.jobs import LockTimeout
    from workers import ingest_tasks

    tag = uuid.uuid4().hex
    names = [f"huitong:test-lock:{tag}:{i}" for i in range(3)]
    redis = bus.client(settings)
    monkeypatch.setattr(ingest_tasks, "WAIT_SECONDS", 0.3)
    with ingest_tasks.shared_lock(names, 0.3):
        assert redis.exists(*names) == 3
        # A batch sharing one hash waits, and gives up after WAIT_SECONDS without taking any of its other locks.
        with pytest.raises(LockTimeout), ingest_tasks.shared_lock([f"huitong:test-lock:{tag}:other", names[1]], 5):
            pass
        assert not redis.exists(f"huitong:test-lock:{tag}:other")
        time.sleep(0.6)  # twice the lease: the keeper renewed it
        assert redis.exists(*names) == 3
    assert redis.exists(*names) == 0

    monkeypatch.setattr(ingest_tasks, "WAIT_SECONDS", 10.0)
    order: list[str] = []
    with ingest_tasks.shared_lock(names[:2], 5):
        waiter = threading.Thread(target=lambda: _take(ingest_tasks, names[1:], order))
        waiter.start()
        time.sleep(0.2)
        order.append("first released")
    waiter.join(timeout=10)
    assert order == ["first released", "second held"]
    assert redis.exists(*names) == 0


def _take(module: Any, names: list[str], order: list[str]) -> None:
    with module.shared_lock(names, 5):
        order.append("second held")


class _LostOnSecondChunk(_Counting):
    """The graph goes away while the writer thread records the second chunk of extractions."""

    def run(self, statement: Statement, params: Mapping[str, Any] | None = None) -> list[dict]:
        if statement.name == "documents.set_extractions" and self.sent.count(statement.name) == 1:
            self.sent.append("lost")
            raise GraphUnavailable("connection lost")
        return super().run(statement, params)


def test_a_graph_outage_in_the_writer_thread_retries_the_batch_which_then_counts_exactly(
        org: FalkorStore, owner: dict, settings: Settings, tmp_path: Path) -> None:
    count = processing.WRITE_CHUNK * 2 + 3
    _distinct_files(tmp_path, count)
    job_id, queued = _plan(org, settings, tmp_path, owner["id"], batch_files=count)
    flaky = _LostOnSecondChunk(org)
    with pytest.raises(GraphUnavailable):
        jobs.run_batch(flaky, settings, job_id, queued[0])  # type: ignore[arg-type]
    assert "ingest_jobs.set_outcomes" not in flaky.sent  # nothing is marked: the task is retried
    assert jobs.progress(org, job_id).queued == count
    assert jobs.run_batch(org, settings, job_id, queued[0]) == {"ingested": count}
    summary = jobs.summary(org, job_id)
    assert (summary["status"], summary["ingested"], summary["failed"]) == ("done", count, [])
    versions = {f["version_id"] for f in jobs.iter_files(org, job_id)}
    assert len(versions) == count
    assert all(v["version"]["status"] == "ok" for v in document_rows.get_versions(org, sorted(versions)).values())
