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

import hashlib
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, cast

from graph import audit
from graph import documents as docs
from graph import ingest_records as ingest_db
from graph.store import GraphStore, Row
from ingest import archive
from ingest.archive import MIB, ArchiveError
from ingest.blobstore import BlobStore, BlobTooLarge, StagedBlob
from ingest.job_batch import (  # noqa: F401 - the public surface of ingest.jobs
    FileResult,
    _own_id,
    local_lock,
    location_key,
    run_batch,
)
from ingest.job_model import (  # noqa: F401 - the public surface of ingest.jobs
    _NAMESPACE,
    ACTIVE,
    LOCK_LEASE_SECONDS,
    MISSING_BYTES,
    OUTCOMES,
    REPORT_COLUMNS,
    UPLOADS,
    BatchEnqueue,
    JobError,
    JobOptions,
    LockFactory,
    LockTimeout,
    StartedJob,
    _job,
    get_job,
    list_jobs,
)
from ingest.job_report import (  # noqa: F401 - the public surface of ingest.jobs
    Progress,
    iter_files,
    maybe_finish,
    progress,
    report_csv,
    report_json,
    report_paths,
    report_rows,
    summary,
    wait,
    write_reports,
)
from ingest.mapping import MappingError, MappingRules, validate
from ingest.reasons import NO_REASON, Reason, reason_of
from settings import Settings

# -- starting ------------------------------------------------------------------------------------------------


def start_job(store: GraphStore, settings: Settings, path: Path, actor_id: str, options: JobOptions, *,
              source: str | None = None, client: str | None = None) -> StartedJob:
    """Create the job (or pick up the unfinished one for the same user, source and content).

    Raises :class:`ArchiveError` (not a readable source), :class:`MappingError` (bad defaults or rules)
    or :class:`JobError`; nothing is written then.
    """
    path = Path(path).resolve()
    kind = archive.source_kind(path, source)
    if not ingest_db.person_exists(store, actor_id):
        raise JobError(Reason.of("ingest.unknown_person"))
    validate(store, options.rules or MappingRules(source="options"), options.fallback)
    name = (source or path.name).strip()[:200]
    if not name:
        raise JobError(Reason.of("ingest.source_name"))
    fingerprint = source_fingerprint(path, kind)
    found = ingest_db.find_resumable(store, actor_id, name, fingerprint)
    if found:
        job = ingest_db.resume_job(store, found["id"], docs.now_ms())
        audit.record(store, action="ingest.resume", actor_id=actor_id, client=client,
                     detail={"job_id": job["id"], "source": name})
        return StartedJob(dict(job), True)
    job_id = docs.new_id()
    created = ingest_db.create_job(store, id=job_id, actor_id=actor_id, source=name, source_kind=kind,
                                 fingerprint=fingerprint, path=str(path), options=options.to_json(), now=docs.now_ms())
    audit.record(store, action="ingest.start", actor_id=actor_id, client=client,
                 detail={"job_id": job_id, "source": name, "kind": kind, "path": str(path)})
    return StartedJob(created, False)


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
        if len(self.batch) >= self.options.files_per_batch or self.batch_bytes >= self.options.batch_bytes:
            self.flush()

    def flush(self, planned: bool = False) -> None:
        self._store_blobs()
        if self.rows:
            ingest_db.upsert_files(self.store, self.job_id, self.rows, docs.now_ms())
            self.rows = []
        # The records exist before their batch is queued: a worker always finds what it is given.
        if self.batch:
            self.enqueue(self.job_id, self.batch, self.options.queue)
            self.batches += 1
            self.batch, self.batch_bytes = [], 0
        ingest_db.set_plan_counts(self.store, self.job_id, total=self.total, bytes_total=self.bytes_total,
                                planned=planned, now=docs.now_ms())
        if self.on_progress:
            self.on_progress(self.total, self.bytes_total)


    def _store_blobs(self) -> None:
        """The members' bytes go into the blob store, on disk, before any record names them."""
        staged, self.staged = self.staged, []
        for (row, _), blob in zip(staged, self.blobs.commit_all([s for _, s in staged]), strict=True):
            if isinstance(blob, Exception):
                row.update(status="failed", sha256=None, **Reason.failure("ingest.store_failed", blob).record())
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
        for seq, entry in enumerate(archive.walk(Path(job["path"]), options.limits, workdir, name=job["source"])):
            planner.add(*_plan_entry(job_id, seq, entry, options, blobs, seen))
            if len(planner.rows) >= 500:
                planner.flush()
    except (ArchiveError, OSError) as error:
        for _, staged in planner.staged:
            staged.discard()
        ingest_db.fail_job(store, job_id, reason_of(error, "ingest.unreadable").record(), docs.now_ms())
        raise JobError(f"the job failed: {error}") from None
    planner.flush(planned=True)
    maybe_finish(store, settings, job_id)
    return planner.batches


def _plan_entry(job_id: str, seq: int, entry: archive.Entry, options: JobOptions, blobs: BlobStore,
                seen: set[str]) -> tuple[Row, StagedBlob | None]:
    """The member's record, and its bytes hashed into a temporary file that the next flush stores."""
    placement = options.rules.place(entry.path, options.fallback) if options.rules else options.fallback
    row: Row = {"id": file_id(job_id, seq, entry.path), "seq": seq, "path": entry.path, "size": entry.size,
                "sha256": None, "status": "queued", **NO_REASON, "domain": placement.domain,
                "access": placement.access, "shares": list(placement.shares), "rule": placement.rule}
    reason = entry.reason
    staged = None
    if reason is None and entry.path in seen:
        reason = Reason.of("ingest.duplicate_path")
    if reason is None:
        try:
            with entry.open() as stream:
                staged = blobs.stage(cast(BinaryIO, stream), sync=False)
            row.update(sha256=staged.sha256, size=staged.size)
        except BlobTooLarge as too_large:
            reason = Reason.of("ingest.over_size_limit", limit=f"{too_large.limit_bytes // MIB} MiB")
        except Exception as failure:  # a damaged member (CRC, truncated stream) fails alone
            reason = Reason.failure("ingest.unreadable", failure)
    seen.add(entry.path)
    if reason is not None:
        row.update(status="failed", **reason.record())
    return row, staged


def requeue(store: GraphStore, job_id: str, enqueue: BatchEnqueue) -> int:
    """Queue again every file of the job not done yet (after a crash); returns the batch count."""
    options = JobOptions.from_json(_job(store, job_id)["options"])
    batches = 0
    for ids in _batches(ingest_db.queued_files(store, job_id), options):
        enqueue(job_id, ids, options.queue)
        batches += 1
    return batches


def _batches(rows: list[Row], options: JobOptions) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for row in rows:
        batch.append(row["id"])
        size += row["size"] or 0
        if len(batch) >= options.files_per_batch or size >= options.batch_bytes:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


__all__ = ["ArchiveError", "JobError", "JobOptions", "MappingError", "Progress", "StartedJob", "list_jobs",
           "maybe_finish", "plan_job", "progress", "requeue", "run_batch", "start_job", "summary", "wait",
           "write_reports"]
