"""The graph's record of bulk ingestion: jobs, their files and where each source path landed.

:mod:`ingest.jobs` decides; this module keeps its records, so the ingest package never touches the
statement catalogue (``graph.queries``) itself. Every write is one guarded statement (see
:mod:`graph.queries.ingest_jobs` for the model and the guards).
"""

from __future__ import annotations

from typing import Any

from graph.queries import documents as doc_q
from graph.queries import ingest_jobs as q
from graph.store import GraphStore, Row


def person_exists(store: GraphStore, person_id: str) -> bool:
    return bool(store.run(doc_q.PERSON_EXISTS, {"id": person_id}))


def document_versions(store: GraphStore, document_id: str) -> list[Row]:
    """Every version of a document (``{"version": {...}}`` rows, newest first)."""
    return store.run(doc_q.LIST_VERSIONS, {"id": document_id})


# -- jobs -------------------------------------------------------------------------------------------------


def find_resumable(store: GraphStore, actor_id: str, source: str, fingerprint: str) -> Row | None:
    rows = store.run(q.FIND_RESUMABLE, {"actor_id": actor_id, "source": source, "fingerprint": fingerprint})
    return dict(rows[0]["job"]) if rows else None


def resume_job(store: GraphStore, job_id: str, now: int) -> Row:
    return dict(store.run(q.RESUME_JOB, {"id": job_id, "now": now})[0]["job"])


def create_job(store: GraphStore, **job: Any) -> Row:
    """``id, actor_id, source, source_kind, fingerprint, path, options, now``."""
    return dict(store.run(q.CREATE_JOB, job)[0]["job"])


def get_job(store: GraphStore, job_id: str) -> Row | None:
    rows = store.run(q.GET_JOB, {"id": job_id})
    if not rows:
        return None
    return {**rows[0]["job"], "actor_username": rows[0]["actor_username"], "actor_name": rows[0]["actor_name"]}


def list_jobs(store: GraphStore, *, offset: int, limit: int) -> tuple[list[Row], int]:
    rows = store.run(q.LIST_JOBS, {"skip": max(offset, 0), "limit": max(limit, 1)})
    total = int(store.run(q.COUNT_JOBS)[0]["count"])
    return [{**r["job"], "actor_username": r["actor_username"], "actor_name": r["actor_name"]} for r in rows], total


def set_plan_counts(store: GraphStore, job_id: str, *, total: int, bytes_total: int, planned: bool, now: int) -> None:
    store.run(q.SET_PLAN_COUNTS, {"id": job_id, "total": total, "bytes_total": bytes_total, "planned": planned,
                                  "now": now})


def fail_job(store: GraphStore, job_id: str, reason: Row, now: int) -> None:
    """``reason``: the sentence, its code and parameters (``error``, ``error_code``, ``error_params``)."""
    store.run(q.FAIL_JOB, {"id": job_id, "error": str(reason.get("error") or "")[:1000],
                           "error_code": reason.get("error_code"), "error_params": reason.get("error_params"),
                           "now": now})


def finish_job(store: GraphStore, job_id: str, now: int) -> bool:
    """Close the job (only once: False when another worker closed it first)."""
    return bool(store.run(q.FINISH_JOB, {"id": job_id, "now": now, "summary": "{}"}))


def set_job_summary(store: GraphStore, job_id: str, summary: str) -> None:
    store.run(q.FINISH_JOB_SUMMARY, {"id": job_id, "summary": summary[:20000]})


# -- files ------------------------------------------------------------------------------------------------


def upsert_files(store: GraphStore, job_id: str, rows: list[Row], now: int) -> None:
    store.run(q.UPSERT_FILES, {"job_id": job_id, "rows": rows, "now": now})


def queued_files(store: GraphStore, job_id: str) -> list[Row]:
    return store.run(q.QUEUED_FILES, {"job_id": job_id})


def any_queued(store: GraphStore, job_id: str) -> bool:
    return bool(store.run(q.ANY_QUEUED, {"job_id": job_id}))


def files_by_ids(store: GraphStore, file_ids: list[str]) -> list[Row]:
    return [r["file"] for r in store.run(q.FILES_BY_IDS, {"ids": list(file_ids)})]


def set_outcomes(store: GraphStore, rows: list[Row], now: int) -> None:
    store.run(q.SET_OUTCOMES, {"rows": rows, "now": now})


def progress_rows(store: GraphStore, job_id: str) -> list[Row]:
    return store.run(q.PROGRESS, {"job_id": job_id})


def failures(store: GraphStore, job_id: str, limit: int) -> list[Row]:
    return store.run(q.FAILURES, {"job_id": job_id, "limit": limit})


def report_page(store: GraphStore, job_id: str, *, skip: int, limit: int) -> list[Row]:
    return store.run(q.REPORT_PAGE, {"job_id": job_id, "skip": skip, "limit": limit})


# -- locations: where a source path landed ---------------------------------------------------------------


def file_states(store: GraphStore, rows: list[Row], actor_id: str) -> list[Row]:
    return store.run(q.FILE_STATES, {"rows": rows, "actor_id": actor_id})


def file_state(store: GraphStore, key: str, sha256: str, actor_id: str) -> Row:
    return store.run(q.FILE_STATE, {"key": key, "sha256": sha256, "actor_id": actor_id})[0]


def set_locations(store: GraphStore, *, source: str, job_id: str, rows: list[Row], now: int) -> None:
    store.run(q.SET_LOCATIONS, {"source": source, "job_id": job_id, "now": now, "rows": rows})


def set_location(store: GraphStore, **location: Any) -> None:
    """``key, source, path, sha256, document_id, job_id, outcome, now``."""
    store.run(q.SET_LOCATION, location)
