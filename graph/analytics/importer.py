"""Importing an event log as historical workflow runs: one Workflow per log, a Step per activity,
a WorkflowRun per case and a Task per activity instance, written in UNWIND batches.

Ids derive from the workflow key, case id and position, and cases already present are skipped,
so importing the same log again adds nothing. A case and its tasks are written by one statement.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graph.analytics import cache
from graph.analytics.eventlog import TIMING_NOTES, BadRow, Cases, Instance, build_cases, read_log
from graph.queries import analytics as q
from graph.store import GraphStore

NAMESPACE = uuid.UUID("0b7f6f3e-52a3-4d7e-9a4e-5d2f3c9e8a10")
TASKS_PER_BATCH = 5000
IDS_PER_LOOKUP = 5000


@dataclass
class ImportReport:
    workflow_key: str
    workflow_id: str
    timing: str
    timing_note: str
    events: int
    cases: int
    tasks: int
    steps: int
    runs_created: int = 0
    runs_skipped: int = 0
    tasks_created: int = 0
    ignored_events: int = 0
    unmatched_starts: int = 0
    bad_row_count: int = 0
    bad_rows: list[BadRow] = field(default_factory=list)
    seconds: float = 0.0

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "bad_rows"}
        data["bad_rows"] = [{"line": b.line, "error": b.error} for b in self.bad_rows]
        data["seconds"] = round(self.seconds, 3)
        return data


def workflow_key_for(path: Path) -> str:
    """A workflow key from a file name: ``BPIC 2013.xes.gz`` -> ``log-bpic-2013``."""
    stem = path.name
    for suffix in (".gz", ".xes", ".xml", ".csv", ".tsv", ".txt"):
        stem = stem.removesuffix(suffix)
    slug = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return f"log-{slug or 'import'}"


def _id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def import_log(store: GraphStore, path: Path | str, *, key: str | None = None, name: str | None = None,
               now: int | None = None) -> ImportReport:
    """Import ``path`` (XES, XES.gz or CSV); see :class:`ImportReport` for what is reported."""
    started = time.perf_counter()
    path = Path(path)
    parsed = read_log(path)
    cases = build_cases(parsed.events)
    key = key or workflow_key_for(path)
    workflow_id = _id("workflow", key)
    activities = _activities(cases)
    steps = {activity: _id("step", workflow_id, activity) for activity in activities}
    report = ImportReport(
        workflow_key=key, workflow_id=workflow_id, timing=cases.timing, timing_note=TIMING_NOTES[cases.timing],
        events=len(parsed.events), cases=len(cases.cases), tasks=sum(len(v) for v in cases.cases.values()),
        steps=len(steps), ignored_events=cases.ignored_events, unmatched_starts=cases.unmatched_starts,
        bad_row_count=parsed.bad_row_count, bad_rows=parsed.bad_rows)
    if not cases.cases:
        report.seconds = time.perf_counter() - started
        return report
    workflow_name = name or path.name
    store.run(q.UPSERT_IMPORTED_WORKFLOW, {
        "workflow": {"id": workflow_id, "key": key, "name": workflow_name, "name_en": workflow_name,
                     "source": "import", "current": False, "version": 1, "file": path.name,
                     "imported_at": now if now is not None else int(time.time() * 1000),
                     "timing": cases.timing, "timing_note": TIMING_NOTES[cases.timing]},
        "steps": [{"id": sid, "key": activity, "name": activity, "name_en": activity, "workflow_id": workflow_id,
                   "position": i, "source": "import"} for i, (activity, sid) in enumerate(steps.items())],
    })
    run_ids = {case: _id("run", workflow_id, case) for case in cases.cases}
    existing = _existing(store, run_ids.values())
    batch: list[dict[str, Any]] = []
    batch_tasks = 0
    for case, instances in cases.cases.items():
        if run_ids[case] in existing:
            report.runs_skipped += 1
            continue
        run = _run_row(case, run_ids[case], instances, key, workflow_id, workflow_name, steps)
        batch.append(run)
        batch_tasks += len(instances)
        if batch_tasks >= TASKS_PER_BATCH:
            report.tasks_created += _write(store, workflow_id, batch)
            report.runs_created += len(batch)
            batch, batch_tasks = [], 0
    if batch:
        report.tasks_created += _write(store, workflow_id, batch)
        report.runs_created += len(batch)
    if report.runs_created:
        cache.bump(store)
    report.seconds = time.perf_counter() - started
    return report


def _activities(cases: Cases) -> list[str]:
    """Activities in order of their typical position in a case (for a readable step list)."""
    positions: dict[str, list[int]] = {}
    for instances in cases.cases.values():
        for instance in instances:
            positions.setdefault(instance.activity, []).append(instance.seq)
    return sorted(positions, key=lambda a: (sorted(positions[a])[len(positions[a]) // 2], a))


def _existing(store: GraphStore, ids: Iterable[str]) -> set[str]:
    found: set[str] = set()
    pending = list(ids)
    for start in range(0, len(pending), IDS_PER_LOOKUP):
        rows = store.run(q.EXISTING_RUNS, {"ids": pending[start:start + IDS_PER_LOOKUP]})
        found.update(row["id"] for row in rows)
    return found


def _run_row(case: str, run_id: str, instances: list[Instance], key: str, workflow_id: str, workflow_name: str,
             steps: dict[str, str]) -> dict[str, Any]:
    # Only what analytics and the run view read: every property costs import time at 100k tasks.
    tasks = []
    for instance in instances:
        props = {
            "id": _id("task", run_id, str(instance.seq)), "kind": "imported", "status": "done", "run_id": run_id,
            "workflow_key": key, "step_key": instance.activity, "round": instance.seq,
            "created_at": instance.created, "first_opened_at": instance.opened, "completed_at": instance.completed,
            "arrival_known": instance.arrival_known, "assignee_kind": "external", "assignee_name": instance.resource,
            "department": instance.department, "role": instance.role,
        }
        tasks.append({"step_id": steps[instance.activity], "props": {k: v for k, v in props.items() if v is not None}})
    run = {"id": run_id, "kind": "imported", "source": "import", "title": case, "workflow_id": workflow_id,
           "workflow_key": key, "workflow_name": workflow_name, "status": "closed", "outcome": "completed",
           "started_at": min(i.created for i in instances), "ended_at": max(i.completed for i in instances),
           "round": len(instances)}
    return {"props": run, "tasks": tasks}


def _write(store: GraphStore, workflow_id: str, runs: list[dict[str, Any]]) -> int:
    rows = store.run(q.CREATE_HISTORICAL_RUNS, {"workflow_id": workflow_id, "runs": runs})
    return int(rows[0]["created"]) if rows else 0
