"""Running one batch of a bulk ingestion job (a worker's share; see :mod:`ingest.jobs` for the whole story)."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from graph import document_rows
from graph import documents as docs
from graph import ingest_records as ingest_db
from graph.errors import GraphUnavailable
from graph.store import GraphStore, Row
from ingest import bulk, index_registry, processing, uploads
from ingest.blobstore import BlobStore
from ingest.job_model import (
    _NAMESPACE,
    LOCK_LEASE_SECONDS,
    MISSING_BYTES,
    JobError,
    JobOptions,
    LockFactory,
    LockTimeout,
    _job,
)
from ingest.job_report import maybe_finish
from ingest.reasons import DETAIL, Reason
from settings import Settings

# -- running a batch -----------------------------------------------------------------------------------------

_LOCAL_LOCKS: dict[str, threading.Lock] = {}
_LOCAL_GUARD = threading.Lock()


@contextmanager
def local_lock(names: list[str], lease: float) -> Iterator[None]:
    """In-process locks (a single process ingesting inline); workers pass locks shared between machines.
    Taken in one order, so two callers never wait on each other in a circle."""
    with ExitStack() as held:
        for name in sorted(set(names)):
            with _LOCAL_GUARD:
                lock = _LOCAL_LOCKS.setdefault(name, threading.Lock())
            if not lock.acquire(timeout=max(lease, 60.0)):
                raise LockTimeout(f"timed out waiting for {name}")
            held.callback(lock.release)
        yield


@dataclass
class FileResult:
    id: str
    status: str  # done | failed
    outcome: str | None = None
    error: str | None = None  # the reason as an English sentence; the code and parameters beside it
    error_code: str | None = None
    error_params: str | None = None
    document_id: str | None = None
    version_id: str | None = None
    extraction: str | None = None
    extraction_reason: str | None = None
    index: bool = False  # to be put into the search index with this batch

    def row(self) -> Row:
        return {k: v for k, v in asdict(self).items() if k != "index"}

    @classmethod
    def refused(cls, file_id: str, reason: Reason) -> FileResult:
        record = reason.record()
        return cls(file_id, "failed", error=record["error"], error_code=record["error_code"],
                   error_params=record["error_params"])


@dataclass
class _Batch:
    store: GraphStore
    settings: Settings
    job: Row
    options: JobOptions
    lock: LockFactory
    blobs: BlobStore


def run_batch(store: GraphStore, settings: Settings, job_id: str, file_ids: list[str], *,
              lock: LockFactory = local_lock) -> dict[str, int]:
    """Ingest the queued files among ``file_ids``; files already done are skipped. Returns outcome counts.

    The graph work of the whole batch takes a few statements, not a few per file: one read decides every
    file, the new documents and their locations are written together, extraction results, audit events and
    mentions likewise. A file that fails (or that a bulk write refuses) is reported alone; the others land.
    """
    job = _job(store, job_id)
    options = JobOptions.from_json(job["options"])
    files = [f for f in ingest_db.files_by_ids(store, file_ids) if f["status"] == "queued"]
    ctx = _Batch(store, settings, job, options, lock, BlobStore.from_settings(settings))
    results: dict[str, FileResult] = {}
    present = []
    for record in files:
        if _blob_present(ctx.blobs, record):
            present.append(record)
        else:
            results[record["id"]] = FileResult.refused(record["id"], MISSING_BYTES)
    if options.index:
        _store_and_index(ctx, present, results)
    else:
        _process(ctx, present, _store_files(ctx, present, results), results)
    ordered = [results[record["id"]] for record in files]
    if ordered:
        ingest_db.set_outcomes(store, [r.row() for r in ordered], docs.now_ms())
    maybe_finish(store, settings, job_id)
    return dict(Counter(r.outcome or r.status for r in ordered))


def _blob_present(blobs: BlobStore, record: Row) -> bool:
    try:
        return blobs.path(record["sha256"]).is_file()
    except ValueError:  # no hash recorded
        return False


def _reason(error: Exception, path: str) -> Reason:
    """Why one file failed: an upload refusal keeps the upload's own code (its words as the detail)."""
    if isinstance(error, JobError) and error.reason.code:
        return error.reason
    if isinstance(error, docs.DocumentError):
        from ingest.usecases import upload_refusal  # here: the use cases import more than a batch needs

        refusal = upload_refusal(error, PurePosixPath(path).name)
        params = {k: v for k, v in refusal.params.items() if k not in ("reason", "field")}
        return Reason(refusal.code, params | {DETAIL: str(error)[:500]})
    return Reason.failure("ingest.failed", error)


