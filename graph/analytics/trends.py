"""Weekly trends and early warnings: rising handling times, and SLA breaches a growing queue will cause.

A series warns as *rising* only when all of these hold, so noise does not raise alarms:
- at least :data:`MIN_WEEKS` complete weeks with at least :data:`MIN_TASKS_PER_WEEK` tasks each
  (weeks with fewer tasks are left out: their medians are mostly noise);
- the Mann–Kendall test (Kendall's tau of the weekly medians against time, one-sided) gives p < 0.05;
- the two-sided 95% confidence interval of the Theil–Sen slope lies above zero;
- the fitted rise over the series is at least :data:`MIN_RELATIVE_RISE` of its median (a trend too
  small to matter to anyone is not worth a warning).
The statistic used is the weekly median handling time (waiting + processing). Weeks are the organisation's
(``HUITONG_TIMEZONE``, as on the dashboard): they begin on Monday at local midnight and follow clock changes.

A queue warns when, over the last :data:`RECENT_DAYS` days, arrivals outpaced throughput by more
than twice the Poisson noise of the counts, at least :data:`MIN_QUEUE` tasks are open, and clearing
the queue at the recent throughput takes longer than the typical SLA now or will within
:data:`HORIZON_DAYS` days.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from graph.analytics import cache
from graph.analytics.bottlenecks import DAY_MS, Measures, groups, tables_for
from graph.analytics.dashboard import period_bounds
from graph.analytics.tasks import concat, directory, workflow_keys
from graph.store import GraphStore

MIN_WEEKS = 8
MAX_WEEKS = 26
MIN_TASKS_PER_WEEK = 5
ALPHA = 0.05
MIN_RELATIVE_RISE = 0.10
HORIZON_DAYS = 14
RECENT_DAYS = 28
MIN_QUEUE = 5


@dataclass(frozen=True)
class TrendTest:
    rising: bool
    weeks: int
    tau: float | None
    p_value: float | None
    slope: float | None  # per week, in the series' unit
    slope_low: float | None
    slope_high: float | None
    relative_rise: float | None


def test_rising(values: np.ndarray | list[float], *, alpha: float = ALPHA, min_points: int = MIN_WEEKS,
                min_relative_rise: float = MIN_RELATIVE_RISE) -> TrendTest:
    """Mann–Kendall + Theil–Sen on equally spaced points (see the module docstring)."""
    y = np.asarray(values, dtype=np.float64)
    y = y[~np.isnan(y)]
    n = y.size
    if n < min_points or np.all(y == y[0]):
        return TrendTest(False, int(n), None, None, None, None, None, None)
    x = np.arange(n, dtype=np.float64)
    tau = stats.kendalltau(x, y, alternative="greater")
    # The slope's two-sided 95% interval must lie above zero: together with the one-sided Mann-Kendall
    # test this keeps the false alarm rate on trendless series near 2.5%, safely under 5%.
    slope, _, low, high = stats.theilslopes(y, x, alpha=1 - alpha)
    centre = float(np.median(y))
    relative = float(slope * (n - 1) / centre) if centre > 0 else None
    rising = bool(tau.pvalue < alpha and low > 0 and relative is not None and relative >= min_relative_rise)
    return TrendTest(rising, int(n), float(tau.statistic), float(tau.pvalue), float(slope), float(low), float(high),
                     relative)


def week_starts(at: float, zone: str = "UTC") -> np.ndarray:
    """Starts (ms) of the :data:`MAX_WEEKS` complete weeks before the week holding ``at``, then of that week,
    in ``zone``: the dashboard's own local weeks (Monday, local midnight)."""
    return np.array(_week_starts(int(at), zone), dtype=np.float64)


@functools.lru_cache(maxsize=256)
def _week_starts(at: int, zone: str) -> tuple[int, ...]:
    # Every scope of a workflow shares its end of data: its weeks are worked out once (~1 ms each time).
    return tuple(b["start"] for b in period_bounds(at, "week", MAX_WEEKS + 1, zone))


