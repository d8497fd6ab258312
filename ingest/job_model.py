"""Shared parts of a bulk ingestion job (see :mod:`ingest.jobs`): options, errors, the job record."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field

from graph import ingest_records as ingest_db
from graph.store import GraphStore, Row
from ingest.archive import MIB, Limits
from ingest.mapping import MappingRules, Placement, rules_from_dict
from ingest.reasons import Reason, Refusal

OUTCOMES = ("ingested", "duplicate", "version", "unchanged")
ACTIVE = ("planning", "running")
REPORT_COLUMNS = ("path", "size", "sha256", "status", "outcome", "error", "document_id", "version_id", "extraction",
                  "extraction_reason", "domain", "access", "shares", "rule", "error_code", "error_params")
_NAMESPACE = uuid.UUID("6f1d3c52-8a4e-4f0b-9c57-2d1e8b7a9e10")
LOCK_LEASE_SECONDS = 6.0  # a shared lock's lease, renewed while held (see workers.ingest_tasks)
UPLOADS = "uploads"
MISSING_BYTES = Reason.of("ingest.missing_bytes")
EXTRACTION_BATCH_FILES, EMBEDDING_BATCH_FILES = 64, 16  # files per Celery task (see JobOptions.files_per_batch)

BatchEnqueue = Callable[[str, list[str], str | None], object]  # (job id, file ids, queue)
LockFactory = Callable[[list[str], float], AbstractContextManager[object]]  # (names, lease seconds): all held


class JobError(Refusal):
    """A job that cannot start or continue; ``str`` is for the user (``reason`` when it has a code)."""


class LockTimeout(JobError):
    """Another worker held a file's lock too long: the batch is retried later, nothing is marked."""


@dataclass(frozen=True)
class JobOptions:
    domain: str = "general"
    access: str = "internal"
    shares: tuple[str, ...] = ()
    rules: MappingRules | None = None
    index: bool = True  # embed into the search index (False: extraction only; index later)
    batch_files: int | None = None  # files per Celery task (None: ``files_per_batch`` chooses)
    batch_bytes: int = 16 * MIB
    queue: str | None = None  # Celery queue of the batches (None: the default queue)
    limits: Limits = field(default_factory=Limits)

    @property
    def files_per_batch(self) -> int:
        """A batch costs a few graph round trips, not a few per file, so extraction-only jobs take big ones. When
        the job embeds, the encoder is the bound and both pool processes must keep it busy to the end: small
        batches balance them (150 files on this 2-core machine: 0.74-0.82 of the raw encoder with 64-file
        batches, 0.88-1.0 with 16; extraction only: 16-file batches ran 0.97 of raw extraction, 64-file 1.02-1.10)."""
        if self.batch_files is not None:
            return self.batch_files
        return EMBEDDING_BATCH_FILES if self.index else EXTRACTION_BATCH_FILES

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



def get_job(store: GraphStore, job_id: str) -> Row | None:
    return ingest_db.get_job(store, job_id)


def _job(store: GraphStore, job_id: str) -> Row:
    job = get_job(store, job_id)
    if job is None:
        raise JobError(f"no ingest job {job_id!r}")
    return job


def list_jobs(store: GraphStore, *, offset: int = 0, limit: int = 20) -> tuple[list[Row], int]:
    return ingest_db.list_jobs(store, offset=offset, limit=limit)
