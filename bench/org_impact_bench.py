"""Reorganisation impact preview (graph/org_impact.py) at company scale on embedded FalkorDB.

Usage: .venv/bin/python bench/org_impact_bench.py [--people 5000] [--documents 100000]
Builds the synthetic organisation of bench/permission_bench.py in a private, temporary embedded
server, then times the preview of: one person joining a department, moving a department (with its
teams) under another division, deactivating a project, and an org import dry run that moves every
member of one team. Then it applies the move and checks the preview against the readable sets the
permission cache answers afterwards for every person the preview named (and a sample of the rest).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from permission_bench import build

from graph import org, org_impact, org_io
from graph import permissions as perm
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    directory = Path(tempfile.mkdtemp(prefix="ht-impact-"))
    server = EmbeddedServer(directory)
    server.ensure_running()
    try:
        store = FalkorStore(server, "impact_bench")
        store.ensure_schema()
        build_ms, sizes = timed(lambda: build(store, args.people, args.documents, rng))
        print(f"built {sizes} in {build_ms / 1000:.1f} s", flush=True)
        index_ms, _ = timed(lambda: perm.readable_set(store, org_impact.NOBODY))
        people = [f"person{i}" for i in range(args.people)]
        snapshot_ms, _ = timed(lambda: org_io.snapshot(store))  # the organisation as it is, read once per preview

        join_ms, join = timed(lambda: org_impact.preview_membership(store, people[7], "department",
                                                                   code="div1-dep2", add=True))
        move_ms, move = timed(lambda: org_impact.preview_move(store, "div0-dep0", "div1"))
        project_ms, project = timed(lambda: org_impact.preview_status(store, "project", "proj3", False))
        export = directory / "org"
        org_io.write_export(store, export)
        memberships = (export / "memberships.csv").read_text(encoding="utf-8-sig")
        moved = memberships.replace(",department,div2-dep1-team0\n", ",department,div3-dep0-team1\n")
        (export / "memberships.csv").write_text(moved, encoding="utf-8-sig")
        import_ms, plan = timed(lambda: org_io.plan_import(store, org_io.read_paths([export])))
        print(f"preview: join {join_ms:.0f} ms ({len(join.changes)} person), move {move_ms:.0f} ms "
              f"({len(move.changes)} people, +{move.gained} / -{move.lost}), project {project_ms:.0f} ms "
              f"({len(project.changes)} people), import dry run {import_ms:.0f} ms "
              f"({len(plan.access_changes or [])} people)", flush=True)

        named = {c.person_id: (c.gained, c.lost) for c in move.changes}
        sample = set(rng.sample(people, min(300, len(people)))) | set(named)
        before = {p: perm.readable_document_ids(store, p) for p in sample}
        org.move_department(store, "div0-dep0", "div1")
        after = {p: perm.readable_document_ids(store, p) for p in sample}
        really = {p: (len(after[p] - before[p]), len(before[p] - after[p])) for p in sample if after[p] != before[p]}
        exact = really == named
        print(f"move applied: preview {'matches' if exact else 'DIFFERS from'} the readable sets of "
              f"{len(sample)} people", flush=True)
        print(json.dumps({"people": args.people, "documents": args.documents, "index_build_ms": round(index_ms),
                          "snapshot_ms": round(snapshot_ms, 1),
                          "preview_join_ms": round(join_ms, 1), "preview_move_ms": round(move_ms, 1),
                          "move_people": len(move.changes), "preview_project_ms": round(project_ms, 1),
                          "import_dry_run_ms": round(import_ms, 1),
                          "import_people": len(plan.access_changes or []), "move_preview_exact": exact}))
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