def _failed(record: Row, error: Exception) -> FileResult:
    if isinstance(error, GraphUnavailable | LockTimeout):
        raise error  # the graph is down or a lock is stuck: the task is retried, nothing is marked
    return FileResult.refused(record["id"], _reason(error, record["path"]))


def location_key(actor_id: str, source: str, path: str) -> str:
    return hashlib.sha256(f"{actor_id}\0{source}\0{path}".encode()).hexdigest()


def _locked(ctx: _Batch, hashes: set[str]) -> AbstractContextManager[object]:
    """The locks of every content hash of the batch: decisions about one hash are taken by one worker at a time."""
    return ctx.lock([f"huitong:ingest:{ctx.job['actor_id']}:{sha}" for sha in sorted(hashes)], LOCK_LEASE_SECONDS)


def _store_files(ctx: _Batch, records: list[Row], results: dict[str, FileResult]) -> dict[str, _Stored]:
    """Decide what each file becomes and record it (documents, versions, locations); file id -> decision."""
    if not records:
        return {}
    actor, source = ctx.job["actor_id"], ctx.job["source"]
    keys = {r["id"]: location_key(actor, source, r["path"]) for r in records}
    stored: dict[str, _Stored] = {}
    with _locked(ctx, {r["sha256"] for r in records}):
        asked = [{"key": keys[r["id"]], "sha256": r["sha256"]} for r in records]
        states = {row["key"]: row for row in ingest_db.file_states(ctx.store, asked, actor)}
        new, rest, claimed = [], [], set()
        for record in records:
            state = states.get(keys[record["id"]])
            # Never seen at this path and no document of the user holds these bytes: a new document, unless an
            # earlier file of this batch claimed the same bytes (that one is decided below, as a duplicate).
            if state and not state["located"] and not state["same"] and record["sha256"] not in claimed:
                claimed.add(record["sha256"])
                new.append(record)
            else:
                rest.append(record)
        stored.update(_create_new(ctx, new, keys, results))
        for record in rest:  # the rarer cases (reruns, duplicates, new versions), one by one
            try:
                stored[record["id"]] = _store_file(ctx, record, ctx.blobs.path(record["sha256"]))
            except Exception as error:  # one bad file never stops the batch
                results[record["id"]] = _failed(record, error)
    return stored


def _own_id(key: str, sha: str) -> str:
    """The id of the document a (location, content) pair creates: a rerun finds the one it made before."""
    return str(uuid.uuid5(_NAMESPACE, f"doc\0{key}\0{sha}"))


def _note(job: Row, path: str) -> str:
    return f"{job['source']}: {path} (ingest {job['id']})"


