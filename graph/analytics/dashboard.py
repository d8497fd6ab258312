"""The managers' dashboard: per department and period (weeks from Monday or calendar months, in the
organisation's zone ``HUITONG_TIMEZONE``: a task done late on a Sunday in UTC may be Monday there), in numpy.

Definitions:
- active: tasks in the department's hands at some time in the period (created before its end and not
  completed before its start; cancelled tasks count nowhere);
- completion rate: tasks completed in the period / active tasks;
- average handling time: mean of created -> completed over the tasks completed in the period (tasks
  of imported logs whose arrival is unknown are left out);
- information sharing: documents shared by the department's people plus comments they wrote (on
  documents and on workflow runs), in the period.
The last period is the current one, still running (``partial``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from graph.analytics import cache
from graph.analytics.bottlenecks import tables_for
from graph.analytics.tasks import concat, directory
from graph.queries import dashboard as q
from graph.store import GraphStore

PERIODS = ("week", "month")
MAX_PERIODS = 52
# Sharing events are counted per quarter hour: every zone's offset from UTC is a whole number of quarter
# hours, so each bucket falls wholly inside one local week or month (whole UTC days would straddle them).
BUCKET_MS = 15 * 60_000


def _month_start(moment: datetime, back: int, zone: ZoneInfo) -> datetime:
    index = moment.year * 12 + moment.month - 1 - back
    return datetime(index // 12, index % 12 + 1, 1, tzinfo=zone)


def period_bounds(now: int, period: str, count: int, zone: str = "UTC") -> list[dict[str, Any]]:
    """The ``count`` periods ending with the current one, oldest first: start, end (ms), label, partial.
    Periods begin at local midnight in ``zone`` (an IANA name), so their lengths follow its clock changes."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    if not 1 <= count <= MAX_PERIODS:
        raise ValueError(f"between 1 and {MAX_PERIODS} periods")
    tz = ZoneInfo(zone)
    moment = datetime.fromtimestamp(now / 1000, tz)
    out = []
    for back in range(count - 1, -1, -1):
        if period == "month":
            start, end = _month_start(moment, back, tz), _month_start(moment, back - 1, tz)
            label = start.strftime("%Y-%m")
        else:
            monday = moment.date() - timedelta(days=moment.weekday(), weeks=back)
            start = datetime.combine(monday, time(), tz)
            end = datetime.combine(monday + timedelta(weeks=1), time(), tz)
            label = start.strftime("%G-W%V")
        out.append({"start": int(start.timestamp() * 1000), "end": int(end.timestamp() * 1000), "label": label,
                    "partial": back == 0})
    return out


def _events(store: GraphStore, statement: Any, since: int, until: int) -> list[dict[str, Any]]:
    return store.run(statement, {"since": since, "until": until, "day": BUCKET_MS})


def _fold(rows: Iterable[dict[str, Any]], starts: np.ndarray, ends: np.ndarray) -> dict[tuple[str, int], int]:
    """(department id, period index) -> events, from per-quarter-hour counts."""
    out: dict[tuple[str, int], int] = {}
    for row in rows:
        at = float(row["day"]) * BUCKET_MS
        index = int(np.searchsorted(starts, at, side="right")) - 1
        if 0 <= index < len(starts) and at < ends[index] and row["department"]:
            key = (row["department"], index)
            out[key] = out.get(key, 0) + int(row["events"])
    return out


