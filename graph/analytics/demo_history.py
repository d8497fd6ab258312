"""Twelve months of realistic workflow history on the demo organisation and the built-in templates.

Two things are wrong on purpose, so the analytics have something to find:
- the Legal department (法务部) is slow: its contract reviews take days where other steps take hours;
- the expense workflow's finance review (财务审核) gets slower week after week over the last six months.
Everything else is ordinary noise: lognormal waiting and processing times, working-hour starts,
a few rejections that send a run back (rework), and runs still open at ``now``.

Runs are generated from a seeded generator with ids derived from the seed and their position, so
loading again (even later) adds nothing. Written in batches straight to the graph in the shape the
engine gives its own runs (it would take minutes to replay a year through the engine's actions).
"""

from __future__ import annotations

import json
import math
import random
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from graph.analytics import cache
from graph.demo_org import build_org
from graph.queries import analytics as q
from graph.queries import meta
from graph.queries import workflows as wq
from graph.store import GraphStore
from graph.workflows.runs import current_definition
from graph.workflows.sla import DEFAULT_CALENDAR, due_at
from graph.workflows.templates import install_templates

NAMESPACE = uuid.UUID("3c1d2b8e-9f4a-4e61-8f0b-6a7d5e4c3b21")
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
WEEKS = 52
RUNS_PER_WEEK = {"expense": 25, "contract-review": 9, "project-initiation": 3}
SLOW_DEPARTMENT = "LEGAL"
WORSENING = ("expense", "finance")
META_KEY = "demo_history"
RUNS_PER_BATCH = 400

# Typical (median) waiting and processing hours per department code; others use DEFAULT_HOURS.
DEFAULT_HOURS = (2.0, 1.5)
DEPARTMENT_HOURS = {"LEGAL": (30.0, 40.0), "FIN-TRS": (5.0, 2.0), "GMO": (4.0, 1.0), "FIN-ACC": (3.0, 3.0)}
REJECT_RATE = {"finance": 0.08, "legal": 0.06, "countersign": 0.05}


@dataclass(frozen=True)
class HistoryResult:
    created_runs: int
    skipped_runs: int
    tasks: int
    comments: int
    seconds: float


class _People:
    """Who does what in the demo organisation (the same seed as the loader)."""

    def __init__(self) -> None:
        rows = build_org()
        self.name = {str(p["id"]): str(p["name"]) for p in rows.people}
        code = {d["id"]: str(d["code"]) for d in rows.departments}
        self.dept_name = {str(d["code"]): str(d["name"]) for d in rows.departments}
        self.dept_of: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        for m in rows.memberships:
            self.dept_of[str(m["person_id"])] = code[m["department_id"]]
            self.members.setdefault(code[m["department_id"]], []).append(str(m["person_id"]))
        self.head = {code[h["department_id"]]: str(h["person_id"]) for h in rows.heads}
        holders: dict[str, list[str]] = {}
        positions = {p["id"]: str(p["code"]) for p in rows.positions}
        for h in rows.holds:
            holders.setdefault(positions[h["position_id"]], []).append(str(h["person_id"]))
        self.budget_owners = sorted(holders["BUDGET-OWNER"])
        self.staff = [p for d, people in sorted(self.members.items()) if d not in ("GMO",)
                      for p in people if p != self.head.get(d)]

    def worker(self, rng: random.Random, code: str) -> str:
        people = [p for p in self.members[code] if p != self.head.get(code)] or self.members[code]
        return rng.choice(people)


def _responsible(step_key: str, workflow: str, initiator: str, people: _People, rng: random.Random) -> list[str]:
    """Person(s) who handle a step of a run, following the templates' routing rules."""
    home = people.dept_of[initiator]
    head = people.head.get(home)
    if head == initiator or head is None:
        head = people.head["GMO"]
    table = {
        ("expense", "head"): [head], ("expense", "budget"): [rng.choice(people.budget_owners)],
        ("expense", "finance"): [people.worker(rng, "FIN-ACC")],
        ("expense", "payment"): [people.worker(rng, "FIN-TRS")],
        ("project-initiation", "head"): [head],
        ("project-initiation", "countersign"): [people.head["FIN"], people.head["RND"]],
        ("project-initiation", "gm"): [people.head["GMO"]],
        ("contract-review", "head"): [head], ("contract-review", "legal"): [people.worker(rng, "LEGAL")],
        ("contract-review", "finance"): [people.worker(rng, "FIN")], ("contract-review", "gm"): [people.head["GMO"]],
    }
    return table[(workflow, step_key)]