def weekly(measures: Measures, idx: np.ndarray, zone: str = "UTC") -> dict[str, list[Any]]:
    """Complete weeks (by completion, in ``zone``) of tasks ``idx``: counts, median handling (s), breach rate."""
    table = measures.table
    done = idx[~np.isnan(measures.handling[idx])]
    starts = week_starts(measures.window_end, zone)
    current = len(starts) - 1  # the week still running is left out, as are weeks before the first
    weeks = np.searchsorted(starts, table.completed[done], side="right") - 1
    keep = (weeks >= 0) & (weeks < current)
    done, weeks = done[keep], weeks[keep]
    out: dict[str, list[Any]] = {"week": [], "count": [], "median_handling_s": [], "breach_rate": []}
    if not done.size:
        return out
    for week in range(int(weeks.min()), current):
        members = done[weeks == week]
        decided = measures.decided[members]
        out["week"].append(int(starts[week]))
        out["count"].append(int(members.size))
        out["median_handling_s"].append(round(float(np.median(measures.handling[members])) / 1000, 1)
                                        if members.size else None)
        out["breach_rate"].append(round(float(measures.breached[members][decided].mean()), 4)
                                  if decided.any() else None)
    return out


def _rising_warning(scope: dict[str, Any], series: dict[str, list[Any]]) -> dict[str, Any] | None:
    usable = [(w, v) for w, v, c in zip(series["week"], series["median_handling_s"], series["count"], strict=True)
              if v is not None and c >= MIN_TASKS_PER_WEEK]
    result = test_rising([v for _, v in usable])
    if not result.rising:
        return None
    label = scope_label(scope)
    return {
        "kind": "rising_handling_time", "code": "trend.rising_handling_time",
        "params": {"scope": label, "slope_h": _hours(result.slope or 0), "weeks": result.weeks,
                   "tau": round(result.tau or 0, 2), "p": round(result.p_value or 0, 4),
                   "low_h": _hours(result.slope_low or 0), "rise": round(result.relative_rise or 0, 3)},
        **scope, "metric": "median_handling_s",
        "weeks": [w for w, _ in usable], "values": [v for _, v in usable],
        "test": {"method": "Mann-Kendall (one-sided) + Theil-Sen", "tau": round(result.tau or 0, 3),
                 "p_value": round(result.p_value or 0, 5), "slope_per_week_s": round(result.slope or 0, 1),
                 "slope_low_s": round(result.slope_low or 0, 1), "slope_high_s": round(result.slope_high or 0, 1),
                 "relative_rise": round(result.relative_rise or 0, 3), "points": result.weeks},
        "message": (f"{label}: weekly median handling time is rising by {_duration(result.slope or 0)} per week "
                    f"over {result.weeks} weeks (Mann-Kendall tau {result.tau:.2f}, p={result.p_value:.4f}; "
                    f"Theil-Sen slope 95% CI lower bound {_duration(result.slope_low or 0)}/week > 0; "
                    f"+{(result.relative_rise or 0):.0%} over the period)"),
    }


def _hours(seconds: float) -> float:
    """Hours with the precision a reader can use: one decimal, two below a tenth of an hour."""
    hours = seconds / 3600
    return round(hours, 1) if abs(hours) >= 0.1 else round(hours, 2)


SCOPE_KEYS = (("workflow_name", "workflow"), ("step_name", "step"), ("department", "department_id"))


def scope_label(scope: dict[str, Any]) -> str:
    """Workflow / step / department of a warning as the reader knows them (names; keys only when unnamed)."""
    parts = (scope.get(name) or scope.get(key) for name, key in SCOPE_KEYS)
    return " / ".join(str(p) for p in parts if p)


def _duration(seconds: float) -> str:
    hours = seconds / 3600
    if abs(hours) >= 48:
        return f"{hours / 24:.1f} d"
    if abs(hours) >= 1:
        return f"{hours:.1f} h"
    return f"{seconds / 60:.0f} min"


