"""Bulk ingestion of an archive or folder as one job, spread over Celery workers in batches.

A job goes through three steps, each safe to repeat:

1. ``start_job`` checks the source, the user, the defaults and the mapping rules, then creates the
   ``IngestJob`` node, or resumes the unfinished job of the same user, source name and content
   fingerprint (a rerun after a crash continues the same job).
2. ``plan_job`` walks the source (:mod:`ingest.archive`), stores every readable member in the blob
   store (hashing it; the members of a batch are flushed to disk together, before their records are
   written), records one ``IngestFile`` per member with its placement from the mapping rules
   (refused members are recorded as failed right away), and queues the files in batches as it
   goes, so workers start while the walk goes on.
3. ``run_batch`` (a worker) turns each queued file into a document, a new version, or an alias of
   a document already holding the same bytes, extracts it and indexes the batch, then writes the
   outcomes. Its graph work takes a few statements for the whole batch (a file that a bulk write
   refuses is retried alone and fails alone). The last batch to finish closes the job and writes
   its reports.

Every per-file decision is keyed by (user, source, member path, sha256) and read back from the
graph: a ``DocumentLocation`` per (source, path), new documents get an id derived from that key,
and decisions for one content hash are taken under a lock. A batch that runs twice (redelivery
after a worker was killed, or a rerun) therefore adds nothing and counts the same.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from graph import audit, duplicates
from graph import documents as docs
from graph.errors import GraphUnavailable
from graph.queries import documents as doc_q
from graph.queries import ingest_jobs as q
from graph.store import GraphStore, Row
from ingest import archive, pipeline
from ingest.archive import MIB, ArchiveError, Limits
from ingest.blobstore import BlobStore, BlobTooLarge, StagedBlob
from ingest.cells import safe_cell
from ingest.mapping import MappingError, MappingRules, Placement, rules_from_dict, validate
from settings import Settings

OUTCOMES = ("ingested", "duplicate", "version", "unchanged")
ACTIVE = ("planning", "running")
REPORT_COLUMNS = ("path", "size", "sha256", "status", "outcome", "error", "document_id", "version_id", "extraction",
                  "extraction_reason", "domain", "access", "shares", "rule")
_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-4f0b-9c57-2d1e8b7a9e10")
LOCK_LEASE_SECONDS = 6.0  # a shared lock's lease, renewed while held (see workers.ingest_tasks)
UPLOADS = "uploads"
MISSING_BYTES = "the stored bytes of this file are missing"

BatchEnqueue = Callable[[str, list[str], str | None], object]  # (job id, file ids, queue)
LockFactory = Callable[[list[str], float], AbstractContextManager[object]]  # (names, lease seconds): all held


class JobError(ValueError):
    """A job that cannot start or continue; ``str`` is for the user."""


class LockTimeout(JobError):
    """Another worker held a file's lock too long: the batch is retried later, nothing is marked."""


@dataclass(frozen=True)
class JobOptions:
    domain: str = "general"
    access: str = "internal"
    shares: tuple[str, ...] = ()
    rules: MappingRules | None = None
    index: bool = True  # embed into the search index (False: extraction only; index later)
    batch_files: int = 64  # files per Celery task; a batch costs a few graph round trips, not a few per file
    batch_bytes: int = 16 * MIB
    queue: str | None = None  # Celery queue of the batches (None: the default queue)
    limits: Limits = field(default_factory=Limits)

    @property
    def fallback(self) -> Placement:
        return Placement(self.domain, self.access, tuple(self.shares))

    def to_json(self) -> str:
        data = {k: v for k, v in asdict(self).items() if k not in ("rules", "limits")}
        data["rules"] = self.rules.as_dict() if self.rules else None
        data["limits"] = self.limits.as_dict()
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> JobOptions:
        data = json.loads(text or "{}")
        rules = rules_from_dict(data["rules"]) if data.get("rules") else None
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k not in ("rules", "limits")}
        known["shares"] = tuple(known.get("shares") or ())
        return cls(**known, rules=rules, limits=Limits.from_dict(data.get("limits")))


@dataclass(frozen=True)
class StartedJob:
    job: Row
    resumed: bool

    @property
    def id(self) -> str:
        return str(self.job["id"])


