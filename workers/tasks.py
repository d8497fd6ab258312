"""Celery tasks. Each task is a thin shell around domain code in graph/, ingest/, embeddings/."""

from __future__ import annotations

import os
import socket
import threading

from workers.celery_app import app

_STORE_LOCK = threading.Lock()
_STORES: dict[str, object] = {}


@app.task(name="huitong.ping")
def ping(payload: str = "") -> dict[str, object]:
    """Round-trip check: proves a worker consumed the broker's message and wrote a result."""
    return {"pong": payload, "worker": f"{socket.gethostname()}:{os.getpid()}"}


def _store():  # type: ignore[no-untyped-def]
    """One graph connection per worker process (opened on first use, after the fork)."""
    from graph import open_store
    from settings import get_settings

    key = str(os.getpid())
    with _STORE_LOCK:
        if key not in _STORES:
            _STORES[key] = open_store(get_settings())
        return _STORES[key]


@app.task(name="huitong.extract_version", bind=True, max_retries=3, default_retry_delay=10)
def extract_version(self, version_id: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Extract, store text, link mentions and index one uploaded version (idempotent: retries are safe)."""
    from graph.errors import GraphUnavailable
    from graph.usecases import Context
    from ingest.usecases import process
    from settings import get_settings

    try:
        done = process(Context(_store(), get_settings()), version_id)  # announces: browsers showing it refresh
    except GraphUnavailable as error:
        raise self.retry(exc=error) from error
    return {"version_id": done.version_id, "document_id": done.document_id, "status": done.status,
            "reason": done.reason, "mentions": done.mentions, "chunks": done.chunks, "timings_ms": done.timings_ms}


def enqueue_extraction(version_id: str) -> str:
    """Queue the extraction of a version; returns the task id."""
    return str(extract_version.delay(version_id).id)


@app.task(name="huitong.workflow_reminders")
def workflow_reminders(now: int | None = None) -> dict[str, int]:
    """Beat, every minute: reminders, overdue warnings and escalations, delivered live and by e-mail."""
    import time

    from settings import get_settings
    from workers.notify import deliver_reminders

    return deliver_reminders(_store(), get_settings(), now=int(time.time() * 1000) if now is None else now)


@app.task(name="huitong.notices")
def notices() -> dict[str, int]:
    """Beat, every few seconds: notices raised by the use cases go out by e-mail and to group robots (each
    once: they are claimed)."""
    from settings import get_settings
    from workers.notify import deliver_pending

    return deliver_pending(_store(), get_settings())


@app.task(name="huitong.notice_digest")
def notice_digest(now: int | None = None) -> dict[str, int]:
    """Beat, daily: the digest e-mail of those who chose it (repeating it the same moment sends nothing)."""
    import time

    from settings import get_settings
    from workers.notify import send_digests

    return send_digests(_store(), get_settings(), now=int(time.time() * 1000) if now is None else now)


@app.task(name="huitong.trend_warnings")
def trend_warnings(now: int | None = None) -> dict[str, int]:
    """Beat, hourly: trend warnings become notifications to the managers responsible (idempotent)."""
    import time

    from graph.analytics.notices import notify_trend_warnings
    from settings import get_settings
    from workers.notify import deliver

    store, settings = _store(), get_settings()
    created = notify_trend_warnings(store, now=int(time.time() * 1000) if now is None else now,
                                    zone=settings.timezone)
    return deliver(store, settings, created)


@app.task(name="huitong.deliveries")
def deliveries() -> dict[str, int]:
    """Beat, every few seconds: new events become webhook deliveries; due webhook and robot deliveries are
    sent. Idempotent and safe to run on several workers at once (deliveries are claimed with a lease)."""
    from settings import get_settings
    from workers.webhooks import dispatch

    return dispatch(_store(), get_settings())


@app.task(name="huitong.watch_folder")
def watch_folder() -> dict[str, int]:
    """Beat, every few seconds: files that stopped changing in HUITONG_WATCH_DIR are ingested for its owner."""
    from settings import get_settings
    from workers.watch import scan

    return scan(_store(), get_settings())


@app.task(name="huitong.ldap_sync")
def ldap_sync() -> dict[str, object]:
    """Beat, every HUITONG_LDAP_SYNC_MINUTES: the org sync from LDAP (the door `huitong ldap sync` opens too)."""
    from ingest.ldap_directory import DirectoryUnavailable
    from ingest.ldap_sync import MappingError, sync
    from settings import get_settings

    settings = get_settings()
    if settings.ldap_sync_mapping is None:
        return {"skipped": "HUITONG_LDAP_SYNC_MAPPING is not set"}
    try:
        report = sync(_store(), settings, client="worker")
    except (MappingError, DirectoryUnavailable) as error:
        # Not retried at once: the next beat tries again, and a wrong mapping needs a person anyway.
        return {"ok": False, "error": str(error)}
    return {"ok": report.ok, "summary": report.plan.summary(), "deactivated": report.deactivated,
            "problems": len(report.plan.problems)}


@app.task(name="huitong.purge_trash")
def purge_trash() -> dict[str, object]:
    """Beat, hourly: purge documents in the trash longer than HUITONG_TRASH_DAYS and not under legal hold, and
    the blobs nothing references any more. Idempotent (a purged document is gone; a restored one is skipped)."""
    from graph.usecases import Context
    from ingest.retention import purge_due
    from settings import get_settings

    return purge_due(Context(_store(), get_settings())).as_json()


from workers import schedule  # noqa: E402 - beat imports this module; the schedule travels with the tasks

schedule.install(app)