def _figures(store: GraphStore, now: int, period: str, count: int, zone: str) -> dict[str, Any]:
    bounds = period_bounds(now, period, count, zone)
    starts = np.array([b["start"] for b in bounds], dtype=np.float64)
    ends = np.array([b["end"] for b in bounds], dtype=np.float64)
    tables = tables_for(store, None)
    table = concat(tables)
    names = list(table.departments)
    live = ~table.cancelled & ~np.isnan(table.created) & (table.department >= 0)
    dept = table.department
    created, completed = table.created, table.completed
    handling = np.where(table.arrival_known, completed - created, np.nan)
    figures: dict[tuple[str, int], dict[str, Any]] = {}
    for i, (start, end) in enumerate(zip(starts, ends, strict=True)):
        active = live & (created < end) & (np.isnan(completed) | (completed >= start))
        done = live & (completed >= start) & (completed < end)
        timed = done & ~np.isnan(handling)
        n_active = np.bincount(dept[active], minlength=len(names))
        n_done = np.bincount(dept[done], minlength=len(names))
        n_timed = np.bincount(dept[timed], minlength=len(names))
        total = np.bincount(dept[timed], weights=handling[timed], minlength=len(names))
        for code, name in enumerate(names):
            if n_active[code] or n_done[code]:
                figures[(name, i)] = {
                    "active": int(n_active[code]), "completed": int(n_done[code]), "handled": int(n_timed[code]),
                    "completion_rate": round(float(n_done[code]) / n_active[code], 4) if n_active[code] else None,
                    "avg_handling_s": round(float(total[code]) / n_timed[code] / 1000, 1) if n_timed[code] else None,
                }
    since, until = int(starts[0]), int(ends[-1])
    shares = _fold(_events(store, q.SHARES_PER_DAY, since, until), starts, ends)
    comments = _fold(_events(store, q.COMMENTS_PER_DAY, since, until), starts, ends)
    label = directory(store).label
    departments = sorted({k[0] for k in (*figures, *shares, *comments)}, key=lambda d: (label(d), d))
    rows = []
    for key in departments:
        for i, bound in enumerate(bounds):
            base = figures.get((key, i), {"active": 0, "completed": 0, "handled": 0, "completion_rate": None,
                                          "avg_handling_s": None})
            shared, said = shares.get((key, i), 0), comments.get((key, i), 0)
            rows.append({"department_id": key, "department": label(key), "period": bound["label"],
                         "period_start": bound["start"], "partial": bound["partial"], **base,
                         "documents_shared": shared, "comments": said, "sharing_events": shared + said})
    return {"now": now, "period": period, "periods": bounds, "rows": rows}


def dashboard(store: GraphStore, *, now: int, period: str = "month", count: int = 12,
              departments: set[str] | frozenset[str] | None = None, zone: str = "UTC") -> dict[str, Any]:
    """Rows per (department, period) and per-department totals; ``departments`` (ids) limits them (None: all).
    Periods are local to ``zone`` (the organisation's, ``HUITONG_TIMEZONE``, when a use case asks)."""
    period_bounds(now, period, count, zone)  # bad arguments fail before anything is read
    result = cache.cached(store, ("dashboard", period, count, zone, now // 60_000),
                          lambda: _figures(store, now, period, count, zone))
    rows = [r for r in result["rows"] if departments is None or r["department_id"] in departments]
    return {**result, "rows": rows, "totals": totals(rows)}


def totals(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per department over all periods: active-weighted completion rate, mean handling, sharing events."""
    by: dict[str, dict[str, Any]] = {}
    for row in rows:
        acc = by.setdefault(row["department_id"], {"department_id": row["department_id"],
                                                   "department": row["department"], "active": 0, "completed": 0,
                                                   "handling_sum": 0.0, "handled": 0, "documents_shared": 0,
                                                   "comments": 0, "sharing_events": 0})
        acc["active"] += row["active"]
        acc["completed"] += row["completed"]
        if row["avg_handling_s"] is not None:
            acc["handling_sum"] += row["avg_handling_s"] * row["handled"]
            acc["handled"] += row["handled"]
        for key in ("documents_shared", "comments", "sharing_events"):
            acc[key] += row[key]
    out = []
    for acc in by.values():
        handled = acc.pop("handled")
        total = acc.pop("handling_sum")
        acc["completion_rate"] = round(acc["completed"] / acc["active"], 4) if acc["active"] else None
        acc["avg_handling_s"] = round(total / handled, 1) if handled else None
        out.append(acc)
    return sorted(out, key=lambda r: (-r["completed"], r["department"], r["department_id"]))