# -- starting ------------------------------------------------------------------------------------------------


def start_job(store: GraphStore, settings: Settings, path: Path, actor_id: str, options: JobOptions, *,
              source: str | None = None, client: str | None = None) -> StartedJob:
    """Create the job (or pick up the unfinished one for the same user, source and content).

    Raises :class:`ArchiveError` (not a readable source), :class:`MappingError` (bad defaults or rules)
    or :class:`JobError`; nothing is written then.
    """
    path = Path(path).resolve()
    kind = archive.source_kind(path)
    if not store.run(doc_q.PERSON_EXISTS, {"id": actor_id}):
        raise JobError("the user is not a known, active person")
    validate(store, options.rules or MappingRules(source="options"), options.fallback)
    name = (source or path.name).strip()[:200]
    if not name:
        raise JobError("the source needs a name")
    fingerprint = source_fingerprint(path, kind)
    found = store.run(q.FIND_RESUMABLE, {"actor_id": actor_id, "source": name, "fingerprint": fingerprint})
    if found:
        job = store.run(q.RESUME_JOB, {"id": found[0]["job"]["id"], "now": docs.now_ms()})[0]["job"]
        audit.record(store, action="ingest.resume", actor_id=actor_id, client=client,
                     detail={"job_id": job["id"], "source": name})
        return StartedJob(dict(job), True)
    job_id = docs.new_id()
    rows = store.run(q.CREATE_JOB, {"id": job_id, "actor_id": actor_id, "source": name, "source_kind": kind,
                                    "fingerprint": fingerprint, "path": str(path), "options": options.to_json(),
                                    "now": docs.now_ms()})
    audit.record(store, action="ingest.start", actor_id=actor_id, client=client,
                 detail={"job_id": job_id, "source": name, "kind": kind, "path": str(path)})
    return StartedJob(dict(rows[0]["job"]), False)


def source_fingerprint(path: Path, kind: str) -> str:
    """What identifies this very content: the archive's SHA-256, or a folder's listing (names, sizes, times)."""
    digest = hashlib.sha256()
    if kind != "dir":
        with path.open("rb") as fh:
            while chunk := fh.read(MIB):
                digest.update(chunk)
        return digest.hexdigest()
    for folder, dirnames, filenames in os.walk(path, followlinks=False):
        dirnames.sort()
        for name in sorted(filenames):
            full = Path(folder) / name
            with suppress(OSError):
                info = full.lstat()
                digest.update(f"{full.relative_to(path).as_posix()}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return "dir:" + digest.hexdigest()


def get_job(store: GraphStore, job_id: str) -> Row | None:
    rows = store.run(q.GET_JOB, {"id": job_id})
    if not rows:
        return None
    return {**rows[0]["job"], "actor_username": rows[0]["actor_username"], "actor_name": rows[0]["actor_name"]}


def _job(store: GraphStore, job_id: str) -> Row:
    job = get_job(store, job_id)
    if job is None:
        raise JobError(f"no ingest job {job_id!r}")
    return job


def list_jobs(store: GraphStore, *, offset: int = 0, limit: int = 20) -> tuple[list[Row], int]:
    rows = store.run(q.LIST_JOBS, {"skip": max(offset, 0), "limit": max(limit, 1)})
    total = store.run(q.COUNT_JOBS)[0]["count"]
    return [{**r["job"], "actor_username": r["actor_username"], "actor_name": r["actor_name"]} for r in rows], total


# -- planning ------------------------------------------------------------------------------------------------


def file_id(job_id: str, seq: int, path: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"file\0{job_id}\0{seq}\0{path}"))


