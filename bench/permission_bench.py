"""Permission checks at company scale on embedded FalkorDB: can_read with its path, readable sets.

Usage: .venv/bin/python bench/permission_bench.py [--people 5000] [--documents 100000] [--samples 300]
Builds a synthetic organisation in a private, temporary embedded server (60 departments in a
3-level tree, positions, projects, documents with realistic shares at all four levels), then
times ``can_read`` (the one path query) and ``readable_document_ids`` cold (first call of a
process: index build; first call for a person: principals query) and warm, checks the readable
sets against the path query on a sample, and stops the server. The last line is one JSON object.
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
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph import permissions as perm
from graph.classification import ShareKind
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from graph.queries import org
from graph.queries import permissions as q

BATCH = 5000
LEVEL_WEIGHTS = {"public": 0.08, "internal": 0.5, "confidential": 0.32, "secret": 0.1}


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    pick = lambda f: ordered[min(len(ordered) - 1, int(f * len(ordered)))]  # noqa: E731
    return {"p50_ms": round(pick(0.5) * 1000, 3), "p95_ms": round(pick(0.95) * 1000, 3),
            "max_ms": round(ordered[-1] * 1000, 3)}


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def batched(store: FalkorStore, statement, rows: list[dict], **extra: object) -> None:  # type: ignore[no-untyped-def]
    for start in range(0, len(rows), BATCH):
        store.run(statement, {"rows": rows[start:start + BATCH], **extra})


def build(store: FalkorStore, people: int, documents: int, rng: random.Random) -> dict[str, int]:
    # 6 divisions x 3 departments x 2 teams = 6 + 18 + 36 = 60 departments in 3 levels.
    divisions = [f"div{i}" for i in range(6)]
    departments = [f"{d}-dep{j}" for d in divisions for j in range(3)]
    teams = [f"{d}-team{k}" for d in departments for k in range(2)]
    parent = {**{d: d.rsplit("-", 1)[0] for d in departments}, **{t: t.rsplit("-", 1)[0] for t in teams}}
    all_depts = divisions + departments + teams
    positions = [f"pos{i}" for i in range(40)]
    projects = [f"proj{i}" for i in range(60)]
    person_ids = [f"person{i}" for i in range(people)]

    store.run(org.UPSERT_DEPARTMENTS, {"rows": [{"id": d, "code": d, "name": f"部门 {d}", "name_en": d}
                                                for d in all_depts]})
    store.run(org.LINK_DEPARTMENT_PARENTS, {"rows": [{"id": c, "parent_id": p} for c, p in parent.items()]})
    store.run(org.UPSERT_POSITIONS, {"rows": [{"id": s, "code": s, "name": s, "name_en": s} for s in positions]})
    store.run(org.UPSERT_PROJECTS, {"rows": [{"id": j, "code": j, "name": j, "name_en": j} for j in projects]})
    batched(store, org.UPSERT_PEOPLE, [{"id": p, "username": p, "name": f"员工{i}", "email": f"{p}@x.example",
                                        "now": 0, "password_hash": None} for i, p in enumerate(person_ids)])
    home = {p: rng.choice(teams) if rng.random() < 0.9 else rng.choice(departments) for p in person_ids}
    batched(store, org.LINK_MEMBERSHIPS, [{"person_id": p, "department_id": d} for p, d in home.items()])
    holds = [{"person_id": p, "position_id": rng.choice(positions)} for p in person_ids]
    holds += [{"person_id": p, "position_id": rng.choice(positions)} for p in rng.sample(person_ids, people // 10)]
    batched(store, org.LINK_POSITIONS, holds)
    joins = [{"person_id": p, "project_id": rng.choice(projects)} for p in person_ids for _ in range(rng.randint(0, 2))]
    batched(store, org.LINK_PROJECT_MEMBERS, joins)
    store.run(org.GRANT_ROLES, {"rows": [{"person_id": p, "role": "admin"} for p in person_ids[:5]]})

    levels, weights = zip(*LEVEL_WEIGHTS.items(), strict=True)
    docs = []
    shares: dict[ShareKind, list[dict]] = {kind: [] for kind in ShareKind}
    for i in range(documents):
        owner = rng.choice(person_ids)
        level = rng.choices(levels, weights)[0]
        doc_id = f"doc{i}"
        docs.append({"id": doc_id, "title": f"文档 {i}", "access": level, "domain": None, "data_type": None,
                     "owner_id": owner})
        access = lambda: "edit" if rng.random() < 0.2 else "read"  # noqa: E731
        if level == "secret":
            for person in rng.sample(person_ids, rng.randint(1, 3)):
                shares[ShareKind.PERSON].append({"document_id": doc_id, "target_id": person, "access": access()})
            continue
        # Mostly the owner's own unit, sometimes a neighbour, a project or a position.
        unit = home[owner]
        for _ in range(rng.choices([1, 2, 3], [0.6, 0.3, 0.1])[0]):
            roll = rng.random()
            if roll < 0.55:
                target = unit if rng.random() < 0.6 else parent.get(unit, unit)
                shares[ShareKind.DEPARTMENT].append({"document_id": doc_id, "target_id": target, "access": access()})
            elif roll < 0.75:
                shares[ShareKind.PROJECT].append({"document_id": doc_id, "target_id": rng.choice(projects),
                                                  "access": access()})
            elif roll < 0.9 and level != "confidential":
                shares[ShareKind.POSITION].append({"document_id": doc_id, "target_id": rng.choice(positions),
                                                   "access": access()})
            else:
                shares[ShareKind.PERSON].append({"document_id": doc_id, "target_id": rng.choice(person_ids),
                                                 "access": access()})
    batched(store, q.UPSERT_DOCUMENTS, docs)
    for kind, rows in shares.items():
        batched(store, q.SHARE[kind], rows, actor_id="bench", now=0)
    return {"people": people, "departments": len(all_depts), "positions": len(positions), "projects": len(projects),
            "documents": documents, "shares": sum(len(rows) for rows in shares.values()),
            **{f"shares_{kind.value.lower()}": len(rows) for kind, rows in shares.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    directory = Path(tempfile.mkdtemp(prefix="ht-pbench-"))
    server = EmbeddedServer(directory)
    server.ensure_running()
    try:
        store = FalkorStore(server, "permission_bench")
        store.ensure_schema()
        load_s, sizes = timed(lambda: build(store, args.people, args.documents, rng))
        print(f"built {sizes} in {load_s:.1f} s", flush=True)
        people = [f"person{i}" for i in range(args.people)]
        pairs = [(rng.choice(people), f"doc{rng.randrange(args.documents)}") for _ in range(args.samples)]

        for person, doc in pairs[:20]:  # warm the connection and the engine's plan cache
            perm.can_read(store, person, doc)
        can_read_times, allowed = [], 0
        for person, doc in pairs:
            elapsed, access = timed(lambda p=person, d=doc: perm.can_read(store, p, d))
            can_read_times.append(elapsed)
            allowed += access.allowed  # type: ignore[attr-defined]
        can_edit_times = [timed(lambda p=p, d=d: perm.can_edit(store, p, d))[0] for p, d in pairs]

        cache = perm.cache_for(store)
        sample_people = rng.sample(people, min(args.samples, len(people)))
        index_build_s, _ = timed(lambda: cache.readable_document_ids(sample_people[0]))
        cold, warm, sizes_read = [], [], []
        for person in sample_people[1:]:
            elapsed, ids = timed(lambda p=person: cache.readable_document_ids(p))
            cold.append(elapsed)
            sizes_read.append(len(ids))  # type: ignore[arg-type]
        for person in sample_people[1:]:
            warm.append(timed(lambda p=person: cache.readable_document_ids(p))[0])
        bitmap_only = [timed(lambda p=person: cache.readable_set(p).bitmap)[0] for person in sample_people[1:]]

        # After a share by "another process", the next call replays the log (one document reload).
        catch_up = []
        for i in range(20):
            store.run(q.SHARE[ShareKind.PERSON], {"rows": [{"document_id": f"doc{i}", "target_id": sample_people[1],
                                                            "access": "read"}], "actor_id": "bench", "now": 0})
            catch_up.append(timed(lambda: cache.readable_document_ids(sample_people[1]))[0])

        # Exactness spot check: the readable set against the path query on random documents.
        mismatches = checked = 0
        for person in sample_people[1:11]:
            readable = cache.readable_document_ids(person)
            for doc in rng.sample(range(args.documents), 100):
                checked += 1
                mismatches += perm.can_read(store, person, f"doc{doc}").allowed != (f"doc{doc}" in readable)

        who_times = [timed(lambda d=d: perm.who_can_read(store, d, 1, 50))[0]
                     for d in (f"doc{rng.randrange(args.documents)}" for _ in range(50))]

        figures = {
            "sizes": sizes,
            "load_s": round(load_s, 1),
            "can_read": {**percentiles(can_read_times), "allowed_share": round(allowed / len(pairs), 3)},
            "can_edit": percentiles(can_edit_times),
            "readable_index_build_s": round(index_build_s, 3),
            "readable_cold_person": percentiles(cold),
            "readable_warm": percentiles(warm),
            "readable_bitmap_warm": percentiles(bitmap_only),
            "readable_after_remote_share": percentiles(catch_up),
            "readable_set_mean": round(statistics.mean(sizes_read)),
            "readable_set_max": max(sizes_read),
            "who_can_read_page": percentiles(who_times),
            "exactness_checked": checked,
            "exactness_mismatches": mismatches,
            "rebuilds": cache.rebuilds,
        }
        for key, value in figures.items():
            print(f"{key}: {value}")
        print(json.dumps(figures))
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
