"""Embedded FalkorDB: write throughput, 2-hop latency, and restart after ``kill -9``.

Usage: python bench/graph_bench.py [--small 10000] [--large 100000] [--links-per-person 5]
       [--batch 5000] [--queries 500] [--verbatim-probe 4000]

Each phase runs its own server on its own temporary data directory (removed at the end):

* ``scale_<N>``: load N people and 5N ``KNOWS`` relationships with ``UNWIND`` batches through the
  real store (nodes/s, relationships/s), then the p50/p95 of a 2-hop query from random people.
* ``crash_default``: the large graph under the server's default AOF policy, ``kill -9`` right
  after the last acknowledged batch, restart through ``EmbeddedServer.ensure_running()``;
  restart time and an exact before/after comparison (counts, sums, sampled 2-hop answers).
* ``crash_no_rewrite``: the same with automatic rewrites disabled, so the whole graph sits in
  the AOF's incremental part (the worst case: a crash right after a first bulk load); gives the
  replay cost per MB of incremental AOF. Then ``compact_if_grown`` and a second ``kill -9``
  give the snapshot load cost per MB.
* ``verbatim_probe``: a small graph with FalkorDB's default (writes logged as query text) to
  show what replay costs without effects logging.

Ends with one JSON line holding every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import graph_statements as q
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore

GRAPH = "graph_bench"
MB = 1024 * 1024
NO_REWRITE_MB = 1_000_000  # an auto-rewrite threshold no benchmark graph reaches
FALKORDB_DEFAULT_EFFECTS_THRESHOLD_US = 300


@contextmanager
def server_in_temp_dir(prefix: str, **options: Any) -> Iterator[EmbeddedServer]:
    # mkdtemp under /tmp keeps the unix socket path short.
    directory = Path(tempfile.mkdtemp(prefix=prefix))
    server = EmbeddedServer(directory, **options)
    server.ensure_running()
    try:
        yield server
    finally:
        EmbeddedServer(directory).stop()
        shutil.rmtree(directory, ignore_errors=True)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))] * 1000, 2),
    }


def load(store: FalkorStore, people: int, links: int, batch: int) -> dict[str, Any]:
    people_s, links_s = q.load(store, people, links, batch)
    return {
        "people": people, "links": links,
        "nodes_per_s": round(people / people_s), "relationships_per_s": round(links / links_s),
        "load_s": round(people_s + links_s, 2),
    }


def two_hop_latency(store: FalkorStore, people: int, queries: int) -> dict[str, float]:
    rng = random.Random(5)
    ids = [q.person_id(rng.randrange(people)) for _ in range(queries + 20)]
    for pid in ids[:20]:  # warm the connection and the plan cache
        store.run(q.TWO_HOP, {"id": pid})
    times, sizes = [], []
    for pid in ids[20:]:
        started = time.perf_counter()
        rows = store.run(q.TWO_HOP, {"id": pid})
        times.append(time.perf_counter() - started)
        sizes.append(len(rows))
    return {**percentiles(times), "mean_rows": round(statistics.mean(sizes), 1)}


def fresh_store(server: EmbeddedServer) -> FalkorStore:
    store = FalkorStore(server, GRAPH)
    store.ensure_schema()
    return store


def kill_9(server: EmbeddedServer) -> None:
    pid = server.pid()
    if pid is None:
        raise RuntimeError("graph server not running")
    os.kill(pid, signal.SIGKILL)
    if server.process is not None:
        server.process.wait(timeout=30)  # reap our child; the socket and pid file stay behind


def per_mb(seconds: float, megabytes: float) -> float | None:
    return round(seconds / megabytes, 3) if megabytes > 0.05 else None


def load_times_from_log(server: EmbeddedServer) -> dict[str, float]:
    """Redis's own split of the last start: snapshot load vs incremental replay."""
    text = server.logfile.read_text(errors="replace")
    start = text.rfind("Server initialized")
    found = {}
    for kind, pattern in (("base_load_s", r"loaded from base file .*: ([\d.]+) seconds"),
                          ("replay_s", r"loaded from incr file .*: ([\d.]+) seconds")):
        matches = re.findall(pattern, text[start:])
        found[kind] = round(sum(float(m) for m in matches), 3)
    return found


