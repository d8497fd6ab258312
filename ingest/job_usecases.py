"""Ingest-job use cases: start, list, view and report a bulk ingestion job, whatever the door.

The web (``/admin/ingest``), the CLI (``huitong ingest``) and workers call these with the acting
person. A job is visible to whoever started it and to administrators; to anyone else it is
exactly a missing job (:class:`ObjectMissing`), and a malformed id is a missing job too.
Queueing work is the door's business (ingest never imports workers), so ``start`` takes the
function that queues the planning step.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from graph import audit
from graph.actor import Actor
from graph.errors import NotPermitted, ObjectMissing
from graph.store import GraphStore, Row
from ingest import jobs
from settings import Settings

_JOB_ID = re.compile(r"^[0-9a-f-]{36}$")
REPORT_FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def visible_job(store: GraphStore, actor: Actor, job_id: str) -> Row:
    """The job, if the actor may see it (its starter, or an administrator); else the missing-job answer."""

    def load() -> Row | None:
        return jobs.get_job(store, job_id) if _JOB_ID.match(job_id or "") else None

    job = actor.memo(("ingest.job", job_id), load)
    if job is None or not (actor.is_admin or job.get("actor_id") == actor.person_id):
        raise ObjectMissing("ingest.job_missing", job_id=job_id)
    return job


def list_jobs(store: GraphStore, actor: Actor, *, offset: int = 0, limit: int = 20) -> tuple[list[Row], int]:
    """Every job, newest first (administrators: the history of the whole platform)."""
    if not actor.is_admin:
        raise NotPermitted("ingest.list_admin_only")
    return jobs.list_jobs(store, offset=offset, limit=limit)


def start(store: GraphStore, settings: Settings, actor: Actor, path: Path, options: jobs.JobOptions, *,
          source: str | None, enqueue_plan: Callable[[str], object]) -> jobs.StartedJob:
    """Start (or resume) a job and queue its planning. Raises ArchiveError, MappingError or JobError."""
    started = jobs.start_job(store, settings, path, actor.person_id, options, source=source, client=actor.address)
    enqueue_plan(started.id)
    audit.record(store, action="ingest.upload", actor_id=actor.person_id, client=actor.address,
                 detail={"job_id": started.id, "source": started.job["source"], "resumed": started.resumed,
                         "door": actor.door})
    return started


def progress(store: GraphStore, actor: Actor, job_id: str) -> jobs.Progress:
    visible_job(store, actor, job_id)
    return jobs.progress(store, job_id)


def report(store: GraphStore, actor: Actor, job_id: str, fmt: str) -> tuple[str, str]:
    """The job's report as (body, mime type); an unknown format is a missing report."""
    visible_job(store, actor, job_id)
    if fmt not in REPORT_FORMATS:
        raise ObjectMissing("ingest.report_missing", job_id=job_id)
    # With a BOM, so Excel opens the Chinese paths correctly.
    body = "\ufeff" + jobs.report_csv(store, job_id) if fmt == "csv" else jobs.report_json(store, job_id)
    audit.record(store, action="ingest.report", actor_id=actor.person_id, client=actor.address,
                 detail={"job_id": job_id, "format": fmt})
    return body, REPORT_FORMATS[fmt]
