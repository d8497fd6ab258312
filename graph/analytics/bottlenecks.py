"""Bottleneck figures per workflow, step, department and person, computed in numpy.

Definitions (times in seconds; a figure that cannot be computed is ``None``):
- waiting: created -> first opened or claimed; processing: opened -> completed;
  handling: created -> completed (imported completion-only logs have handling only).
  Tasks whose arrival is unknown (first activity of an imported case) have no waiting/handling.
- queue now: open tasks; time-averaged queue: tasks in the system averaged over the window.
- arrival rate / throughput: tasks created / completed per day over the window.
- breach rate: tasks done after their due time, or still open past it, over tasks with a due time
  whose outcome is known.
- rework rate: share of tasks of a step that repeat it in a run (a later round of the same step,
  after a reject / return, or a repeated activity in an imported case).
- handoffs: consecutive tasks of a run, in later rounds, whose departments differ; delay = from
  the earlier task's completion to the later one's first action.
- top bottlenecks: steps ranked by the average number of tasks they hold (total handling time over
  the data span, Little's law); each with its slowest task ids as evidence.
Cancelled tasks (siblings of an any-of step, withdrawn runs) count nowhere.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from graph.analytics import cache
from graph.analytics.tasks import SEP, TaskTable, concat, directory, load_table, person_label, workflow_keys
from graph.store import GraphStore

DAY_MS = 86_400_000
WINDOW_DAYS = 28
EVIDENCE = 5
TOP = 10


def _s(value: float) -> float | None:
    """Milliseconds to seconds (rounded), None for NaN."""
    return None if value is None or np.isnan(value) else round(float(value) / 1000.0, 1)


def _stat(values: np.ndarray, q: float) -> float:
    values = values[~np.isnan(values)]
    return float(np.percentile(values, q)) if values.size else np.nan


def _rate(hits: int, total: int) -> float | None:
    return round(hits / total, 4) if total else None


class Measures:
    """Per-task measures of a table, computed once."""

    def __init__(self, table: TaskTable, now: int) -> None:
        self.table = table
        self.now = now
        live = ~table.cancelled
        known = live & table.arrival_known
        self.live = live
        self.wait = np.where(known, table.opened - table.created, np.nan)
        self.processing = np.where(live, table.completed - table.opened, np.nan)
        self.handling = np.where(known & ~table.is_open, table.completed - table.created, np.nan)
        finished = np.where(table.is_open, float(now), table.completed)
        has_due = live & ~np.isnan(table.due)
        late = has_due & (finished > table.due)
        # An open task not yet due has no outcome yet.
        decided = has_due & (~table.is_open | late)
        self.breached = late & decided
        self.decided = decided
        self.rework = live & _repeats(table)
        # Period each task spends in the system (for time-averaged queues and Little's law).
        self.start = table.created
        self.end = np.where(table.is_open, float(now), table.completed)
        stamps = np.concatenate([table.created, table.completed])
        stamps = stamps[~np.isnan(stamps)]
        last = float(stamps.max()) if stamps.size else float(now)
        self.span_start = float(stamps.min()) if stamps.size else float(now)
        # Live data ends now; a historical log ends at its last event.
        self.window_end = float(now) if table.is_open.any() else min(last, float(now))
        self.window_start = max(self.span_start, self.window_end - WINDOW_DAYS * DAY_MS)

    def figures(self, idx: np.ndarray) -> dict[str, Any]:
        t = self.table
        live = idx[self.live[idx]]
        window = max(self.window_end - self.window_start, 1.0)
        days = window / DAY_MS
        overlap = np.clip(np.fmin(self.end[live], self.window_end) - np.fmax(self.start[live], self.window_start), 0,
                          None)
        created_in = (t.created[live] >= self.window_start) & (t.created[live] <= self.window_end)
        done_in = (t.completed[live] >= self.window_start) & (t.completed[live] <= self.window_end)
        handling = self.handling[live]
        span = max(self.window_end - self.span_start, 1.0)
        return {
            "count": int(live.size),
            "open_now": int(t.is_open[live].sum()),
            "median_wait_s": _s(_stat(self.wait[live], 50)), "p90_wait_s": _s(_stat(self.wait[live], 90)),
            "median_processing_s": _s(_stat(self.processing[live], 50)),
            "p90_processing_s": _s(_stat(self.processing[live], 90)),
            "median_handling_s": _s(_stat(handling, 50)), "p90_handling_s": _s(_stat(handling, 90)),
            "breach_rate": _rate(int(self.breached[live].sum()), int(self.decided[live].sum())),
            "rework_rate": _rate(int(self.rework[live].sum()), int(live.size)),
            "queue_avg": round(float(np.nansum(overlap)) / window, 3),
            "arrival_per_day": round(float(created_in.sum()) / days, 3),
            "throughput_per_day": round(float(done_in.sum()) / days, 3),
            "load": round(float(np.nansum(handling)) / span, 3),
        }

    def evidence(self, idx: np.ndarray, n: int = EVIDENCE) -> list[str]:
        """Ids of the slowest tasks (by handling, else waiting) among ``idx``."""
        key = np.where(np.isnan(self.handling[idx]), self.wait[idx], self.handling[idx])
        order = np.argsort(-np.nan_to_num(key, nan=-1.0), kind="stable")[:n]
        return [str(self.table.ids[idx[i]]) for i in order if not np.isnan(key[i])]


def _repeats(table: TaskTable) -> np.ndarray:
    """True for a task whose (run, step) already had an earlier round."""
    if not len(table):
        return np.zeros(0, dtype=bool)
    pair = table.run * (len(table.steps) + 1) + table.step
    _, inverse = np.unique(pair, return_inverse=True)
    first = np.full(inverse.max() + 1, np.inf)
    np.minimum.at(first, inverse, np.nan_to_num(table.round, nan=0.0))
    return np.nan_to_num(table.round, nan=0.0) > first[inverse]


def groups(codes: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(code, indices) for every code >= 0, in one sort instead of one mask per group."""
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    bounds = np.flatnonzero(np.diff(sorted_codes)) + 1
    for part in np.split(order, bounds):
        if part.size and codes[part[0]] >= 0:
            yield int(codes[part[0]]), part