def crash_and_restart(server: EmbeddedServer, people: int, before: dict[str, Any],
                      **options: Any) -> tuple[dict[str, Any], EmbeddedServer]:
    """kill -9, restart the way a new process would, compare with ``before``; figures and the new server."""
    base, incremental = server.aof_sizes()
    kill_9(server)
    leftovers = server.socket.exists() and server.pidfile.exists()
    restarted = EmbeddedServer(server.directory, **options)
    started = time.perf_counter()
    started_new = restarted.ensure_running(timeout=900)
    restart_s = time.perf_counter() - started
    after = q.snapshot(FalkorStore(restarted, GRAPH), people)
    times = load_times_from_log(restarted)
    return {
        "aof_base_mb": round(base / MB, 2), "aof_incremental_mb": round(incremental / MB, 2),
        "stale_files_left": leftovers, "started_new_server": started_new, "restart_s": round(restart_s, 2),
        **times, "replay_s_per_mb": per_mb(times["replay_s"], incremental / MB),
        "base_load_s_per_mb": per_mb(times["base_load_s"], base / MB),
        "people_after": after["fingerprint"]["people"], "links_after": after["fingerprint"]["links"],
        "data_intact": after == before,
    }, restarted


def crash_phase(prefix: str, people: int, links: int, batch: int, *, then_compact: bool = False,
                **options: Any) -> dict[str, Any]:
    """Load, kill -9 right after the last acknowledged batch, restart; optionally compact and crash again."""
    with server_in_temp_dir(prefix, **options) as server:
        figures: dict[str, Any] = {"load": load(fresh_store(server), people, links, batch)}
        before = q.snapshot(FalkorStore(server, GRAPH), people)
        figures["crash"], server = crash_and_restart(server, people, before, **options)
        if then_compact:
            started = time.perf_counter()
            server.compact_if_grown(0, wait=300)
            figures["compact_s"] = round(time.perf_counter() - started, 2)
            figures["crash_after_compact"], server = crash_and_restart(server, people, before, **options)
        return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000, help="people in the small graph")
    parser.add_argument("--large", type=int, default=100_000, help="people in the large (crash) graph")
    parser.add_argument("--links-per-person", type=int, default=5)
    parser.add_argument("--batch", type=int, default=5000, help="rows per UNWIND batch")
    parser.add_argument("--queries", type=int, default=500, help="2-hop queries per scale")
    parser.add_argument("--verbatim-probe", type=int, default=4000,
                        help="people (and as many relationships) replayed with query-text logging; 0 skips")
    args = parser.parse_args()
    figures: dict[str, Any] = {}

    for people in (args.small, args.large):
        with server_in_temp_dir("ht-gb-") as server:
            store = fresh_store(server)
            written = load(store, people, people * args.links_per_person, args.batch)
            figures[f"scale_{people}"] = {**written, "two_hop": two_hop_latency(store, people, args.queries)}
        print(f"scale {people}: {figures[f'scale_{people}']}", flush=True)

    large, large_links = args.large, args.large * args.links_per_person
    figures["crash_default"] = crash_phase("ht-gbc-", large, large_links, args.batch)
    print(f"crash, default AOF policy: {figures['crash_default']}", flush=True)

    figures["crash_no_rewrite"] = crash_phase("ht-gbw-", large, large_links, args.batch, then_compact=True,
                                              aof_rewrite_min_mb=NO_REWRITE_MB)
    print(f"crash, no rewrite (worst case), then compacted: {figures['crash_no_rewrite']}", flush=True)

    if args.verbatim_probe:
        probe = args.verbatim_probe
        figures["verbatim_probe"] = crash_phase(
            "ht-gbv-", probe, probe, args.batch, aof_rewrite_min_mb=NO_REWRITE_MB,
            effects_threshold_us=FALKORDB_DEFAULT_EFFECTS_THRESHOLD_US,
        )
        print(f"crash, writes logged as query text: {figures['verbatim_probe']}", flush=True)

    print(json.dumps(figures))


if __name__ == "__main__":
    main()
