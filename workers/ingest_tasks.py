"""Celery tasks of bulk ingestion: plan a job (walk and store an uploaded archive) and run a batch.

Both are thin shells around :mod:`ingest.jobs`, idempotent by design: with ``acks_late`` a task
whose worker died is delivered again, and running it twice changes nothing.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from redis.exceptions import LockError, RedisError
from redis.lock import Lock

# Imported with the task module, so the worker loads the extractors once, before it forks its pool.
from graph.errors import GraphUnavailable
from ingest.jobs import JobError, LockTimeout, plan_job, run_batch
from settings import get_settings
from workers import bus
from workers.celery_app import app
from workers.tasks import _store

WAIT_SECONDS = 120.0  # waiting longer than this for one file's lock: retry the batch later


class _LeaseKeeper:
    """One thread per worker process renews the leases of the locks this process holds (starting a
    thread per lock would cost more than the work a lock guards)."""

    def __init__(self) -> None:
        self._held: dict[int, tuple[Lock, float]] = {}
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def hold(self, lock: Lock, lease: float) -> None:
        with self._guard:
            self._held[id(lock)] = (lock, lease)
            if self._thread is None or self._pid != os.getpid():  # threads do not survive a fork
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="ingest-lock-leases", daemon=True)
                self._thread.start()

    def drop(self, lock: Lock) -> None:
        with self._guard:
            self._held.pop(id(lock), None)

    def _run(self) -> None:
        while True:
            with self._guard:
                held = list(self._held.values())
            for lock, _ in held:
                with suppress(LockError, RedisError):
                    lock.reacquire()
            time.sleep(min((lease for _, lease in held), default=LEASE_TICK) / 3)


_KEEPER = _LeaseKeeper()
LEASE_TICK = 3.0


@contextmanager
def shared_lock(name: str, lease: float) -> Iterator[None]:
    """A lock every worker on every machine sees (on the broker's Redis). The holder's lease is renewed
    while it works, so a worker killed while holding it blocks the others for one lease at most."""
    lock = bus.client(get_settings()).lock(name, timeout=lease, blocking_timeout=WAIT_SECONDS)
    if not lock.acquire():
        raise LockTimeout(f"timed out waiting for {name}")
    _KEEPER.hold(lock, lease)
    try:
        yield
    finally:
        _KEEPER.drop(lock)
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
