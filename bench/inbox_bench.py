"""Inbox query latency with 100k tasks and 5k people on embedded FalkorDB (its own temporary server).

Loads a synthetic organisation (departments in a 3-level tree, positions, people) and 100k tasks
of 20k runs — most done, some open, a fifth of them in department / position queues — then
times the inbox queries of :mod:`graph.workflows.inbox` for random people. Prints the sizes and
p50/p95 per query; the last line is one JSON object of the figures.

    .venv/bin/python bench/inbox_bench.py [--tasks 100000] [--people 5000] [--samples 300]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.cypher import Statement
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from graph.workflows import inbox

HOUR = 3_600_000
NOW = 1_772_416_800_000
BATCH = 5000

# Bulk loading only (not part of the platform's catalogue).
LOAD_DEPARTMENTS = Statement("bench.departments", """
    UNWIND $rows AS row CREATE (d:Department {id: row.id, code: row.code, name: row.code})""", writes=True)
LOAD_PARENTS = Statement("bench.parents", """
    UNWIND $rows AS row MATCH (c:Department {id: row.id}) MATCH (p:Department {id: row.parent})
    CREATE (c)-[:PART_OF]->(p)""", writes=True)
LOAD_POSITIONS = Statement("bench.positions", """
    UNWIND $rows AS row CREATE (p:Position {id: row.id, code: row.code, name: row.code})""", writes=True)
LOAD_PEOPLE = Statement("bench.people", """
    UNWIND $rows AS row CREATE (p:Person {id: row.id, username: row.id, name: row.name, active: true})""",
                        writes=True)
LOAD_MEMBERS = Statement("bench.members", """
    UNWIND $rows AS row MATCH (p:Person {id: row.person}) MATCH (d:Department {id: row.dept})
    MATCH (s:Position {id: row.position}) CREATE (p)-[:MEMBER_OF]->(d) CREATE (p)-[:HOLDS]->(s)""", writes=True)
LOAD_RUNS = Statement("bench.runs", """
    UNWIND $rows AS row MATCH (me:Person {id: row.initiator}) MATCH (cc:Person {id: row.cc})
    CREATE (r:WorkflowRun) SET r += row.props CREATE (r)-[:INITIATED_BY]->(me) CREATE (r)-[:CC]->(cc)""",
                      writes=True)
LOAD_TASKS = Statement("bench.tasks", """
    UNWIND $rows AS row MATCH (r:WorkflowRun {id: row.run})
    CREATE (t:Task) SET t += row.props CREATE (t)-[:OF_RUN]->(r)""", writes=True)
ASSIGN_PEOPLE = Statement("bench.assign_people", """
    UNWIND $rows AS row MATCH (t:Task {id: row.task}) MATCH (a:Person {id: row.to})
    CREATE (t)-[:ASSIGNED_TO]->(a)""", writes=True)
ASSIGN_DEPARTMENTS = Statement("bench.assign_departments", """
    UNWIND $rows AS row MATCH (t:Task {id: row.task}) MATCH (a:Department {id: row.to})
    CREATE (t)-[:ASSIGNED_TO]->(a)""", writes=True)
ASSIGN_POSITIONS = Statement("bench.assign_positions", """
    UNWIND $rows AS row MATCH (t:Task {id: row.task}) MATCH (a:Position {id: row.to})
    CREATE (t)-[:ASSIGNED_TO]->(a)""", writes=True)

WORDS = ["报销", "差旅", "合同", "采购", "立项", "服务器", "培训", "招聘", "市场活动", "审计", "budget", "travel",
         "laptop", "renewal", "vendor", "license"]


def _load(store: FalkorStore, statement: Statement, rows: list[dict]) -> None:
    for i in range(0, len(rows), BATCH):
        store.run(statement, {"rows": rows[i:i + BATCH]})


def build(store: FalkorStore, n_people: int, n_tasks: int, rng: random.Random) -> dict[str, object]:
    depts, parents = [], []
    for top in range(10):
        top_id = f"d{top}"
        depts.append({"id": top_id, "code": f"D{top}"})
        for sub in range(3):
            sub_id = f"d{top}-{sub}"
            depts.append({"id": sub_id, "code": f"D{top}-{sub}"})
            parents.append({"id": sub_id, "parent": top_id})
            for team in range(3):
                team_id = f"d{top}-{sub}-{team}"
                depts.append({"id": team_id, "code": f"D{top}-{sub}-{team}"})
                parents.append({"id": team_id, "parent": sub_id})
    positions = [{"id": f"p{i}", "code": f"P{i}"} for i in range(40)]
    people = [{"id": f"u{i}", "name": f"person {i}"} for i in range(n_people)]
    teams = [d["id"] for d in depts if d["id"].count("-") == 2]
    members = [{"person": p["id"], "dept": rng.choice(teams), "position": rng.choice(positions)["id"]}
               for p in people]
    _load(store, LOAD_DEPARTMENTS, depts)
    _load(store, LOAD_PARENTS, parents)
    _load(store, LOAD_POSITIONS, positions)
    _load(store, LOAD_PEOPLE, people)
    _load(store, LOAD_MEMBERS, members)

    n_runs = n_tasks // 5
    runs = []
    for i in range(n_runs):
        words = " ".join(rng.sample(WORDS, 3))
        status = "running" if rng.random() < 0.2 else "closed"
        runs.append({"initiator": f"u{rng.randrange(n_people)}", "cc": f"u{rng.randrange(n_people)}", "props": {
            "id": f"r{i}", "kind": "workflow", "title": words, "status": status, "round": 1, "workflow_key": "expense",
            "started_at": NOW - rng.randrange(90 * 24) * HOUR, "due_at": NOW + rng.randrange(-48, 96) * HOUR,
            "search": words}})
    _load(store, LOAD_RUNS, runs)
    tasks, to_people, to_depts, to_positions = [], [], [], []
    for i in range(n_tasks):
        run = runs[i // 5]
        task_id = str(uuid.UUID(int=rng.getrandbits(128)))
        open_ = rng.random() < 0.15
        props = {"id": task_id, "kind": "approval", "status": "open" if open_ else "done",
                 "run_id": run["props"]["id"], "title": run["props"]["title"], "workflow_key": "expense",
                 "created_at": NOW - rng.randrange(90 * 24) * HOUR, "due_at": NOW + rng.randrange(-48, 96) * HOUR,
                 "search": run["props"]["search"], "step_name": "审批"}
        kind = rng.random()
        if kind < 0.8 or not open_:
            to_people.append({"task": task_id, "to": f"u{rng.randrange(n_people)}"})
            props.update(assignee_kind="person")
        elif kind < 0.9:
            to_depts.append({"task": task_id, "to": rng.choice(teams)})
            props.update(assignee_kind="department")
        else:
            to_positions.append({"task": task_id, "to": rng.choice(positions)["id"]})
            props.update(assignee_kind="position")
        tasks.append({"run": run["props"]["id"], "props": props})
    _load(store, LOAD_TASKS, tasks)
    _load(store, ASSIGN_PEOPLE, to_people)
    _load(store, ASSIGN_DEPARTMENTS, to_depts)
    _load(store, ASSIGN_POSITIONS, to_positions)
    return {"people": n_people, "departments": len(depts), "positions": len(positions), "runs": n_runs,
            "tasks": n_tasks, "open_tasks": sum(t["props"]["status"] == "open" for t in tasks),
            "queue_assigned_tasks": len(to_depts) + len(to_positions)}


def _time(fn, people: list[str]) -> dict[str, float]:  # type: ignore[no-untyped-def]
    for person in people[:20]:
        fn(person)  # warm-up
    samples = []
    for person in people:
        started = time.perf_counter()
        fn(person)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {"p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(samples[int(0.95 * (len(samples) - 1))], 2), "max_ms": round(samples[-1], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--people", type=int, default=5_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(11)
    directory = Path(tempfile.mkdtemp(prefix="ht-inbox-"))
    server = EmbeddedServer(directory)
    store: FalkorStore | None = None
    try:
        server.ensure_running()
        store = FalkorStore(server, "inbox_bench")
        store.ensure_schema()
        started = time.perf_counter()
        sizes = build(store, args.people, args.tasks, rng)
        load_s = time.perf_counter() - started
        print(f"loaded {sizes} in {load_s:.1f} s")
        people = [f"u{rng.randrange(args.people)}" for _ in range(args.samples)]
        figures: dict[str, object] = {**sizes, "load_s": round(load_s, 1), "samples": args.samples}
        queries = {
            "my_tasks": lambda p: inbox.my_tasks(store, p, now=NOW),
            "my_tasks_search": lambda p: inbox.my_tasks(store, p, now=NOW, search="合同"),
            "queue_tasks": lambda p: inbox.queue_tasks(store, p, now=NOW),
            "started_runs": lambda p: inbox.started_runs(store, p, now=NOW),
            "copied_runs": lambda p: inbox.copied_runs(store, p, now=NOW),
            "counts": lambda p: inbox.counts(store, p, now=NOW),
        }
        for name, fn in queries.items():
            result = _time(fn, people)
            figures[name] = result
            print(f"{name:16s} p50 {result['p50_ms']:6.2f} ms   p95 {result['p95_ms']:6.2f} ms   "
                  f"max {result['max_ms']:6.2f} ms")
        worst = max(v["p95_ms"] for k, v in figures.items() if k in queries)  # type: ignore[index]
        figures["worst_p95_ms"] = worst
        figures["target_p95_ms"] = 30
        figures["meets_target"] = worst <= 30
        print(json.dumps(figures, ensure_ascii=False))
    finally:
        if store is not None:
            store.drop_all()
            store.close()
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