def _create_new(ctx: _Batch, records: list[Row], keys: dict[str, str],
                results: dict[str, FileResult]) -> dict[str, _Stored]:
    """New documents for these files, and their locations, written in bulk."""
    if not records:
        return {}
    job = ctx.job
    items = [uploads.StoredUpload(r["sha256"], PurePosixPath(r["path"]).name, _own_id(keys[r["id"]], r["sha256"]),
                                   r["domain"], r["access"], tuple(r["shares"] or ()), _note(job, r["path"]))
             for r in records]
    made = uploads.upload_stored(ctx.store, ctx.settings, job["actor_id"], items, client="ingest")
    located: list[tuple[Row, _Stored]] = []
    for record, item, result in zip(records, items, made, strict=True):
        if isinstance(result, Exception):
            results[record["id"]] = _failed(record, result)
        else:
            located.append((record, _Stored("ingested", item.document_id, result.version_id, fresh=True)))

    def locate(some: list[tuple[Row, _Stored]]) -> None:
        ingest_db.set_locations(ctx.store, source=job["source"], job_id=job["id"], now=docs.now_ms(), rows=[
            {"key": keys[r["id"]], "path": r["path"], "sha256": r["sha256"], "document_id": st.document_id,
             "outcome": st.outcome} for r, st in some])

    failed = bulk.in_bulk(located, locate)
    stored = {}
    for position, (record, decision) in enumerate(located):
        if position in failed:
            results[record["id"]] = _failed(record, failed[position])
        else:
            stored[record["id"]] = decision
    return stored


def _process(ctx: _Batch, records: list[Row], stored: dict[str, _Stored], results: dict[str, FileResult]) -> None:
    """Extract the versions still pending (all of them together) and fill in every stored file's result."""
    earlier = document_rows.get_versions(ctx.store, [s.version_id for s in stored.values() if not s.fresh])
    state: dict[str, tuple[str | None, str | None, bool]] = {}
    for decision in stored.values():
        if decision.fresh:
            state[decision.version_id] = ("pending", None, False)
        else:
            version = earlier.get(decision.version_id, {}).get("version") or {}
            state[decision.version_id] = (version.get("status"), version.get("status_reason"),
                                          bool(version.get("indexed_at")))
    todo = [d.version_id for d in stored.values()
            if d.outcome in ("ingested", "version") and state[d.version_id][0] == "pending"]
    done = processing.process_versions_now(ctx.store, ctx.settings, todo, index=False) if todo else {}
    for record in records:
        found = stored.get(record["id"])
        if found is None:
            continue  # failed above
        status, reason, indexed = state[found.version_id]
        processed = done.get(found.version_id)
        if isinstance(processed, Exception):
            results[record["id"]] = _failed(record, processed)
            continue
        if processed is not None:
            status, reason = processed.status, processed.reason
        needs_index = found.outcome in ("ingested", "version") and status == "ok" and not indexed
        results[record["id"]] = FileResult(record["id"], "done", found.outcome, document_id=found.document_id,
                                           version_id=found.version_id, extraction=status, extraction_reason=reason,
                                           index=needs_index)


@dataclass(frozen=True)
class _Stored:
    outcome: str
    document_id: str
    version_id: str
    fresh: bool = False  # this call created the version (so it is certainly still pending)


def _store_file(ctx: _Batch, record: Row, blob: Path) -> _Stored:
    """The outcome of one file, decided from the graph, so a repeat decides the same."""
    store, job, sha = ctx.store, ctx.job, record["sha256"]
    actor, source, path = job["actor_id"], job["source"], record["path"]
    key = location_key(actor, source, path)
    filename = PurePosixPath(path).name
    note = _note(job, path)
    state = ingest_db.file_state(store, key, sha, actor)
    loc = state["location"]
    current = document_rows.get_document(store, loc["document_id"]) if loc else None
    if loc and current is not None:
        if loc["sha256"] == sha:
            # Written by this job already (it was interrupted before its outcome was recorded) or by an earlier one.
            outcome = loc["outcome"] if loc["job_id"] == job["id"] else "unchanged"
            return _located(store, key, job, record, _Stored(outcome, current["id"], _version_of(store, current, sha)))
        if current["sha256"] == sha:  # added by an interrupted run of this job (or by hand): not again
            return _located(store, key, job, record, _Stored("version", current["id"], current["current_version_id"]))
        made = uploads.upload(store, ctx.settings, blob, filename, actor, document_id=current["id"], note=note,
                               enqueue=None, client="ingest", stored_sha256=sha)
        return _located(store, key, job, record, _Stored("version", current["id"], made.version_id, fresh=True))
    own_id = _own_id(key, sha)
    same = state["same"]
    if not same:
        made = uploads.upload(store, ctx.settings, blob, filename, actor, record["domain"], record["access"],
                               tuple(record["shares"] or ()), note, new_document_id=own_id, enqueue=None,
                               client="ingest", stored_sha256=sha)
        return _located(store, key, job, record, _Stored("ingested", own_id, made.version_id, fresh=not made.unchanged))
    # Created by an interrupted earlier run of this very file, or the same bytes found at another path.
    document_id, outcome = (own_id, "ingested") if own_id in same else (sorted(same)[0], "duplicate")
    document = document_rows.get_document(store, document_id)
    if document is None:
        raise JobError(Reason.of("ingest.document_vanished"))
    return _located(store, key, job, record, _Stored(outcome, document_id, document["current_version_id"]))