@dataclass
class _Planner:
    store: GraphStore
    job_id: str
    options: JobOptions
    enqueue: BatchEnqueue
    on_progress: Callable[[int, int], None] | None
    blobs: BlobStore
    rows: list[Row] = field(default_factory=list)
    staged: list[tuple[Row, StagedBlob]] = field(default_factory=list)  # stored at the next flush
    batch: list[str] = field(default_factory=list)
    batch_bytes: int = 0
    total: int = 0
    bytes_total: int = 0
    batches: int = 0

    def add(self, row: Row, staged: StagedBlob | None = None) -> None:
        self.rows.append(row)
        if staged is not None:
            self.staged.append((row, staged))
        self.total += 1
        if row["status"] != "queued":
            return
        self.bytes_total += row["size"]
        self.batch.append(row["id"])
        self.batch_bytes += row["size"]
        if len(self.batch) >= self.options.batch_files or self.batch_bytes >= self.options.batch_bytes:
            self.flush()

    def flush(self, planned: bool = False) -> None:
        self._store_blobs()
        if self.rows:
            self.store.run(q.UPSERT_FILES, {"job_id": self.job_id, "rows": self.rows, "now": docs.now_ms()})
            self.rows = []
        # The records exist before their batch is queued: a worker always finds what it is given.
        if self.batch:
            self.enqueue(self.job_id, self.batch, self.options.queue)
            self.batches += 1
            self.batch, self.batch_bytes = [], 0
        self.store.run(q.SET_PLAN_COUNTS, {"id": self.job_id, "total": self.total, "bytes_total": self.bytes_total,
                                           "planned": planned, "now": docs.now_ms()})
        if self.on_progress:
            self.on_progress(self.total, self.bytes_total)


    def _store_blobs(self) -> None:
        """The members' bytes go into the blob store, on disk, before any record names them."""
        staged, self.staged = self.staged, []
        for (row, _), blob in zip(staged, self.blobs.commit_all([s for _, s in staged]), strict=True):
            if isinstance(blob, Exception):
                row.update(status="failed", error=f"cannot store the member: {type(blob).__name__}: {blob}"[:500],
                           sha256=None)
                self.bytes_total -= row["size"]
                with suppress(ValueError):
                    self.batch.remove(row["id"])


def plan_job(store: GraphStore, settings: Settings, job_id: str, enqueue: BatchEnqueue, *,
             on_progress: Callable[[int, int], None] | None = None) -> int:
    """Walk the job's source, store and record every member, queue the batches; returns the batch count.

    A job already planned only has its unfinished files queued again (see :func:`requeue`).
    """
    job = _job(store, job_id)
    if job["planned"]:
        return requeue(store, job_id, enqueue)
    options = JobOptions.from_json(job["options"])
    blobs = BlobStore(settings.data_dir / "blobs", options.limits.max_member_bytes)
    planner = _Planner(store, job_id, options, enqueue, on_progress, blobs)
    seen: set[str] = set()
    workdir = settings.data_dir / "ingest" / "tmp"
    try:
        for seq, entry in enumerate(archive.walk(Path(job["path"]), options.limits, workdir)):
            planner.add(*_plan_entry(job_id, seq, entry, options, blobs, seen))
            if len(planner.rows) >= 500:
                planner.flush()
    except (ArchiveError, OSError) as error:
        for _, staged in planner.staged:
            staged.discard()
        store.run(q.FAIL_JOB, {"id": job_id, "error": str(error)[:1000], "now": docs.now_ms()})
        raise JobError(f"the job failed: {error}") from None
    planner.flush(planned=True)
    maybe_finish(store, settings, job_id)
    return planner.batches


def _plan_entry(job_id: str, seq: int, entry: archive.Entry, options: JobOptions, blobs: BlobStore,
                seen: set[str]) -> tuple[Row, StagedBlob | None]:
    """The member's record, and its bytes hashed into a temporary file that the next flush stores."""
    placement = options.rules.place(entry.path, options.fallback) if options.rules else options.fallback
    row: Row = {"id": file_id(job_id, seq, entry.path), "seq": seq, "path": entry.path, "size": entry.size,
                "sha256": None, "status": "queued", "error": None, "domain": placement.domain,
                "access": placement.access, "shares": list(placement.shares), "rule": placement.rule}
    error = entry.error
    staged = None
    if error is None and entry.path in seen:
        error = "the archive holds this path more than once; only the first copy is ingested"
    if error is None:
        try:
            with entry.open() as stream:
                staged = blobs.stage(stream, sync=False)
            row.update(sha256=staged.sha256, size=staged.size)
        except BlobTooLarge as too_large:
            error = str(too_large)
        except Exception as failure:  # a damaged member (CRC, truncated stream) fails alone
            error = f"cannot read the member: {type(failure).__name__}: {failure}"[:500]
    seen.add(entry.path)
    if error is not None:
        row.update(status="failed", error=error)
    return row, staged