# -- handoffs ----------------------------------------------------------------------------------------


def handoffs(table: TaskTable, label: Callable[[str], str] = str) -> dict[str, Any]:
    """Department x department matrix of handoffs: counts and median delay (seconds).

    Departments are keyed by id (``department_ids``, ``from_id`` / ``to_id``); ``label`` names them."""
    live = np.flatnonzero(~table.cancelled & ~np.isnan(table.created))
    order = live[np.lexsort((table.created[live], np.nan_to_num(table.round[live]), table.run[live]))]
    a, b = order[:-1], order[1:]
    keep = ((table.run[a] == table.run[b]) & (table.round[b] > table.round[a]) & (table.department[a] >= 0)
            & (table.department[b] >= 0) & (table.department[a] != table.department[b]))
    a, b = a[keep], b[keep]
    first_action = np.where(np.isnan(table.opened[b]), table.completed[b], table.opened[b])
    delay = first_action - table.completed[a]
    keys = table.departments
    pairs: dict[tuple[int, int], list[float]] = {}
    for src, dst, d in zip(table.department[a].tolist(), table.department[b].tolist(), delay.tolist(), strict=True):
        pairs.setdefault((src, dst), []).append(d)
    used = sorted({i for pair in pairs for i in pair}, key=lambda i: (label(keys[i]), keys[i]))
    position = {d: i for i, d in enumerate(used)}
    counts = [[0] * len(used) for _ in used]
    delays: list[list[float | None]] = [[None] * len(used) for _ in used]
    edges: list[dict[str, Any]] = []
    for (src, dst), values in pairs.items():
        median = _s(_stat(np.array(values, dtype=np.float64), 50))
        counts[position[src]][position[dst]] = len(values)
        delays[position[src]][position[dst]] = median
        edges.append({"from": label(keys[src]), "to": label(keys[dst]), "from_id": keys[src], "to_id": keys[dst],
                      "count": len(values), "median_delay_s": median})
    edges.sort(key=lambda e: (-e["count"], e["from"], e["to"]))
    return {"departments": [label(keys[i]) for i in used], "department_ids": [keys[i] for i in used],
            "counts": counts, "median_delay_s": delays, "edges": edges}


# -- reports -------------------------------------------------------------------------------------------


def tables_for(store: GraphStore, workflow: str | None) -> list[TaskTable]:
    keys = [row["key"] for row in workflow_keys(store) if row["key"]]
    if workflow is not None:
        keys = [k for k in keys if k == workflow]
    return [t for t in (load_table(store, k) for k in keys) if len(t)]


def _step_rows(table: TaskTable, measures: Measures) -> list[dict[str, Any]]:
    rows = []
    for code, idx in groups(table.step):
        rows.append({"workflow": table.workflow, "step": table.steps[code], "step_name": table.step_names[code],
                     **measures.figures(idx), "evidence": measures.evidence(idx)})
    return rows


CLI_FIELDS = ("workflow", "step", "count", "median_wait_s", "p90_wait_s", "median_processing_s",
              "median_handling_s", "p90_handling_s", "breach_rate", "rework_rate")


