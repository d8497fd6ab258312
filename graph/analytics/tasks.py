"""Tasks of a workflow as numpy columns: the one input of every bottleneck, trend and handoff figure.

One Cypher read per workflow key (all its versions, engine runs and imported history alike).
Times stay epoch milliseconds as float64 with NaN for "not happened / unknown".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from graph.analytics import cache
from graph.queries import analytics as q
from graph.store import GraphStore

SEP = "\x1f"
OPEN_STATUSES = ("open", "info_requested")


@dataclass
class TaskTable:
    workflow: str
    ids: np.ndarray  # str
    run: np.ndarray  # int codes into ``runs``
    step: np.ndarray  # int codes into ``steps``
    round: np.ndarray  # float
    created: np.ndarray
    opened: np.ndarray  # first opened or claimed, whichever came first
    completed: np.ndarray
    due: np.ndarray
    is_open: np.ndarray  # bool
    cancelled: np.ndarray  # bool
    arrival_known: np.ndarray  # bool
    person: np.ndarray  # int codes into ``people`` (-1 none)
    department: np.ndarray  # int codes into ``departments`` (-1 none)
    steps: list[str] = field(default_factory=list)
    step_names: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    people: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)  # department ids (a bare name when none matches)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Directory:
    """Who belongs where, for tasks that name only their assignee (the engine's own tasks).

    Departments are keyed by id everywhere: names are not unique (two "综合科" under different
    parents), so a name only ever labels a department for the reader."""

    person_department: dict[str, str]  # person id -> department id
    person_name: dict[str, str]
    department_name: dict[str, str]  # department id -> name
    ids_by_name: dict[str, tuple[str, ...]] = field(default_factory=dict)
    person_departments: dict[str, tuple[str, ...]] = field(default_factory=dict)  # every membership

    def label(self, key: str | None) -> str:
        """What the reader sees for a department key (its name; a bare name stays itself)."""
        return self.department_name.get(key or "", key or "")

    def resolve(self, name: str, person_id: str = "") -> str:
        """The department id a task's department *name* stands for: the assignee's own department of that
        name, else the one department so named; a name no department (or several) carries stays as is."""
        candidates = self.ids_by_name.get(name, ())
        if len(candidates) == 1:
            return candidates[0]
        mine = [d for d in self.person_departments.get(person_id, ()) if d in candidates]
        return mine[0] if mine else name


def directory(store: GraphStore) -> Directory:
    def load() -> Directory:
        people = store.run(q.PERSON_DEPARTMENTS)
        departments = store.run(q.DEPARTMENT_NAMES)
        by_name: dict[str, list[str]] = {}
        for row in departments:
            by_name.setdefault(row["name"], []).append(row["id"])
        memberships: dict[str, list[str]] = {}
        for row in people:
            memberships.setdefault(row["person_id"], []).append(row["department_id"])
        return Directory(person_department={r["person_id"]: r["department_id"] for r in people},
                         person_name={r["person_id"]: r["person_name"] for r in people},
                         department_name={r["id"]: r["name"] for r in departments},
                         ids_by_name={k: tuple(sorted(v)) for k, v in by_name.items()},
                         person_departments={k: tuple(v) for k, v in memberships.items()})
    return cache.cached(store, ("directory",), load)


def workflow_keys(store: GraphStore) -> list[dict[str, Any]]:
    return store.run(q.WORKFLOW_KEYS)


def step_names(store: GraphStore) -> list[dict[str, Any]]:
    """``{workflow, step, name, name_en}`` of every step key the workflows' definitions name (the current
    version's names first): the rows themselves carry the Chinese name a task was made with."""
    return store.run(q.STEP_NAMES)


def load_table(store: GraphStore, key: str) -> TaskTable:
    """The tasks of workflow ``key`` (cached until tasks change)."""
    return cache.cached(store, ("tasks", key), lambda: _load(store, key))


def _codes(values: list[str]) -> tuple[np.ndarray, list[str]]:
    index: dict[str, int] = {}
    codes = np.fromiter((index.setdefault(v, len(index)) if v else -1 for v in values), dtype=np.int64,
                        count=len(values))
    return codes, list(index)


def _times(column: list[str]) -> np.ndarray:
    return np.array([float(v) if v else np.nan for v in column], dtype=np.float64)


def _load(store: GraphStore, key: str) -> TaskTable:
    rows = store.run(q.TASK_ROWS, {"key": key, "sep": SEP})
    if not rows:
        return empty_table(key)
    fields = q.TASK_FIELDS
    columns: dict[str, list[str]] = {name: [] for name in fields}
    appenders = [columns[name].append for name in fields]
    for row in rows:
        for append, value in zip(appenders, row["row"].split(SEP), strict=True):
            append(value)
    people_dir = directory(store)
    people, departments = [], []
    for kind, assignee, name, dept in zip(columns["assignee_kind"], columns["assignee_id"],
                                          columns["assignee_name"], columns["department"], strict=True):
        if kind == "person":
            people.append(people_dir.person_name.get(assignee, name) + SEP + assignee)
            departments.append(people_dir.resolve(dept, assignee) if dept
                               else people_dir.person_department.get(assignee, ""))
        elif kind == "department" and assignee in people_dir.department_name:
            people.append("")
            departments.append(assignee)
        else:
            # A queue (position) or a log's resource: the name is all we have.
            people.append(name + SEP + name if (kind == "external" and name) else "")
            named = dept or (name if kind == "department" else "")
            departments.append(people_dir.resolve(named) if named else "")
    status = np.array(columns["status"], dtype=object)
    step_codes, steps = _codes(columns["step"])
    names: dict[str, str] = {}
    for step_key, step_name in zip(columns["step"], columns["step_name"], strict=True):
        names.setdefault(step_key, step_name or step_key)
    run_codes, runs = _codes(columns["run_id"])
    person_codes, person_keys = _codes(people)
    dept_codes, dept_names = _codes(departments)
    opened, claimed = _times(columns["opened_at"]), _times(columns["claimed_at"])
    return TaskTable(
        workflow=key, ids=np.array(columns["id"], dtype=object), run=run_codes, step=step_codes,
        round=_times(columns["round"]), created=_times(columns["created_at"]), opened=np.fmin(opened, claimed),
        completed=_times(columns["completed_at"]), due=_times(columns["due_at"]),
        is_open=np.isin(status, OPEN_STATUSES), cancelled=status == "cancelled",
        arrival_known=np.array([v != "false" for v in columns["arrival_known"]], dtype=bool),
        person=person_codes, department=dept_codes, steps=steps, step_names=[names[s] for s in steps], runs=runs,
        people=person_keys, departments=dept_names)


def _remap(tables: list[TaskTable], attr: str, names: Callable[[TaskTable], list[str]]) -> tuple[np.ndarray, list[str]]:
    index: dict[str, int] = {}
    parts = []
    for table in tables:
        # A trailing -1 so that code -1 ("none") maps to itself.
        mapping = np.array([index.setdefault(n, len(index)) for n in names(table)] + [-1], dtype=np.int64)
        parts.append(mapping[getattr(table, attr)])
    return np.concatenate(parts), list(index)


def concat(tables: list[TaskTable]) -> TaskTable:
    """Several workflows' tables as one (codes re-mapped; step keys become ``workflow<SEP>step``)."""
    if len(tables) == 1:
        return tables[0]
    if not tables:
        return empty_table("*")
    run, runs = _remap(tables, "run", lambda t: t.runs)
    person, people = _remap(tables, "person", lambda t: t.people)
    dept, departments = _remap(tables, "department", lambda t: t.departments)
    step, steps = _remap(tables, "step", lambda t: [f"{t.workflow}{SEP}{s}" for s in t.steps])
    names = {f"{t.workflow}{SEP}{s}": n for t in tables for s, n in zip(t.steps, t.step_names, strict=True)}

    def cat(attr: str) -> np.ndarray:
        return np.concatenate([getattr(t, attr) for t in tables])

    return TaskTable(workflow="*", ids=cat("ids"), run=run, step=step, round=cat("round"), created=cat("created"),
                     opened=cat("opened"), completed=cat("completed"), due=cat("due"), is_open=cat("is_open"),
                     cancelled=cat("cancelled"), arrival_known=cat("arrival_known"), person=person, department=dept,
                     steps=steps, step_names=[names[s] for s in steps], runs=runs, people=people,
                     departments=departments)


def empty_table(key: str) -> TaskTable:
    none = np.zeros(0, dtype=np.float64)
    codes = np.zeros(0, dtype=np.int64)
    flags = np.zeros(0, dtype=bool)
    return TaskTable(workflow=key, ids=np.zeros(0, dtype=object), run=codes, step=codes, round=none, created=none,
                     opened=none, completed=none, due=none, is_open=flags, cancelled=flags, arrival_known=flags,
                     person=codes, department=codes)


def person_label(key: str) -> tuple[str, str]:
    """(name, id) of a person key of :attr:`TaskTable.people`."""
    name, _, pid = key.partition(SEP)
    return name, pid