def requeue(store: GraphStore, job_id: str, enqueue: BatchEnqueue) -> int:
    """Queue again every file of the job not done yet (after a crash); returns the batch count."""
    options = JobOptions.from_json(_job(store, job_id)["options"])
    batches = 0
    for ids in _batches(store.run(q.QUEUED_FILES, {"job_id": job_id}), options):
        enqueue(job_id, ids, options.queue)
        batches += 1
    return batches


def _batches(rows: list[Row], options: JobOptions) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for row in rows:
        batch.append(row["id"])
        size += row["size"] or 0
        if len(batch) >= options.batch_files or size >= options.batch_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


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
    error: str | None = None
    document_id: str | None = None
    version_id: str | None = None
    extraction: str | None = None
    extraction_reason: str | None = None
    index: bool = False  # to be put into the search index with this batch

    def row(self) -> Row:
        return {k: v for k, v in asdict(self).items() if k != "index"}


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
    files = [r["file"] for r in store.run(q.FILES_BY_IDS, {"ids": list(file_ids)}) if r["file"]["status"] == "queued"]
    ctx = _Batch(store, settings, job, options, lock, BlobStore.from_settings(settings))
    results: dict[str, FileResult] = {}
    present = []
    for record in files:
        if _blob_present(ctx.blobs, record):
            present.append(record)
        else:
            results[record["id"]] = FileResult(record["id"], "failed", error=MISSING_BYTES)
    stored = _store_files(ctx, present, results)
    _process(ctx, present, stored, results)
    ordered = [results[record["id"]] for record in files]
    if options.index:
        _index(ctx, ordered)
    if ordered:
        store.run(q.SET_OUTCOMES, {"rows": [r.row() for r in ordered], "now": docs.now_ms()})
    maybe_finish(store, settings, job_id)
    return dict(Counter(r.outcome or r.status for r in ordered))


def _blob_present(blobs: BlobStore, record: Row) -> bool:
    try:
        return blobs.path(record["sha256"]).is_file()
    except ValueError:  # no hash recorded
        return False


def _message(error: Exception) -> str:
    text = str(error) if isinstance(error, docs.DocumentError | JobError) else f"{type(error).__name__}: {error}"
    return text[:500]


def _failed(record: Row, error: Exception) -> FileResult:
    if isinstance(error, GraphUnavailable | LockTimeout):
        raise error  # the graph is down or a lock is stuck: the task is retried, nothing is marked
    return FileResult(record["id"], "failed", error=_message(error))


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
        states = {row["key"]: row for row in ctx.store.run(q.FILE_STATES, {"rows": asked, "actor_id": actor})}
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
    items = [pipeline.StoredUpload(r["sha256"], PurePosixPath(r["path"]).name, _own_id(keys[r["id"]], r["sha256"]),
                                   r["domain"], r["access"], tuple(r["shares"] or ()), _note(job, r["path"]))
             for r in records]
    made = pipeline.upload_stored(ctx.store, ctx.settings, job["actor_id"], items, client="ingest")
    located: list[tuple[Row, _Stored]] = []
    for record, item, result in zip(records, items, made, strict=True):
        if isinstance(result, Exception):
            results[record["id"]] = _failed(record, result)
        else:
            located.append((record, _Stored("ingested", item.document_id, result.version_id, fresh=True)))

    def locate(some: list[tuple[Row, _Stored]]) -> None:
        ctx.store.run(q.SET_LOCATIONS, {"source": job["source"], "job_id": job["id"], "now": docs.now_ms(), "rows": [
            {"key": keys[r["id"]], "path": r["path"], "sha256": r["sha256"], "document_id": st.document_id,
             "outcome": st.outcome} for r, st in some]})

    failed = pipeline.in_bulk(located, locate)
    stored = {}
    for position, (record, decision) in enumerate(located):
        if position in failed:
            results[record["id"]] = _failed(record, failed[position])
        else:
            stored[record["id"]] = decision
    return stored


