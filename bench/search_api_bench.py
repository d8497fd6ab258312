"""End-to-end search latency through the JSON API for a signed-in demo user, on a scratch data dir.

Each request goes through the whole web stack in-process: session check, readable set from the
permission cache, hybrid retrieval with the permission filter inside, facet labels, JSON.

Usage: python bench/search_api_bench.py [--documents 120] [--requests 200]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["HUITONG_DATA_DIR"] = tempfile.mkdtemp(prefix="ht-bench-search-")
os.environ.setdefault("HUITONG_SECRET_KEY", "bench-secret")

QUERIES = ["报销", "差旅费报销标准", "budget", "annual budget forecast", "合同审批流程", "sales report",
           "招聘计划", "meeting minutes", "项目进度", "technical design review", "采购", "expense policy"]
PASSWORD = "bench search password"


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def _run(client, queries: list[str]) -> tuple[list[float], dict[str, list[float]], list[int]]:  # type: ignore[no-untyped-def]
    wall: list[float] = []
    server_side: dict[str, list[float]] = {}
    totals: list[int] = []
    for query in queries:
        start = time.perf_counter()
        response = client.get("/api/v1/search", query_string={"q": query, "k": 10})
        wall.append((time.perf_counter() - start) * 1000)
        body = response.get_json()
        assert response.status_code == 200, body
        totals.append(body["total"])
        for name, value in body["timings_ms"].items():
            server_side.setdefault(name, []).append(value)
    return wall, server_side, totals


def main() -> None:
    from graph import accounts, embedded_server, open_store
    from graph import permissions as perm
    from graph.demo_org import load_demo_org
    from ingest.demo_docs import load_demo_documents
    from settings import load_settings
    from webapp import create_app

    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=120)
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    settings = load_settings()
    server = embedded_server(settings)
    server.ensure_running()
    figures: dict[str, object] = {}
    try:
        with open_store(settings) as store:
            store.ensure_schema()
            load_demo_org(store, "bench-admin-password")
            start = time.perf_counter()
            loaded = load_demo_documents(store, settings, args.documents, index=True)
            figures["documents"] = loaded.created
            figures["chunks"] = loaded.chunks
            figures["load_s"] = round(time.perf_counter() - start, 1)
            member = next(p for p in accounts.list_people(store)
                          if p["roles"] == ["member"] and p["departments"][:1] == ["FIN-ACC"])
            accounts.set_password(store, member["id"], PASSWORD)
            figures["readable"] = len(perm.readable_document_ids(store, member["id"]))

        app = create_app(settings)
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" value="')[1].split('"')[0]
        response = client.post("/login", data={"login": member["username"], "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302, response.status_code
        for query in QUERIES:  # warm-up: model, index, permission cache
            assert client.get("/api/v1/search", query_string={"q": query}).status_code == 200

        # distinct queries (a fresh query embedding each, as when people type) and repeated ones (paging:
        # the engine reuses a recent query's vector)
        distinct = [f"{QUERIES[i % len(QUERIES)]} {i}" for i in range(args.requests)]
        repeated = list(itertools.islice(itertools.cycle(QUERIES), args.requests))
        for label, queries in (("api", distinct), ("api_repeated", repeated)):
            wall, server_side, totals = _run(client, queries)
            figures.update({f"{label}_p50_ms": _pct(wall, 0.5), f"{label}_p95_ms": _pct(wall, 0.95),
                            f"{label}_mean_ms": round(statistics.fmean(wall), 1)})
            if label == "api":
                figures["requests"] = len(wall)
                figures["mean_total_hits"] = round(statistics.fmean(totals), 1)
                for name in ("permissions", "engine_query_embedding", "engine_filter", "engine_dense",
                             "engine_keyword", "total"):
                    if name in server_side:
                        figures[f"{name}_p50_ms"] = _pct(server_side[name], 0.5)
        print(f"demo user {member['username']} reads {figures['readable']} of {figures['documents']} documents")
        print(f"API search, distinct queries: p50 {figures['api_p50_ms']} ms, p95 {figures['api_p95_ms']} ms; "
              f"repeated: p50 {figures['api_repeated_p50_ms']} ms, p95 {figures['api_repeated_p95_ms']} ms "
              f"({args.requests} requests each)")
        print(f"load average during the run: {os.getloadavg()[0]:.1f}")
        figures["loadavg"] = round(os.getloadavg()[0], 1)
    finally:
        server.stop()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
