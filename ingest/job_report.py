"""Progress, completion and reports of a bulk ingestion job (see :mod:`ingest.jobs`)."""

from __future__ import annotations

import csv
import io
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph import audit, duplicates
from graph import documents as docs
from graph import ingest_records as ingest_db
from graph.store import GraphStore, Row
from ingest.archive import MIB
from ingest.cells import safe_cell
from ingest.job_model import ACTIVE, OUTCOMES, REPORT_COLUMNS, UPLOADS, _job
from ingest.reasons import parse_params
from settings import Settings

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
    for row in ingest_db.progress_rows(store, job_id):
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
    rows = ingest_db.failures(store, job_id, failures) if failed and failures else []
    return Progress(job, done + failed + queued, done, failed, queued, bytes_total, bytes_done,
                    {o: outcomes.get(o, 0) for o in OUTCOMES}, unreadable, elapsed, rows)


def maybe_finish(store: GraphStore, settings: Settings, job_id: str) -> bool:
    """Close the job when it is planned and no file is left; True when this call closed it."""
    if ingest_db.any_queued(store, job_id):
        return False  # the usual answer, in one round trip
    job = _job(store, job_id)
    if job["status"] not in ACTIVE or not job["planned"]:
        return False
    if not ingest_db.finish_job(store, job_id, docs.now_ms()):
        return False  # another worker closed it first
    report = summary(store, job_id)
    ingest_db.set_job_summary(store, job_id, json.dumps(report, ensure_ascii=False))
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
        page = ingest_db.report_page(store, job_id, skip=offset, limit=page_size)
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
                failed.append({"path": f["path"], "error": f.get("error"), "error_code": f.get("error_code"),
                               "error_params": parse_params(f.get("error_params"))})
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
    # Cells starting with = + - @ would run as formulas in a spreadsheet: neutralised.
    writer.writerows({key: safe_cell(value) for key, value in row.items()} for row in rows)
    return out.getvalue()


def _json_text(job: Row, figures: dict[str, Any], rows: list[Row]) -> str:
    head = {k: job.get(k) for k in ("id", "source", "source_kind", "status", "actor_username", "created_at",
                                     "finished_at", "error", "error_code")}
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