def _process(ctx: _Batch, records: list[Row], stored: dict[str, _Stored], results: dict[str, FileResult]) -> None:
    """Extract the versions still pending (all of them together) and fill in every stored file's result."""
    earlier = docs.get_versions(ctx.store, [s.version_id for s in stored.values() if not s.fresh])
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
    done = pipeline.process_versions_now(ctx.store, ctx.settings, todo, index=False) if todo else {}
    for record in records:
        decision = stored.get(record["id"])
        if decision is None:
            continue  # failed above
        status, reason, indexed = state[decision.version_id]
        processed = done.get(decision.version_id)
        if isinstance(processed, Exception):
            results[record["id"]] = _failed(record, processed)
            continue
        if processed is not None:
            status, reason = processed.status, processed.reason
        needs_index = decision.outcome in ("ingested", "version") and status == "ok" and not indexed
        results[record["id"]] = FileResult(record["id"], "done", decision.outcome, None, decision.document_id,
                                           decision.version_id, status, reason, needs_index)


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
    state = store.run(q.FILE_STATE, {"key": key, "sha256": sha, "actor_id": actor})[0]
    loc = state["location"]
    current = docs.get_document(store, loc["document_id"]) if loc else None
    if loc and current is not None:
        if loc["sha256"] == sha:
            # Written by this job already (it was interrupted before its outcome was recorded) or by an earlier one.
            outcome = loc["outcome"] if loc["job_id"] == job["id"] else "unchanged"
            return _located(store, key, job, record, _Stored(outcome, current["id"], _version_of(store, current, sha)))
        if current["sha256"] == sha:  # added by an interrupted run of this job (or by hand): not again
            return _located(store, key, job, record, _Stored("version", current["id"], current["current_version_id"]))
        made = pipeline.upload(store, ctx.settings, blob, filename, actor, document_id=current["id"], note=note,
                               enqueue=None, client="ingest", stored_sha256=sha)
        return _located(store, key, job, record, _Stored("version", current["id"], made.version_id, fresh=True))
    own_id = _own_id(key, sha)
    same = state["same"]
    if not same:
        made = pipeline.upload(store, ctx.settings, blob, filename, actor, record["domain"], record["access"],
                               tuple(record["shares"] or ()), note, new_document_id=own_id, enqueue=None,
                               client="ingest", stored_sha256=sha)
        return _located(store, key, job, record, _Stored("ingested", own_id, made.version_id, fresh=not made.unchanged))
    # Created by an interrupted earlier run of this very file, or the same bytes found at another path.
    document_id, outcome = (own_id, "ingested") if own_id in same else (sorted(same)[0], "duplicate")
    document = docs.get_document(store, document_id)
    if document is None:
        raise JobError("the document vanished while it was being ingested")
    return _located(store, key, job, record, _Stored(outcome, document_id, document["current_version_id"]))


def _version_of(store: GraphStore, document: Row, sha: str) -> str:
    if document["sha256"] == sha:
        return str(document["current_version_id"])
    for row in store.run(doc_q.LIST_VERSIONS, {"id": document["id"]}):
        if row["version"]["sha256"] == sha:
            return str(row["version"]["id"])
    return str(document["current_version_id"])


def _located(store: GraphStore, key: str, job: Row, record: Row, stored: _Stored) -> _Stored:
    store.run(q.SET_LOCATION, {"key": key, "source": job["source"], "path": record["path"], "sha256": record["sha256"],
                               "document_id": stored.document_id, "job_id": job["id"], "outcome": stored.outcome,
                               "now": docs.now_ms()})
    return stored


def _index(ctx: _Batch, results: list[FileResult]) -> None:
    wanted = [r.document_id for r in results if r.index and r.document_id]
    if wanted:
        try:
            pipeline.index_documents(ctx.store, ctx.settings, wanted)
        except GraphUnavailable:
            raise
        except Exception as error:  # the files are stored and extracted; say why they are not searchable yet
            for r in results:
                if r.index:
                    r.extraction_reason = f"not indexed: {type(error).__name__}: {error}"[:500]


# -- progress, completion, reports -----------------------------------------------------------------------------


