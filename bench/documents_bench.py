"""Upload latency, background processing time and demo-document generation, on a scratch data dir.

Usage: python bench/documents_bench.py [--uploads 50] [--demo 240] [--no-index]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["HUITONG_DATA_DIR"] = tempfile.mkdtemp(prefix="ht-bench-docs-")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def main() -> None:
    from graph import embedded_server
    from graph.demo_org import load_demo_org
    from graph.falkordb_backend import FalkorStore
    from ingest import pipeline
    from ingest.demo_docs import load_demo_documents, plan_documents, render
    from settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--demo", type=int, default=240)
    parser.add_argument("--no-index", action="store_true")
    args = parser.parse_args()

    settings = load_settings()
    server = embedded_server(settings)
    server.ensure_running()
    store = FalkorStore(server, "bench_docs")
    store.ensure_schema()
    figures: dict[str, object] = {}
    try:
        load_demo_org(store, "bench-password")
        plans = plan_documents(args.uploads, seed=99)
        files = [(render(p.doc, p.owner.name), f"bench-{p.number}.{p.doc.fmt}", p) for p in plans]
        upload_ms, process_ms, extract_ms = [], [], []
        versions = []
        for data, name, plan in files:
            started = time.perf_counter()
            result = pipeline.upload(store, settings, data, name, plan.owner.id, plan.domain, plan.access,
                                     plan.shares, "", enqueue=None)
            upload_ms.append((time.perf_counter() - started) * 1000)
            versions.append(result.version_id)
        for version_id in versions:
            started = time.perf_counter()
            done = pipeline.process_version_now(store, settings, version_id, index=False)
            process_ms.append((time.perf_counter() - started) * 1000)
            extract_ms.append(done.timings_ms["extract"])
        figures.update(
            uploads=len(upload_ms), upload_ms_p50=_pct(upload_ms, 0.5), upload_ms_p95=_pct(upload_ms, 0.95),
            process_ms_p50=_pct(process_ms, 0.5), process_ms_p95=_pct(process_ms, 0.95),
            extract_ms_p50=_pct(extract_ms, 0.5), extract_ms_mean=round(statistics.mean(extract_ms), 1),
        )
        print(f"upload p50 {figures['upload_ms_p50']} ms, p95 {figures['upload_ms_p95']} ms; "
              f"processing (no index) p50 {figures['process_ms_p50']} ms, "
              f"extraction p50 {figures['extract_ms_p50']} ms")
        if args.demo:
            demo_store = FalkorStore(server, "bench_demo_docs")
            demo_store.ensure_schema()
            try:
                load_demo_org(demo_store, "bench-password")
                result = load_demo_documents(demo_store, settings, args.demo, index=not args.no_index)
                again = load_demo_documents(demo_store, settings, args.demo, index=not args.no_index)
            finally:
                demo_store.drop_all()
            figures.update(demo_documents=result.created, demo_versions=result.versions, demo_chunks=result.chunks,
                           demo_seconds=round(result.seconds, 1), demo_rerun_seconds=round(again.seconds, 2),
                           demo_indexed=not args.no_index)
            print(f"demo: {result.created} documents + {result.versions} versions, {result.chunks} chunks in "
                  f"{result.seconds:.1f} s; rerun {again.seconds:.2f} s adds {again.created}")
    finally:
        store.drop_all()
        server.stop()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
