"""Process analytics at 100k tasks on embedded FalkorDB: event-log import, bottleneck figures, trends,
collaboration graph.

Usage: .venv/bin/python bench/analytics_bench.py [--scale 12] [--events 100000]
In a private, temporary embedded server: (1) loads the demo organisation and ``--scale`` times the
demo history (12 months of engine-shaped runs, ~8.4k tasks per unit of scale), then times every
bottleneck figure cold (Cypher read + numpy) and warm (cache), the trend analysis and the
collaboration graph; (2) writes a synthetic XES log of ``--events`` events (start + complete
lifecycle), times its import and a second, idempotent import, and the figures over it. Stops the
server at the end. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graph.analytics import bottlenecks, cache, collaboration, trends
from graph.analytics.demo_history import load_demo_history
from graph.analytics.importer import import_log
from graph.demo_org import load_demo_org
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore

NOW = int(datetime(2026, 11, 2, 10, tzinfo=UTC).timestamp() * 1000)


def timed(fn: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn()
    return round(time.perf_counter() - start, 3), result


def write_xes(path: Path, events: int, rng: random.Random) -> int:
    """A log of sequential activities, each a start and a complete event; returns the number of cases."""
    activities = ["Register", "Triage", "Investigate", "Fix", "Verify", "Close"]
    groups = ["L1", "L2", "L3", "QA"]
    base = datetime(2024, 1, 1, tzinfo=UTC)
    written, cases = 0, 0
    with gzip.open(path, "wt", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<log xes.version="1.0" xmlns="http://www.xes-standard.org/">\n')
        while written < events:
            cases += 1
            out.write(f'<trace><string key="concept:name" value="case-{cases}"/>\n')
            clock = base + timedelta(hours=rng.uniform(0, 24 * 600))
            for activity in activities[:rng.randint(3, len(activities))]:
                clock += timedelta(minutes=rng.expovariate(1 / 180))
                start = clock
                clock += timedelta(minutes=rng.expovariate(1 / 45) + 1)
                who, group = f"user{rng.randrange(200)}", rng.choice(groups)
                for moment, transition in ((start, "start"), (clock, "complete")):
                    out.write(f'<event><string key="concept:name" value="{activity}"/>'
                              f'<string key="lifecycle:transition" value="{transition}"/>'
                              f'<string key="org:resource" value="{who}"/><string key="org:group" value="{group}"/>'
                              f'<date key="time:timestamp" value="{moment.isoformat()}"/></event>\n')
                    written += 1
            out.write("</trace>\n")
        out.write("</log>\n")
    return cases


def figures(store: FalkorStore, label: str) -> dict[str, object]:
    cache.clear()
    cold, report = timed(lambda: bottlenecks.report(store, now=NOW))
    warm, _ = timed(lambda: bottlenecks.report(store, now=NOW))
    cache.clear()
    cli, rows = timed(lambda: bottlenecks.cli_rows(store, now=NOW))
    trend_s, trend = timed(lambda: trends.trends(store, now=NOW))
    collab_s, graph = timed(lambda: collaboration.collaboration(store))
    assert isinstance(report, dict) and isinstance(trend, dict) and isinstance(graph, dict) and isinstance(rows, list)
    tasks = sum(w["count"] for w in report["workflows"])
    result = {f"{label}_tasks": tasks, f"{label}_steps": len(report["steps"]),
              f"{label}_departments": len(report["departments"]), f"{label}_people": len(report["people"]),
              f"{label}_report_cold_s": cold, f"{label}_report_warm_s": warm, f"{label}_cli_rows_cold_s": cli,
              f"{label}_trends_s": trend_s, f"{label}_warnings": len(trend["warnings"]),
              f"{label}_collaboration_s": collab_s, f"{label}_collaboration_nodes": len(graph["elements"]["nodes"]),
              f"{label}_collaboration_edges": len(graph["elements"]["edges"])}
    for key, value in result.items():
        print(f"{key:36} {value}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=12.0, help="Demo history multiplier (12 = ~100k tasks).")
    parser.add_argument("--events", type=int, default=100_000, help="Events of the synthetic XES log.")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ht-analytics-bench-"))
    server = EmbeddedServer(workdir / "graph")
    server.ensure_running()
    results: dict[str, object] = {}
    try:
        store = FalkorStore(server, "bench_history")
        store.ensure_schema()
        load_demo_org(store, "bench-password")
        seconds, history = timed(lambda: load_demo_history(store, now=NOW, scale=args.scale))
        print(f"demo history: {history.created_runs} runs, {history.tasks} tasks in {seconds} s")  # type: ignore[union-attr]
        results.update(history_load_s=seconds, history_runs=history.created_runs)  # type: ignore[union-attr]
        results.update(figures(store, "history"))
        store.close()

        log = workdir / "synthetic.xes.gz"
        cases = write_xes(log, args.events, random.Random(5))
        store = FalkorStore(server, "bench_log")
        store.ensure_schema()
        seconds, report = timed(lambda: import_log(store, log, now=NOW))
        again, second = timed(lambda: import_log(store, log, now=NOW))
        print(f"import: {report.events} events, {cases} cases, {report.tasks_created} tasks in {seconds} s "  # type: ignore[union-attr]
              f"({report.events / seconds:.0f} events/s); again: {second.tasks_created} new in {again} s")  # type: ignore[union-attr]
        results.update(import_events=report.events, import_cases=cases, import_s=seconds,  # type: ignore[union-attr]
                       import_events_per_s=round(report.events / seconds), reimport_s=again,  # type: ignore[union-attr]
                       reimport_new_tasks=second.tasks_created)  # type: ignore[union-attr]
        results.update(figures(store, "log"))
        store.close()
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