@dataclass
class Progress:
    job: Row
    total: int
    done: int
    failed: int
    queued: int
    bytes_total: int
    bytes_done: int
    outcomes: dict[str, int]
    unreadable: int
    elapsed_s: float
    failures: list[Row]

    @property
    def finished(self) -> bool:
        return self.job["status"] not in ACTIVE

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def files_per_s(self) -> float:
        return self.processed / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def bytes_per_s(self) -> float:
        return self.bytes_done / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.finished:
            return 0.0
        if not self.job.get("planned") or self.files_per_s <= 0:
            return None
        return self.queued / self.files_per_s

    @property
    def percent(self) -> float:
        return 100.0 * self.processed / self.total if self.total else (100.0 if self.finished else 0.0)

    def as_dict(self) -> dict[str, Any]:
        return {"job": self.job["id"], "status": self.job["status"], "planned": bool(self.job.get("planned")),
                "total": self.total, "done": self.done, "failed": self.failed, "queued": self.queued,
                "bytes_total": self.bytes_total, "bytes_done": self.bytes_done, "outcomes": self.outcomes,
                "unreadable": self.unreadable, "elapsed_s": round(self.elapsed_s, 2),
                "files_per_s": round(self.files_per_s, 2), "bytes_per_s": round(self.bytes_per_s, 1),
                "eta_s": None if self.eta_s is None else round(self.eta_s, 1), "percent": round(self.percent, 1),
                "failures": self.failures}


def progress(store: GraphStore, job_id: str, *, failures: int = 20) -> Progress:
    job = _job(store, job_id)
    done = failed = queued = bytes_total = bytes_done = unreadable = 0
    outcomes: Counter[str] = Counter()
    for row in store.run(q.PROGRESS, {"job_id": job_id}):
        n, size = int(row["files"]), int(row["bytes"] or 0)
        if row["status"] == "queued":
            queued += n
            bytes_total += size
        elif row["status"] == "failed":
            failed += n
        else:
            done += n
            bytes_total += size
            bytes_done += size
            outcomes[row["outcome"]] += n
            if row["extraction"] not in (None, "ok", "pending"):
                unreadable += n
    end = job.get("finished_at") or docs.now_ms()
    elapsed = max(end - int(job.get("started_at") or end), 0) / 1000
    rows = store.run(q.FAILURES, {"job_id": job_id, "limit": failures}) if failed and failures else []
    return Progress(job, done + failed + queued, done, failed, queued, bytes_total, bytes_done,
                    {o: outcomes.get(o, 0) for o in OUTCOMES}, unreadable, elapsed, rows)


def maybe_finish(store: GraphStore, settings: Settings, job_id: str) -> bool:
    """Close the job when it is planned and no file is left; True when this call closed it."""
    if store.run(q.ANY_QUEUED, {"job_id": job_id}):
        return False  # the usual answer, in one round trip
    job = _job(store, job_id)
    if job["status"] not in ACTIVE or not job["planned"]:
        return False
    closed = store.run(q.FINISH_JOB, {"id": job_id, "now": docs.now_ms(), "summary": "{}"})
    if not closed:
        return False  # another worker closed it first
    report = summary(store, job_id)
    store.run(q.FINISH_JOB_SUMMARY, {"id": job_id, "summary": json.dumps(report, ensure_ascii=False)[:20000]})
    write_reports(store, settings, job_id, figures=report)
    audit.record(store, action="ingest.finish", actor_id=job["actor_id"],
                 detail={k: v for k, v in report.items() if k != "failed"} | {"failed": len(report["failed"])})
    _drop_upload(settings, Path(job["path"]))
    return True


def _drop_upload(settings: Settings, path: Path) -> None:
    """An archive uploaded through the browser is kept until its job ends, then removed."""
    uploads = (settings.data_dir / "ingest" / UPLOADS).resolve()
    with suppress(ValueError, OSError):
        path.resolve().relative_to(uploads)
        path.unlink()
        path.parent.rmdir()


def iter_files(store: GraphStore, job_id: str, page_size: int = 1000) -> Iterator[Row]:
    offset = 0
    while True:
        page = store.run(q.REPORT_PAGE, {"job_id": job_id, "skip": offset, "limit": page_size})
        yield from (r["file"] for r in page)
        if len(page) < page_size:
            return
        offset += page_size


