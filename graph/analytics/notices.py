"""Trend warnings as in-app notifications to the managers responsible, at most once per scope and week.

Responsible for a department's warning are its heads; for a workflow's or a step's, the heads of the
departments that handle at least :data:`MIN_SHARE` of its tasks (the administrators when nobody is).
Each notice points at the scope's most recent task, so it opens on real work. Notice ids derive from
warning kind, scope, ISO week (the organisation's, as the trend series count weeks) and recipient (see
:func:`graph.workflows.reminders.notification`): running the scan again, from any number of workers,
notifies nobody twice.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from graph.analytics import trend_words, trends
from graph.analytics.bottlenecks import tables_for
from graph.analytics.dashboard import period_bounds
from graph.analytics.tasks import TaskTable, concat, step_names, workflow_keys
from graph.names import in_language
from graph.queries import analytics as aq
from graph.queries import dashboard as q
from graph.queries import workflows as wq
from graph.store import GraphStore
from graph.workflows import reminders

KIND = "trend_warning"
MIN_SHARE = 0.2
ADMIN_ROLE = "admin"


def scope_label(warning: dict[str, Any]) -> str:
    return trends.scope_label(warning)


def named(store: GraphStore, notices: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
    """The notices with every trend notice's scope named for a reader of ``lang`` (English names where they
    exist, :func:`graph.names.in_language`): as its ``title`` and as ``scope_name`` for its text. A notice
    stored before scopes were kept by key shows the names it stored."""
    if not any(n.get("kind") == KIND and trend_words.notice_scope(n) for n in notices):
        return notices  # the usual list: no names to look up
    flows = {r["key"]: in_language(r["name"], r.get("name_en"), lang) for r in workflow_keys(store) if r["key"]}
    steps = {(r["workflow"], r["step"]): in_language(r["name"], r["name_en"], lang) for r in step_names(store)}
    units = {r["id"]: in_language(r["name"], r["name_en"], lang) for r in store.run(aq.DEPARTMENT_NAMES)}
    out = []
    for notice in notices:
        scope = trend_words.notice_scope(notice) if notice.get("kind") == KIND else {}
        if not scope:
            out.append(notice)
            continue
        flow, step, unit = scope.get("workflow", ""), scope.get("step", ""), scope.get("department_id", "")
        parts = (flows.get(flow) or flow, steps.get((flow, step)) or step, units.get(unit) or unit)
        label = " / ".join(p for p in parts if p)
        out.append({**notice, "title": label, "scope_name": label})
    return out


def _scope_tasks(table: TaskTable, warning: dict[str, Any]) -> np.ndarray:
    mask = ~table.cancelled & ~np.isnan(table.created)
    if warning.get("workflow"):
        mask &= np.array([w == warning["workflow"] for w in _workflow_of(table)], dtype=bool)
    if warning.get("step"):
        codes = [i for i, s in enumerate(table.steps) if s.rpartition("\x1f")[2] == warning["step"]]
        mask &= np.isin(table.step, codes)
    if warning.get("department_id"):
        codes = [i for i, d in enumerate(table.departments) if d == warning["department_id"]]
        mask &= np.isin(table.department, codes)
    return np.flatnonzero(mask)


def _workflow_of(table: TaskTable) -> list[str]:
    if table.workflow != "*":
        return [table.workflow] * len(table)
    # Steps of a combined table are "<workflow>\x1f<step>": the workflow of each task follows from its step.
    step_workflow = [s.partition("\x1f")[0] for s in table.steps]
    return [step_workflow[c] if c >= 0 else "" for c in table.step.tolist()]


def responsible(table: TaskTable, idx: np.ndarray, warning: dict[str, Any]) -> list[str]:
    """Ids of the departments responsible for the warning's scope."""
    if warning.get("department_id"):
        return [warning["department_id"]]
    codes = table.department[idx]
    codes = codes[codes >= 0]
    if not codes.size:
        return []
    counts = np.bincount(codes)
    return sorted(table.departments[c] for c in np.flatnonzero(counts >= MIN_SHARE * codes.size))


def recipients(store: GraphStore, departments: list[str]) -> list[str]:
    heads = {h for row in store.run(q.HEADS_OF_DEPARTMENTS, {"ids": departments}) for h in row["heads"]}
    if not heads:
        heads = {row["id"] for row in store.run(wq.ADMINS, {"role": ADMIN_ROLE})}
    return sorted(heads)


def notify_trend_warnings(store: GraphStore, *, now: int, zone: str = "UTC") -> list[dict[str, Any]]:
    """Notify the responsible managers of every current warning (weeks local to ``zone``, the organisation's
    ``HUITONG_TIMEZONE``); returns the notifications that are new."""
    warnings = trends.trends(store, now=now, zone=zone)["warnings"]
    if not warnings:
        return []
    table = concat(tables_for(store, None))
    week = period_bounds(now, "week", 1, zone)[0]["label"]
    rows = []
    for warning in warnings:
        idx = _scope_tasks(table, warning)
        if not idx.size:
            continue
        latest = str(table.ids[idx[int(np.argmax(table.created[idx]))]])
        cards = store.run(q.TASK_CARDS, {"ids": [latest]})
        if not cards:
            continue
        label = scope_label(warning)
        task = {**cards[0], "title": label}
        key = f"{warning['kind']}|{label}|{week}"
        for person_id in recipients(store, responsible(table, idx, warning)):
            row = reminders.notification(KIND, task, person_id, now, key=key)
            row["props"].update(trend_words.notice_fields(warning))  # worded in the reader's language
            rows.append(row)
    fresh = set(reminders.notify(store, rows, now=now))
    return [r["props"] for r in rows if r["props"]["id"] in fresh]