def step_figures(store: GraphStore, workflow: str | None = None, *, now: int) -> list[dict[str, Any]]:
    """Figures of every step of every workflow (or of ``workflow``), with evidence task ids."""
    def compute() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for table in tables_for(store, workflow):
            rows.extend(_step_rows(table, Measures(table, now)))
        return rows
    return cache.cached(store, ("steps", workflow, now // 60_000), compute)


def cli_rows(store: GraphStore, workflow: str | None = None, *, now: int) -> list[dict[str, Any]]:
    """The ``huitong bottlenecks --json`` rows."""
    return [{k: row[k] for k in CLI_FIELDS} for row in step_figures(store, workflow, now=now)]


def report(store: GraphStore, workflow: str | None = None, *, now: int) -> dict[str, Any]:
    """Everything a manager's bottleneck page shows (see the module docstring for definitions)."""
    def compute() -> dict[str, Any]:
        tables = tables_for(store, workflow)
        steps: list[dict[str, Any]] = []
        workflows = []
        for table in tables:
            measures = Measures(table, now)
            steps.extend(_step_rows(table, measures))
            workflows.append({"workflow": table.workflow, **measures.figures(np.arange(len(table))),
                              "runs": len(table.runs)})
        combined = concat(tables)
        measures = Measures(combined, now)
        label = directory(store).label
        departments = [{"department_id": combined.departments[code], "department": label(combined.departments[code]),
                        **measures.figures(idx),
                        "people": int(np.unique(combined.person[idx][combined.person[idx] >= 0]).size),
                        "evidence": measures.evidence(idx)}
                       for code, idx in groups(combined.department)]
        people = []
        for code, idx in groups(combined.person):
            name, person_id = person_label(combined.people[code])
            dept_codes = combined.department[idx]
            dept_codes = dept_codes[dept_codes >= 0]
            home = combined.departments[int(np.bincount(dept_codes).argmax())] if dept_codes.size else None
            people.append({"person": name, "person_id": person_id, "department_id": home,
                           "department": label(home) if home else None, **measures.figures(idx)})
        return {
            "now": now, "window_days": WINDOW_DAYS, "workflows": workflows,
            "steps": sorted(steps, key=lambda r: (r["workflow"], r["step"])),
            "departments": rank_departments(departments),
            "people": sorted(people, key=lambda r: -r["load"]),
            "handoffs": handoffs(combined, label),
            "top_bottlenecks": top_bottlenecks(steps),
        }
    return cache.cached(store, ("report", workflow, now // 60_000), compute)


def rank_departments(rows: list[dict[str, Any]], min_count: int = 20) -> list[dict[str, Any]]:
    """Slowest first: by median handling among departments with enough tasks to judge, then the rest."""
    def key(row: dict[str, Any]) -> tuple[int, float]:
        judged = row["count"] >= min_count and row["median_handling_s"] is not None
        return (0 if judged else 1, -(row["median_handling_s"] or 0.0))
    ranked = sorted(rows, key=key)
    for rank, row in enumerate(ranked, 1):
        row["rank"] = rank
    return ranked


def reasons(step: dict[str, Any]) -> list[dict[str, Any]]:
    """Why a step is a bottleneck, as codes with figures (hours, shares): the doors word them."""
    out: list[dict[str, Any]] = [{"code": "bottleneck.load", "params": {"load": step["load"], "count": step["count"]}}]
    if step["median_handling_s"] is not None:
        out.append({"code": "bottleneck.handling", "params": {
            "median_h": _hours(step["median_handling_s"]), "p90_h": _hours(step["p90_handling_s"] or 0)}})
    if step["median_wait_s"] is not None:
        out.append({"code": "bottleneck.wait", "params": {"median_h": _hours(step["median_wait_s"])}})
    if step["breach_rate"]:
        out.append({"code": "bottleneck.breach", "params": {"rate": step["breach_rate"]}})
    if step["rework_rate"]:
        out.append({"code": "bottleneck.rework", "params": {"rate": step["rework_rate"]}})
    return out


def _hours(seconds: float) -> float:
    return round(seconds / 3600, 1)


def top_bottlenecks(steps: list[dict[str, Any]], n: int = TOP) -> list[dict[str, Any]]:
    """Steps that hold the most work on average, each with the figures that make it one."""
    ranked = sorted((s for s in steps if s["load"] > 0), key=lambda s: -s["load"])[:n]
    out = []
    for rank, step in enumerate(ranked, 1):
        out.append({"rank": rank, "workflow": step["workflow"], "step": step["step"],
                    "step_name": step["step_name"], "load": step["load"], "count": step["count"],
                    "median_handling_s": step["median_handling_s"], "breach_rate": step["breach_rate"],
                    "reasons": reasons(step), "evidence": step["evidence"]})
    return out


__all__ = ["CLI_FIELDS", "SEP", "Measures", "cli_rows", "groups", "handoffs", "report", "step_figures"]
