"""A batch with indexing embeds its first files while it stores and extracts the rest (ingest.job_batch): a file
that fails in the middle is reported alone, every other file lands with its own document, version and chunks,
and each chunk's vector is the one the encoder gives that chunk on its own."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import numpy as np
import pytest
from documents_helpers import People
from test_ingest_support import many_files

from embeddings.store import Watermark
from graph import document_rows
from graph import documents as docs
from graph.falkordb_backend import FalkorStore
from ingest import index_registry, job_batch, jobs
from settings import Settings


def _plan(store: FalkorStore, settings: Settings, folder: Path, actor_id: str) -> tuple[jobs.StartedJob, list[str]]:
    started = jobs.start_job(store, settings, folder, actor_id, jobs.JobOptions(index=True, batch_files=50))
    queued: list[list[str]] = []
    jobs.plan_job(store, settings, started.id, lambda job_id, ids, queue: queued.append(ids))
    assert len(queued) == 1
    return started, queued[0]


def _squat(store: FalkorStore, owner_id: str, source: str, victim: dict) -> str:
    """Another person's document takes the id the victim's document would get: the engine's unique key then
    refuses the victim's creation in the bulk write, in the middle of the batch."""
    taken = jobs._own_id(jobs.location_key(owner_id, source, victim["path"]), victim["sha256"])
    docs.create_document(store, docs.NewDocument(
        document_id=taken, version_id=docs.new_id(), owner_id=People(store).one("FIN", 1)["id"], title="squatter",
        title_source="user", kind="txt", mime="text/plain", domain="general", data_type="unstructured",
        access="internal", size=1, sha256="0" * 64, filename="squatter.txt"))
    return taken


def test_a_file_failing_mid_batch_fails_alone_and_every_other_file_is_indexed_right(
        org: FalkorStore, owner: dict, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_batch, "INDEX_LEAD_FILES", 4)  # two windows in a batch of 12: lead and rest
    folder = tmp_path / "src"
    folder.mkdir()
    distinct, copies = many_files(folder, 12, uuid.uuid4().hex[:8])
    started, batch = _plan(org, settings, folder, owner["id"])
    files = sorted(jobs.iter_files(org, started.id), key=lambda f: f["seq"])
    assert [f["id"] for f in files] == batch
    victim = next(f for f in files[6:] if "copy-" not in f["path"])  # in the second window
    _squat(org, owner["id"], started.job["source"], victim)
    passes: list[tuple[str, list[str]]] = []
    real = index_registry.index_prepared

    def recording(store: FalkorStore, settings: Settings, documents: list) -> int:
        passes.append((threading.current_thread().name, [d.document_id for d in documents]))
        return real(store, settings, documents)

    monkeypatch.setattr(index_registry, "index_prepared", recording)

    outcome = jobs.run_batch(org, settings, started.id, batch)

    assert outcome == {"ingested": distinct - 1, "duplicate": copies, "failed": 1}
    recorded = {f["path"]: f for f in jobs.iter_files(org, started.id)}
    assert recorded[victim["path"]]["status"] == "failed" and recorded[victim["path"]]["error"]
    index = index_registry.search_index(settings)
    landed = {f["document_id"]: f for f in recorded.values() if f.get("outcome") == "ingested"}
    assert len(landed) == distinct - 1
    for document_id, row in landed.items():
        document = document_rows.get_document(org, document_id)
        assert document is not None and document["filename"] == Path(row["path"]).name  # each file its own document
        version = document_rows.get_version(org, document["current_version_id"])
        assert version is not None and version["version"]["indexed_at"]
        stored = index.store.document(document_id)
        assert stored is not None and stored[0] == document["current_version_id"]
        assert index.store.chunk_count(document_id) > 0
        assert not row.get("extraction_reason")
    # two embedding passes, off the batch's thread: the lead's files, then the rest's, each file once
    lead_ids = {recorded[f["path"]].get("document_id") for f in files[:4]}
    assert [name.startswith("ingest-index") for name, _ in passes] == [True, True]
    assert set(passes[0][1]) == lead_ids & set(landed) and set(passes[0][1] + passes[1][1]) == set(landed)
    assert len(passes[0][1]) + len(passes[1][1]) == len(landed)
    # The vectors stored for the batch are those of each chunk embedded alone (batching changes padding only).
    _, rows, _ = index.store.changes_since(Watermark(), index.model_name)
    mine = [r for r in rows if r.document_id in landed]
    assert {r.document_id for r in mine} == set(landed)
    alone = np.stack([index.embedder.embed([r.text])[0] for r in mine])
    stored_vectors = np.stack([np.frombuffer(r.vector, np.float32) for r in mine])
    assert np.min(np.sum(alone * stored_vectors, axis=1)) > 0.9999


def test_a_batch_smaller_than_the_lead_is_indexed_in_one_pass(org: FalkorStore, owner: dict, settings: Settings,
                                                              tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    distinct, copies = many_files(folder, 5, uuid.uuid4().hex[:8])
    assert copies == 0 and distinct < job_batch.INDEX_LEAD_FILES
    started, batch = _plan(org, settings, folder, owner["id"])
    assert jobs.run_batch(org, settings, started.id, batch) == {"ingested": distinct}
    index = index_registry.search_index(settings)
    for row in jobs.iter_files(org, started.id):
        assert row["status"] == "done" and index.store.chunk_count(row["document_id"]) > 0