def _version_of(store: GraphStore, document: Row, sha: str) -> str:
    if document["sha256"] == sha:
        return str(document["current_version_id"])
    for row in ingest_db.document_versions(store, document["id"]):
        if row["version"]["sha256"] == sha:
            return str(row["version"]["id"])
    return str(document["current_version_id"])


def _located(store: GraphStore, key: str, job: Row, record: Row, stored: _Stored) -> _Stored:
    ingest_db.set_location(store, key=key, source=job["source"], path=record["path"], sha256=record["sha256"],
                         document_id=stored.document_id, job_id=job["id"], outcome=stored.outcome, now=docs.now_ms())
    return stored


INDEX_LEAD_FILES = 8  # files of a batch stored and extracted before its first embedding starts


def _store_and_index(ctx: _Batch, records: list[Row], results: dict[str, FileResult]) -> None:
    """Store, extract and index the batch with the encoder busy as early as possible: the first
    ``INDEX_LEAD_FILES`` files are stored and extracted, their chunks are embedded in a second thread while this
    one stores and extracts the rest (torch leaves the GIL during a forward pass; extraction and the graph wait
    on other processes), then the rest is embedded in one pass (the encoder groups its chunks by length). The
    encoder, the bound of ingestion with embedding, otherwise waits for the whole batch's extraction and graph
    writes. What indexing reads (stored texts, facets from the graph) is read here too, not on the encoder's
    thread, whose every other moment is an idle encoder."""
    lead, rest = records[:INDEX_LEAD_FILES], records[INDEX_LEAD_FILES:]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-index") as indexer:
        pending = []
        for window in (lead, rest) if rest else (lead,):
            _process(ctx, window, _store_files(ctx, window, results), results)
            mine = [results[record["id"]] for record in window]
            pending.append(indexer.submit(_index, ctx, mine, _prepare(ctx, mine)))
    for future in pending:
        future.result()  # a graph outage met while indexing is raised here: the task is retried


def _prepare(ctx: _Batch, results: list[FileResult]) -> list[Any] | Exception:
    """The search-index inputs of the files to index (or why they cannot be read)."""
    wanted = [r.document_id for r in results if r.index and r.document_id]
    try:
        return list(index_registry.prepared_documents(ctx.store, ctx.settings, wanted)) if wanted else []
    except GraphUnavailable:
        raise
    except Exception as error:  # said per file by _index
        return error


def _index(ctx: _Batch, results: list[FileResult], prepared: list[Any] | Exception) -> None:
    try:
        if isinstance(prepared, Exception):
            raise prepared
        if prepared:
            index_registry.index_prepared(ctx.store, ctx.settings, prepared)
    except GraphUnavailable:
        raise
    except Exception as error:  # the files are stored and extracted; say why they are not searchable yet
        for r in results:
            if r.index:
                r.extraction_reason = f"not indexed: {type(error).__name__}: {error}"[:500]
