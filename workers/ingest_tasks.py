"""Celery tasks of bulk ingestion: plan a job (walk and store an uploaded archive) and run a batch.

Both are thin shells around :mod:`ingest.jobs`, idempotent by design: with ``acks_late`` a task
whose worker died is delivered again, and running it twice changes nothing.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from redis.commands.core import Script
from redis.exceptions import RedisError

# Imported with the task module, so the worker loads the extractors once, before it forks its pool.
from graph import live as bus
from graph.errors import GraphUnavailable
from ingest.jobs import JobError, LockTimeout, plan_job, run_batch
from settings import get_settings
from workers.celery_app import app
from workers.tasks import _store

WAIT_SECONDS = 120.0  # waiting longer than this for a batch's locks: retry the batch later
RETRY_SECONDS = (0.005, 0.1)  # first and longest pause between two tries to take a batch's locks

# A batch takes the locks of all its content hashes at once, or none of them (so two batches never wait on
# each other in a circle), in one round trip; each key holds the holder's token until released or expired.
_ACQUIRE = """
for _, key in ipairs(KEYS) do
    if redis.call('exists', key) == 1 then return 0 end
end
for _, key in ipairs(KEYS) do
    redis.call('set', key, ARGV[1], 'px', ARGV[2])
end
return 1
"""
# Release and renew touch only keys that still hold this holder's token (an expired lease may have passed on).
_RELEASE = """
for _, key in ipairs(KEYS) do
    if redis.call('get', key) == ARGV[1] then redis.call('del', key) end
end
return 1
"""
_RENEW = """
for _, key in ipairs(KEYS) do
    if redis.call('get', key) == ARGV[1] then redis.call('pexpire', key, ARGV[2]) end
end
return 1
"""


@dataclass(frozen=True)
class _Held:
    names: tuple[str, ...]
    token: str
    lease: float


class _LeaseKeeper:
    """One thread per worker process renews the leases of the locks this process holds (starting a
    thread per lock would cost more than the work a lock guards)."""

    def __init__(self) -> None:
        self._held: dict[str, _Held] = {}
        self._guard = threading.Lock()
        self._thread: threading.Thread | None = None
        self._pid = 0

    def hold(self, held: _Held) -> None:
        with self._guard:
            self._held[held.token] = held
            if self._thread is None or self._pid != os.getpid():  # threads do not survive a fork
                self._pid = os.getpid()
                self._thread = threading.Thread(target=self._run, name="ingest-lock-leases", daemon=True)
                self._thread.start()

    def drop(self, held: _Held) -> None:
        with self._guard:
            self._held.pop(held.token, None)

    def _run(self) -> None:
        while True:
            with self._guard:
                held = list(self._held.values())
            for item in held:
                with suppress(RedisError):
                    _script(_RENEW)(keys=list(item.names), args=[item.token, int(item.lease * 1000)])
            time.sleep(min((item.lease for item in held), default=LEASE_TICK) / 3)


_KEEPER = _LeaseKeeper()
LEASE_TICK = 3.0


def _script(text: str) -> Script:
    return bus.client(get_settings()).register_script(text)


@contextmanager
def shared_lock(names: list[str], lease: float) -> Iterator[None]:
    """Locks every worker on every machine sees (on the broker's Redis), all taken at once. The holder's
    lease is renewed while it works, so a worker killed while holding them blocks the others for one lease
    at most."""
    held = _Held(tuple(sorted(set(names))), uuid.uuid4().hex, lease)
    if not held.names:
        yield
        return
    acquire, pause = _script(_ACQUIRE), RETRY_SECONDS[0]
    deadline = time.monotonic() + WAIT_SECONDS
    while not acquire(keys=list(held.names), args=[held.token, int(lease * 1000)]):
        if time.monotonic() > deadline:
            raise LockTimeout(f"timed out waiting for {len(held.names)} lock(s), e.g. {held.names[0]}")
        time.sleep(pause)
        pause = min(pause * 2, RETRY_SECONDS[1])
    _KEEPER.hold(held)
    try:
        yield
    finally:
        _KEEPER.drop(held)
        # Lost only if this process stalled for a whole lease: the next holder already has them, and that is fine.
        with suppress(RedisError):
            _script(_RELEASE)(keys=list(held.names), args=[held.token])


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