def _queue_warning(scope: dict[str, Any], measures: Measures, idx: np.ndarray, now: int) -> dict[str, Any] | None:
    """Arrivals significantly outpacing throughput, with the open queue heading past the SLA."""
    table = measures.table
    live = idx[measures.live[idx]]
    queue = int(table.is_open[live].sum())
    with_due = live[~np.isnan(table.due[live])]
    if queue < MIN_QUEUE or not with_due.size:
        return None
    sla_days = float(np.median(table.due[with_due] - table.created[with_due])) / DAY_MS
    since = now - RECENT_DAYS * DAY_MS
    arrived = int(((table.created[live] >= since) & (table.created[live] <= now)).sum())
    finished = int(((table.completed[live] >= since) & (table.completed[live] <= now)).sum())
    # Poisson counts: the excess of arrivals must exceed twice its standard deviation to count as growth.
    if arrived - finished <= 2 * math.sqrt(arrived + finished):
        return None
    arrivals, throughput = arrived / RECENT_DAYS, finished / RECENT_DAYS
    clearing = queue / throughput if throughput else math.inf
    days = 0.0 if clearing > sla_days else (sla_days * throughput - queue) / (arrivals - throughput)
    if days > HORIZON_DAYS:
        return None
    label = scope_label(scope)
    when = "tasks are missing it already" if days == 0 else f"new tasks will miss it in about {days:.0f} days"
    return {"kind": "sla_breach_expected", "code": "trend.sla_breach_expected" if days else "trend.sla_breached",
            "params": {"scope": label, "arrived": arrived, "finished": finished, "recent_days": RECENT_DAYS,
                       "queue": queue, "clearing_days": None if math.isinf(clearing) else round(clearing, 1),
                       "sla_days": round(sla_days, 1), "days": round(days)},
            **scope, "queue": queue, "arrivals_per_day": round(arrivals, 2),
            "throughput_per_day": round(throughput, 2), "sla_days": round(sla_days, 2),
            "clearing_days": None if math.isinf(clearing) else round(clearing, 2), "days_to_breach": round(days, 1),
            "message": (f"{label}: {arrived} tasks arrived and {finished} were completed in {RECENT_DAYS} days; "
                        f"{queue} open tasks take {clearing:.1f} days to clear against an SLA of {sla_days:.1f} days "
                        f"— {when}")}


def trends(store: GraphStore, workflow: str | None = None, *, now: int, zone: str = "UTC") -> dict[str, Any]:
    """Weekly series per workflow, step and department (weeks local to ``zone``), and the warnings they raise."""
    def compute() -> dict[str, Any]:
        tables = tables_for(store, workflow)
        names = {row["key"]: row["name"] or row["key"] for row in workflow_keys(store)}
        label = directory(store).label
        scoped: list[tuple[dict[str, Any], Measures, np.ndarray]] = []
        for table in tables:
            measures = Measures(table, now)
            flow = {"workflow": table.workflow, "workflow_name": names.get(table.workflow, table.workflow)}
            scoped.append((flow, measures, np.arange(len(table))))
            scoped.extend(({**flow, "step": table.steps[code], "step_name": table.step_names[code]}, measures, idx)
                          for code, idx in groups(table.step))
        if tables:
            combined = concat(tables)
            measures = Measures(combined, now)
            scoped.extend(({"department_id": combined.departments[code],
                            "department": label(combined.departments[code])}, measures, idx)
                          for code, idx in groups(combined.department))
        series, warnings = [], []
        for scope, measures, idx in scoped:
            weekly_series = weekly(measures, idx, zone)
            series.append({**scope, **weekly_series})
            for warning in (_rising_warning(scope, weekly_series), _queue_warning(scope, measures, idx, now)):
                if warning:
                    warnings.append(warning)
        return {"now": now, "series": series, "warnings": warnings}
    return cache.cached(store, ("trends", workflow, zone, now // 60_000), compute)
