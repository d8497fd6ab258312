"""Celery tasks of bulk ingestion: plan a job (walk and store an uploaded archive) and run a batch.

Both are thin shells around :mod:`ingest.jobs`, idempotent by design: with ``acks_late`` a task
whose worker died is delivered again, and running it twice changes nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from redis.exceptions import LockError

# Imported with the task module, so the worker loads the extractors once, before it forks its pool.
from graph.errors import GraphUnavailable
from ingest.jobs import JobError, LockTimeout, plan_job, run_batch
from settings import get_settings
from workers import bus
from workers.celery_app import app
from workers.tasks import _store

WAIT_SECONDS = 120.0  # waiting longer than this for one file's lock: retry the batch later


@contextmanager
def shared_lock(name: str, lease: float) -> Iterator[None]:
    """A lock every worker on every machine sees (on the broker's Redis). The holder renews its short
    lease while it works, so a worker killed while holding it blocks the others for one lease at most."""
    lock = bus.client(get_settings()).lock(name, timeout=lease, blocking_timeout=WAIT_SECONDS)
    if not lock.acquire():
        raise LockTimeout(f"timed out waiting for {name}")
    done = threading.Event()

    def renew() -> None:
        while not done.wait(lease / 3):
            with suppress(LockError):
                lock.reacquire()

    keeper = threading.Thread(target=renew, name="ingest-lock-lease", daemon=True)
    keeper.start()
    try:
        yield
    finally:
        done.set()
        keeper.join()
        # Lost only if this process stalled for a whole lease: the next holder already has it, and that is fine.
        with suppress(LockError):
            lock.release()


def enqueue_batch(job_id: str, file_ids: list[str], queue: str | None = None) -> str:
    """Queue one batch of a job's files; returns the task id."""
    options = {"queue": queue} if queue else {}
    return str(ingest_batch.apply_async(args=[job_id, list(file_ids)], **options).id)


def enqueue_plan(job_id: str, queue: str | None = None) -> str:
    options = {"queue": queue} if queue else {}
    return str(ingest_plan.apply_async(args=[job_id], **options).id)


@app.task(name="huitong.ingest_batch", bind=True, max_retries=5, default_retry_delay=5)
def ingest_batch(self, job_id: str, file_ids: list[str]) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Ingest one batch of an ingest job's files (already-done files are skipped)."""
    try:
        return run_batch(_store(), get_settings(), job_id, file_ids, lock=shared_lock)
    except (GraphUnavailable, JobError) as error:
        raise self.retry(exc=error) from error


@app.task(name="huitong.ingest_plan", bind=True, max_retries=3, default_retry_delay=10)
def ingest_plan(self, job_id: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Walk the job's archive (uploaded through the browser), store its members and queue the batches."""
    try:
        batches = plan_job(_store(), get_settings(), job_id, enqueue_batch)
    except GraphUnavailable as error:
        raise self.retry(exc=error) from error
    except JobError as error:
        return {"job": job_id, "error": str(error)}
    return {"job": job_id, "batches": batches}
