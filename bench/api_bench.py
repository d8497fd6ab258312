"""Backup and restore of a whole platform: time and archive size for the demo data and for 10k documents.

Two scratch data directories are built through the platform's own paths:

* ``demo``: ``load_demo`` (organisation, workflow templates, N generated office documents extracted and
  indexed, 12 months of workflow history), as ``huitong serve`` loads it on first run;
* ``docs10k``: the demo organisation plus 10,000 short text documents through the bulk path of archive
  ingestion (``upload_stored`` + ``process_versions_now``: blobs, graph, extracted text, search index).

For each: ``backup`` (graph snapshot + verification on a throwaway server, search store, files, manifest)
and ``restore`` onto an empty directory (including the start of the restored graph server and the check of
its node counts against the manifest). Before the demo's backup, the REST API's latency: ``huitong serve``
(the uvicorn front, real workers) on the demo data, a read token of a member, and 20 concurrent clients
calling ``GET /api/v1/search`` and ``GET /api/v1/documents/<id>``: p50/p95 in ms per endpoint.

Usage: python bench/api_bench.py [--demo-documents 240] [--documents 10000] [--gzip] [--api-calls 40]
(0 skips a part; --api-calls is per client and endpoint; without the demo part the API is measured on the
bulk set, with the token of its owner)
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SCRATCH = Path(tempfile.mkdtemp(prefix="ht-bench-bk-"))
os.environ["HUITONG_DATA_DIR"] = str(SCRATCH / "unused")
os.environ.pop("HUITONG_BROKER_URL", None)
MB = 1024 * 1024
BATCH = 500
WORDS = ("budget", "contract", "supplier", "travel", "training", "audit", "quarterly", "review", "预算", "合同",
         "供应商", "差旅", "培训", "审计", "季度", "评审", "safety", "hiring", "marketing", "security")


def _settings(name: str, **more: object):  # type: ignore[no-untyped-def]
    from settings import load_settings

    return load_settings(data_dir=SCRATCH / name, **more)


def build_demo(documents: int):  # type: ignore[no-untyped-def]
    from graph import open_store
    from webapp.demo import load_demo

    settings = _settings("demo", demo_documents=documents, admin_password="bench-admin-password")
    with open_store(settings) as store:
        store.ensure_schema()
        load_demo(store, settings, echo=lambda text: print("  " + text, flush=True))
    return settings


def build_bulk(name: str, count: int):  # type: ignore[no-untyped-def]
    """``count`` short documents (a few sentences each, one search chunk) via the bulk ingestion path."""
    from graph import open_store
    from graph.demo_org import load_demo_org
    from graph.queries import org
    from ingest import processing, uploads
    from ingest.blobstore import BlobStore

    settings = _settings(name)
    started = time.perf_counter()
    with open_store(settings) as store:
        store.ensure_schema()
        load_demo_org(store, "bench-admin-password")
        owner = store.run(org.PERSON_BY_USERNAME, {"username": "admin"})[0]["id"]
        blobs = BlobStore.from_settings(settings)
        for first in range(0, count, BATCH):
            numbers = range(first, min(first + BATCH, count))
            staged = [blobs.stage(_text(n).encode(), sync=False) for n in numbers]
            blobs.commit_all(staged)
            items = [uploads.StoredUpload(s.sha256, f"note-{n:05d}.txt", uuid.uuid4().hex, "general", "internal")
                     for n, s in zip(numbers, staged, strict=True)]
            results = uploads.upload_stored(store, settings, owner, items, client="bench")
            versions = [r.version_id for r in results if isinstance(r, uploads.UploadResult)]
            processing.process_versions_now(store, settings, versions, index=True)
            print(f"  {first + len(items)} documents ({time.perf_counter() - started:.0f} s)", flush=True)
    return settings


def _text(n: int) -> str:
    picked = [WORDS[(n * 7 + i * 3) % len(WORDS)] for i in range(6)]
    return (f"Note {n}: {' '.join(picked)}. Department memo number {n} about {picked[0]} and {picked[1]}.\n"
            f"第 {n} 号备忘：{picked[2]}、{picked[3]}。\n")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1) if ordered else 0.0


def api_latency(settings, calls: int, clients: int = 20, as_owner: bool = False  # type: ignore[no-untyped-def]
                ) -> dict[str, object]:
    """p50/p95 of search and document get through the real server, ``clients`` threads at once, with the read
    token of a finance member (demo data) or of the documents' owner (the bulk set, owned by ``admin``)."""
    import socket
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    import requests

    from graph import accounts, directory, embedded_server, open_store, tokens

    with open_store(settings) as store:
        member = "admin" if as_owner else next(r["username"] for r in accounts.list_people(store)
                                               if "FIN" in r["departments"] and "admin" not in r["roles"])
        token = tokens.create(store, directory.actor_for(store, member, door="cli"), scope="read").token
    embedded_server(settings).stop()  # `huitong serve` starts its own
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HUITONG_DATA_DIR": str(settings.data_dir), "HUITONG_ADMIN_PASSWORD": "bench-admin-password",
           "HUITONG_API_RATE_PER_MINUTE": "0", "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen([sys.executable, "-m", "webapp", "serve", "--port", str(port), "--no-demo"], env=env,
                              cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base, headers = f"http://127.0.0.1:{port}/api/v1", {"Authorization": f"Bearer {token}"}
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                if requests.get(f"{base}/documents?per_page=200", headers=headers, timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(1)
        ids = [d["id"] for d in requests.get(f"{base}/documents?per_page=200", headers=headers, timeout=30)
               .json()["items"]]
        queries = list(WORDS)

        def client(n: int) -> dict[str, list[float]]:
            session, out = requests.Session(), {"search": [], "document": []}
            for i in range(calls):
                for name, url in (("search", f"{base}/search?q={queries[(n + i) % len(queries)]}&k=10"),
                                  ("document", f"{base}/documents/{ids[(n * calls + i) % len(ids)]}")):
                    started = time.perf_counter()
                    response = session.get(url, headers=headers, timeout=300)
                    assert response.status_code == 200, (url, response.status_code)
                    out[name].append((time.perf_counter() - started) * 1000)
            return out

        # Warm up (the server loads the query model on its first search; slow on a busy machine), then a round.
        warm_until = time.time() + 900
        while time.time() < warm_until:
            try:
                if requests.get(f"{base}/search?q=budget", headers=headers, timeout=300).ok:
                    break
            except requests.RequestException:  # the front drops a request that outlives its deadline
                time.sleep(2)
        client(0)
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            parts = list(pool.map(client, range(clients)))
        wall = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(60)
    figures: dict[str, object] = {"clients": clients, "calls": clients * calls * 2, "wall_s": round(wall, 1),
                                  "documents": len(ids)}
    for name in ("search", "document"):
        values = [v for part in parts for v in part[name]]
        figures[f"{name}_p50_ms"], figures[f"{name}_p95_ms"] = _pct(values, 0.5), _pct(values, 0.95)
    print(f"api: {figures}", flush=True)
    return figures


def measure(name: str, settings, archive_suffix: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    from graph import embedded_server
    from ingest.backup import backup
    from ingest.restore import restore

    archive = SCRATCH / f"{name}{archive_suffix}"
    made = backup(settings, archive)
    embedded_server(settings).stop()
    data_bytes = sum(p.stat().st_size for p in settings.data_dir.rglob("*") if p.is_file())
    target = _settings(f"{name}-restored")
    back = restore(target, archive)
    manifest = made.manifest
    figures = {
        "documents": manifest["graph"]["counts"].get("Document", 0), "nodes": manifest["graph"]["nodes"],
        "blobs": manifest["blobs"]["count"], "chunks": manifest["search"]["chunks"], "files": len(manifest["files"]),
        "data_dir_mb": round(data_bytes / MB, 2), "archive_mb": round(made.bytes / MB, 2),
        "backup_s": round(made.seconds, 2), "restore_s": round(back.seconds, 2),
        "restored_counts_match": back.counts == manifest["graph"]["counts"],
    }
    print(f"{name}: {figures}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo-documents", type=int, default=240)
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--gzip", action="store_true", help="gzip instead of zstd")
    parser.add_argument("--api-calls", type=int, default=40, help="calls per client and endpoint (0: skip)")
    args = parser.parse_args()
    suffix = ".tar.gz" if args.gzip else ".tar.zst"
    from graph import embedded_server

    bulk_name = f"docs{args.documents // 1000}k" if args.documents >= 1000 else f"docs{args.documents}"
    result: dict[str, object] = {"compression": "gzip" if args.gzip else "zstd"}
    try:
        if args.demo_documents:  # 0 skips the part (to run the two parts as separate processes)
            started = time.perf_counter()
            demo = build_demo(args.demo_documents)
            result["demo_build_s"] = round(time.perf_counter() - started, 1)
            if args.api_calls:
                result["api_latency"] = api_latency(demo, args.api_calls)
            result["demo"] = measure("demo", demo, suffix)
        if args.documents:
            started = time.perf_counter()
            bulk = build_bulk(bulk_name, args.documents)
            result["docs_build_s"] = round(time.perf_counter() - started, 1)
            if args.api_calls and not args.demo_documents:
                result["api_latency"] = api_latency(bulk, args.api_calls, as_owner=True)
            result[bulk_name] = measure(bulk_name, bulk, suffix)
    finally:
        for name in ("demo", bulk_name, "demo-restored", f"{bulk_name}-restored"):
            folder = SCRATCH / name
            if (folder / "graph").is_dir():
                embedded_server(_settings(name)).stop()
        shutil.rmtree(SCRATCH, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
