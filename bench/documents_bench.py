"""Upload latency, background processing time, demo-document generation and the document page's server
time BEFORE and AFTER the use-case layer, on a scratch data dir.

Usage: python bench/documents_bench.py [--uploads 50] [--demo 240] [--no-index]
                                       [--pages 30] [--reads 400] [--rounds 3] [--old-commit 52e3fee]
The page figures: the same documents (each with ``--reads`` earlier reads in its audit trail, as a
document in use has) are opened through the web app, signed in, by the code of ``--old-commit``
(checked out with ``git archive`` into a temp folder) and by this tree, in alternating rounds against
the same graph and data directory; server time is the WSGI request time (no network).
``--pages 0`` skips it. Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tarfile
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
    from ingest import processing, uploads
    from ingest.demo_docs import load_demo_documents, plan_documents, render
    from settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--uploads", type=int, default=50)
    parser.add_argument("--demo", type=int, default=240)
    parser.add_argument("--no-index", action="store_true")
    parser.add_argument("--pages", type=int, default=30, help="documents whose page is timed (0: skip)")
    parser.add_argument("--reads", type=int, default=400, help="earlier reads in each document's audit trail")
    parser.add_argument("--rounds", type=int, default=3, help="alternating old/new rounds")
    parser.add_argument("--old-commit", default="52e3fee", help="the code to compare with")
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
            result = uploads.upload(store, settings, data, name, plan.owner.id, plan.domain, plan.access,
                                     plan.shares, "", enqueue=None)
            upload_ms.append((time.perf_counter() - started) * 1000)
            versions.append(result.version_id)
        for version_id in versions:
            started = time.perf_counter()
            done = processing.process_version_now(store, settings, version_id, index=False)
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
        if args.pages:
            figures.update(page_figures(server, settings, args))
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


# -- the document page, before and after -------------------------------------------------------------------

PAGE_GRAPH = "bench_doc_pages"
PASSWORD = "bench-page-password"

# Runs inside a child process whose PYTHONPATH is one code tree (old or new): signs in, opens every page
# ``rounds`` times after one warm-up pass, prints the request times (ms) as one JSON list.
_CLIENT = r"""
import json, re, sys, threading, time
from settings import load_settings
from webapp import create_app
ids, username, password, repeat = json.loads(sys.argv[1])
app = create_app(load_settings())
app.config.update(TESTING=True)
for thread in threading.enumerate():
    if thread.name == "search-warm-up":
        thread.join()  # the model loads in the background: do not time pages against it
client = app.test_client()
page = client.get("/login").get_data(as_text=True)
token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
signed = client.post("/login", data={"login": username, "password": password, "next": "", "csrf_token": token})
assert signed.status_code == 302, signed.status_code
for document_id in ids:
    assert client.get("/documents/" + document_id).status_code == 200
times = []
for _ in range(repeat):
    for document_id in ids:
        start = time.perf_counter()
        response = client.get("/documents/" + document_id)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
print(json.dumps(times))
"""


def _old_tree(commit: str) -> Path:
    """The old code, as files, in a temp folder (``git archive``: no worktree is registered)."""
    target = Path(tempfile.mkdtemp(prefix="ht-docbench-old-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", commit], check=True,
                             capture_output=True).stdout
    with tarfile.open(fileobj=__import__("io").BytesIO(archive)) as tar:
        tar.extractall(target, filter="data")
    return target


def _page_times(code: Path, settings: object, ids: list[str], username: str, rounds: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(code), "HUITONG_GRAPH_NAME": PAGE_GRAPH,
           "HUITONG_DATA_DIR": str(settings.data_dir)}  # type: ignore[attr-defined]
    done = subprocess.run([sys.executable, "-c", _CLIENT, json.dumps([ids, username, PASSWORD, rounds])],
                          cwd=code, env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise RuntimeError(f"page run in {code} failed:\n{done.stderr[-3000:]}")
    return [float(t) for t in json.loads(done.stdout.strip().splitlines()[-1])]


def page_figures(server: object, settings: object, args: argparse.Namespace) -> dict[str, object]:
    from graph import accounts, audit
    from graph.demo_org import load_demo_org
    from graph.falkordb_backend import FalkorStore
    from ingest import processing, uploads
    from ingest.demo_docs import plan_documents, render

    store = FalkorStore(server, PAGE_GRAPH)  # type: ignore[arg-type]
    store.ensure_schema()
    old = _old_tree(args.old_commit)
    try:
        load_demo_org(store, "bench-password")
        plans = plan_documents(args.pages, seed=7)
        owner = plans[0].owner
        accounts.set_password(store, owner.id, PASSWORD)
        ids = []
        for plan in plans:
            made = uploads.upload(store, settings, render(plan.doc, owner.name), f"page-{plan.number}.{plan.doc.fmt}",
                                   owner.id, plan.domain, "internal", (f"department:{plan.owner.dept}",), "",
                                   enqueue=None)
            processing.process_version_now(store, settings, made.version_id, index=False)
            ids.append(made.document_id)
            # A document in use: earlier page opens and text reads, as the audit trail holds them.
            audit.record_many(store, [audit.Event("document.view" if n % 2 else "document.read", owner.id, "document",
                                                  made.document_id, "10.0.0.1", None, None)
                                      for n in range(args.reads)])
        before: list[float] = []
        after: list[float] = []
        for _ in range(args.rounds):
            before += _page_times(old, settings, ids, owner.username, 1)
            after += _page_times(ROOT, settings, ids, owner.username, 1)
    finally:
        store.drop_all()
        import shutil

        shutil.rmtree(old, ignore_errors=True)
    figures = {"page_documents": len(ids), "page_reads_each": args.reads, "page_requests_each": len(after),
               "page_before_ms_p50": _pct(before, 0.5), "page_before_ms_p95": _pct(before, 0.95),
               "page_after_ms_p50": _pct(after, 0.5), "page_after_ms_p95": _pct(after, 0.95)}
    figures["page_speedup_p50"] = round(figures["page_before_ms_p50"] / max(figures["page_after_ms_p50"], 0.1), 2)
    figures["page_speedup_p95"] = round(figures["page_before_ms_p95"] / max(figures["page_after_ms_p95"], 0.1), 2)
    print(f"document page ({args.old_commit} -> this tree): p50 {figures['page_before_ms_p50']} -> "
          f"{figures['page_after_ms_p50']} ms, p95 {figures['page_before_ms_p95']} -> {figures['page_after_ms_p95']} "
          f"ms ({figures['page_speedup_p95']}x at p95)")
    return figures


if __name__ == "__main__":
    main()