def summary(store: GraphStore, job_id: str) -> dict[str, Any]:
    """The job's figures: ``{"job", "files", "ingested", "duplicates", "versions", "unchanged", "failed": [...]}``."""
    state = progress(store, job_id, failures=0)
    failed, unreadable = [], []
    if state.failed or state.unreadable:
        for f in iter_files(store, job_id):
            if f["status"] == "failed":
                failed.append({"path": f["path"], "error": f.get("error")})
            elif f.get("extraction") not in (None, "ok", "pending"):
                unreadable.append({"path": f["path"], "status": f.get("extraction"),
                                   "reason": f.get("extraction_reason")})
    mb = state.bytes_done / MIB
    return {"job": job_id, "source": state.job["source"], "status": state.job["status"], "files": state.total,
            "ingested": state.outcomes["ingested"], "duplicates": state.outcomes["duplicate"],
            "versions": state.outcomes["version"], "unchanged": state.outcomes["unchanged"], "failed": failed,
            "unreadable": unreadable, "bytes": state.bytes_done, "seconds": round(state.elapsed_s, 2),
            "cross_owner_duplicates": duplicates.job_summary(store, job_id),
            "files_per_s": round(state.files_per_s, 2),
            "mb_per_s": round(mb / state.elapsed_s, 3) if state.elapsed_s > 0 else 0.0}


def report_rows(store: GraphStore, job_id: str) -> Iterator[Row]:
    for f in iter_files(store, job_id):
        row = {column: f.get(column) for column in REPORT_COLUMNS}
        row["shares"] = " ".join(f.get("shares") or [])
        yield row


def report_csv(store: GraphStore, job_id: str) -> str:
    return _csv_text(report_rows(store, job_id))


def report_json(store: GraphStore, job_id: str) -> str:
    return _json_text(_job(store, job_id), summary(store, job_id), list(report_rows(store, job_id)))


def _csv_text(rows: Iterable[Row]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=REPORT_COLUMNS)
    writer.writeheader()
    writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def _json_text(job: Row, figures: dict[str, Any], rows: list[Row]) -> str:
    head = {k: job.get(k) for k in ("id", "source", "source_kind", "status", "actor_username", "created_at",
                                     "finished_at", "error")}
    return json.dumps({"job": head, "summary": figures, "files": rows}, ensure_ascii=False, indent=1)


def report_paths(settings: Settings, job_id: str) -> tuple[Path, Path]:
    folder = settings.data_dir / "ingest" / "reports"
    return folder / f"{job_id}.csv", folder / f"{job_id}.json"


def write_reports(store: GraphStore, settings: Settings, job_id: str, *,
                  figures: dict[str, Any] | None = None) -> tuple[Path, Path]:
    """The report of every file and its outcome, as CSV (UTF-8 with BOM, for Excel) and JSON.

    The files are read once for both (the last batch of a big job writes them; it should not linger)."""
    csv_path, json_path = report_paths(settings, job_id)
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    rows = list(report_rows(store, job_id))
    figures = figures if figures is not None else summary(store, job_id)
    for path, text, encoding in ((csv_path, _csv_text(rows), "utf-8-sig"),
                                 (json_path, _json_text(_job(store, job_id), figures, rows), "utf-8")):
        temp = path.with_suffix(path.suffix + ".tmp")
        temp.write_text(text, encoding=encoding)
        os.replace(temp, path)
    return csv_path, json_path


def wait(store: GraphStore, settings: Settings, job_id: str, *, timeout: float | None = None, interval: float = 0.5,
         on_progress: Callable[[Progress], None] | None = None) -> Progress:
    """Poll until the job is finished (or ``timeout`` seconds passed); returns the last progress."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        state = progress(store, job_id)
        if on_progress:
            on_progress(state)
        if state.finished or (deadline is not None and time.monotonic() > deadline):
            return state
        if state.job.get("planned") and state.queued == 0:
            maybe_finish(store, settings, job_id)  # the worker that finished last may have died before closing
            continue
        time.sleep(interval)


__all__ = ["ArchiveError", "JobError", "JobOptions", "MappingError", "Progress", "StartedJob", "list_jobs",
           "maybe_finish", "plan_job", "progress", "requeue", "run_batch", "start_job", "summary", "wait",
           "write_reports"]