def _hours(rng: random.Random, median: float, sigma: float = 0.7) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _working_start(rng: random.Random, week_start: datetime) -> int:
    """A start time on a weekday between 09:00 and 18:00 (Shanghai, UTC+8) of that week."""
    day = week_start + timedelta(days=rng.randrange(5))
    moment = day.replace(hour=1) + timedelta(minutes=rng.randrange(9 * 60))  # 01:00 UTC = 09:00 +08:00
    return int(moment.timestamp() * 1000)


class _Generator:
    def __init__(self, store: GraphStore, now: int, seed: int, scale: float) -> None:
        self.now = now
        self.scale = scale
        self.seed = seed
        self.rng = random.Random(seed)
        self.people = _People()
        self.workflows: dict[str, dict[str, Any]] = {}
        for key in RUNS_PER_WEEK:
            workflow = current_definition(store, key)
            steps = {s["key"]: s["id"] for s in store.run(wq.WORKFLOW_STEPS, {"id": workflow["id"]})}
            self.workflows[key] = {**workflow, "step_ids": steps}
        self.first_week = datetime.fromtimestamp(now / 1000, UTC).replace(hour=0, minute=0, second=0,
                                                                          microsecond=0)
        self.first_week -= timedelta(days=self.first_week.weekday() + 7 * WEEKS)

    def _id(self, *parts: object) -> str:
        return str(uuid.uuid5(NAMESPACE, "\x1f".join(str(p) for p in (self.seed, *parts))))

    def runs(self) -> list[dict[str, Any]]:
        out = []
        for week in range(WEEKS + 1):
            week_start = self.first_week + timedelta(weeks=week)
            for key, base in RUNS_PER_WEEK.items():
                per_week = max(round(base * self.scale), 1)
                for n in range(self.rng.randint(max(per_week - 3, 1), per_week + 3)):
                    started = _working_start(self.rng, week_start)
                    if started < self.now:
                        out.append(self._run(key, week, n, started))
        return out

    def _slowdown(self, workflow: str, step: str, at: int) -> float:
        """The worsening step: 1x until six months ago, then rising steadily to about 5x now."""
        if (workflow, step) != WORSENING:
            return 1.0
        onset = self.now - 26 * 7 * DAY_MS
        return 1.0 + 4.0 * max(0.0, (at - onset) / (self.now - onset))

    def _run(self, key: str, week: int, n: int, started: int) -> dict[str, Any]:
        rng, people = self.rng, self.people
        workflow = self.workflows[key]
        definition = workflow["definition"]
        initiator = rng.choice(people.staff)
        run_id = self._id("run", key, week, n)
        title = f"{workflow['name']} · {people.name[initiator]} · W{week + 1}-{n + 1}"
        tasks: list[dict[str, Any]] = []
        clock, round_, rejected = started, 0, False
        index = 0
        outcome = "approved"
        while index < len(definition["steps"]):
            step = definition["steps"][index]
            round_ += 1
            ends = []
            reject_here = not rejected and rng.random() < REJECT_RATE.get(step["key"], 0.0)
            for person in _responsible(step["key"], key, initiator, people, rng):
                task, end = self._task(run_id, workflow, step, person, initiator, title, round_, clock,
                                       reject_here)
                tasks.append(task)
                ends.append(end)
            if any(e is None for e in ends):
                return self._pack(workflow, run_id, title, initiator, started, tasks, "running", step["key"], round_)
            clock = max(e for e in ends if e is not None)
            if reject_here:
                rejected = True
                target = step["on_reject"]
                if target["to"] == "end":
                    outcome = "rejected"
                    break
                # Back to an earlier step (or, for the initiator, to the first step after a fix).
                keys = [s["key"] for s in definition["steps"]]
                index = keys.index(target["step"]) if target["to"] == "step" else 0
                clock += int(_hours(rng, 6.0) * HOUR_MS) if target["to"] == "initiator" else 0
                continue
            index += 1
        return self._pack(workflow, run_id, title, initiator, started, tasks, "closed", None, round_, outcome, clock)

    def _task(self, run_id: str, workflow: dict[str, Any], step: dict[str, Any], person: str, initiator: str,
              title: str, round_: int, created: int, reject: bool) -> tuple[dict[str, Any], int | None]:
        rng, people = self.rng, self.people
        code = people.dept_of[person]
        wait_h, work_h = DEPARTMENT_HOURS.get(code, DEFAULT_HOURS)
        slow = self._slowdown(workflow["key"], step["key"], created)
        opened = created + int(_hours(rng, wait_h * slow) * HOUR_MS)
        completed = opened + int(_hours(rng, work_h * slow) * HOUR_MS)
        props: dict[str, Any] = {
            "id": self._id("task", run_id, round_, person), "kind": "approval", "run_id": run_id, "round": round_,
            "title": title, "workflow_key": workflow["key"], "workflow_name": workflow["name"],
            "step_key": step["key"], "step_name": step["name"]["zh"], "step_name_en": step["name"]["en"],
            "approval": step["approval"], "group": "base", "created_at": created,
            "due_at": due_at(created, step["sla"], DEFAULT_CALENDAR), "assignee_kind": "person",
            "assignee_id": person, "assignee_name": people.name[person], "initiator_id": initiator,
            "initiator_name": people.name[initiator], "department": people.dept_name[code],
            "source": "demo_history", "search": title.lower(),
        }
        end: int | None = completed
        if completed > self.now:
            props["status"] = "open"
            if opened <= self.now:
                props["first_opened_at"] = opened
            end = None
        else:
            props.update(status="done", outcome="rejected" if reject else "approved", first_opened_at=opened,
                         completed_at=completed)
        return {"step_id": workflow["step_ids"][step["key"]], "person_id": person, "props": props}, end

    def _pack(self, workflow: dict[str, Any], run_id: str, title: str, initiator: str, started: int,
              tasks: list[dict[str, Any]], status: str, current_step: str | None, round_: int,
              outcome: str | None = None, ended: int | None = None) -> dict[str, Any]:
        open_due = [t["props"]["due_at"] for t in tasks if t["props"]["status"] == "open"]
        props = {
            "id": run_id, "kind": "workflow", "title": title, "workflow_id": workflow["id"],
            "workflow_key": workflow["key"], "workflow_name": workflow["name"], "workflow_name_en": workflow["name_en"],
            "version": workflow["version"], "status": status, "round": round_, "started_at": started,
            "initiator_id": initiator, "initiator_name": self.people.name[initiator], "form": json.dumps({}),
            "search": title.lower(), "current_step": current_step, "due_at": min(open_due) if open_due else None,
            "outcome": outcome, "ended_at": ended, "source": "demo_history",
        }
        return {"workflow_id": workflow["id"], "initiator_id": initiator,
                "props": {k: v for k, v in props.items() if v is not None}, "tasks": tasks}

    def comments(self, runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Initiators ask after about one run in five (a person-to-person exchange on a task)."""
        rows = []
        for run in runs:
            if self.rng.random() >= 0.2 or not run["tasks"]:
                continue
            task = self.rng.choice(run["tasks"])
            at = task["props"]["created_at"] + int(_hours(self.rng, 3.0) * HOUR_MS)
            if at > self.now:
                continue
            rows.append({"run_id": run["props"]["id"], "author_id": run["initiator_id"],
                         "task_id": task["props"]["id"],
                         "props": {"id": self._id("comment", task["props"]["id"]), "text": "请问进度如何？ Any news?",
                                   "at": at, "run_id": run["props"]["id"], "task_id": task["props"]["id"],
                                   "author_id": run["initiator_id"]}})
        return rows


def load_demo_history(store: GraphStore, *, now: int | None = None, seed: int = 2026,
                      scale: float = 1.0) -> HistoryResult:
    """Generate and load the history (needs the demo organisation; installs the templates).

    ``scale`` multiplies the number of runs per week (benchmarks use ~12 for 100k tasks).
    """
    started = time.perf_counter()
    now = int(time.time() * 1000) if now is None else now
    if not store.run(wq.PERSON_BY_USERNAME, {"username": "admin"}):
        raise RuntimeError("load the demo organisation first (huitong demo)")
    install_templates(store, now=now - (WEEKS + 2) * 7 * DAY_MS)
    generator = _Generator(store, now, seed, scale)
    runs = generator.runs()
    existing: set[str] = set()
    ids = [r["props"]["id"] for r in runs]
    for start in range(0, len(ids), 5000):
        existing.update(row["id"] for row in store.run(q.EXISTING_RUNS, {"ids": ids[start:start + 5000]}))
    fresh = [r for r in runs if r["props"]["id"] not in existing]
    tasks = 0
    for start in range(0, len(fresh), RUNS_PER_BATCH):
        rows = store.run(q.CREATE_DEMO_RUNS, {"runs": fresh[start:start + RUNS_PER_BATCH]})
        tasks += int(rows[0]["created"]) if rows else 0
    comments = generator.comments(fresh)
    for start in range(0, len(comments), 2000):
        store.run(q.CREATE_DEMO_COMMENTS, {"rows": comments[start:start + 2000]})
    if fresh:
        cache.bump(store)
        store.run(meta.SET_META, {"key": META_KEY, "value": str(seed)})
    return HistoryResult(created_runs=len(fresh), skipped_runs=len(runs) - len(fresh), tasks=tasks,
                         comments=len(comments), seconds=time.perf_counter() - started)
