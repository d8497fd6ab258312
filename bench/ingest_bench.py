"""Bulk ingestion end to end: an archive of mixed files (PDF/DOCX/XLSX/TXT/MD, Chinese and English)
through ``ingest.jobs`` on REAL Celery worker processes, against raw extraction of the same files.

For 1 and 2 workers (separate worker processes, one pool process each), extraction only and with
embedding, it measures from the start of the job to its end: files/s and MB/s. The baseline is
``ingest.extract.extract`` of every file, one after the other, in one process; the ratio of the
end-to-end rate to that rate is the figure to watch (target >= 0.8). Each run gets a fresh graph,
blob store, text store and search index on a scratch data directory.

An embedding run embeds every distinct chunk text once, so its real bound is the encoder: the very same chunk
texts go through the raw encoder in this process (one ``encode`` call on all the machine's cores with the
ingestion batch size, while no worker runs) right BEFORE and right AFTER each embedding run, so a change of
the machine's load weighs on the baseline as on the run. ``chunks_per_s`` of the run over the mean of the two
``encoder_chunks_per_s`` is ``ratio_to_encoder`` (target >= 0.9). The texts before the first run come from
this process's own extraction and chunking of the files; after each run, the run's chunk store is read back
and compared with them (``same_chunks``; the warm-up job's chunks, written before the clock starts, are left
out). ``--rounds N`` makes N runs per configuration, alternating with the raw encoder (encoder, run, encoder,
run, ..., encoder: each encoder measurement serves the runs on both sides of it). ``--batch-sizes`` first
measures the raw encoder at several batch sizes on a sample of those chunks (taking turns, so load hits all
alike).

Measured on this 2-core machine (same 150 files, 614 chunks): one pool process of two torch threads reached
0.80-0.84 of the raw encoder (its serial moments - extraction, graph and chunk-store writes, task starts -
leave the encoder idle, and its two threads wait on each other at every step under load); two pool processes
of one thread each - what ``huitong serve`` starts (HUITONG_WORKERS=2), the default here - overlap one process's
serial work with the other's encoding: 0.995 and 0.877 of the raw encoder with 16-file tasks (the default for jobs
that embed), 0.74 and 0.82 with 64-file tasks (150 files make three tasks, so one process ends alone).

Usage: python bench/ingest_bench.py [--files 2000] [--no-embedding] [--embedding-only] [--workers 1,2]
                                   [--concurrency 2] [--batch-files 16] [--batch-sizes 16,32,48,64]
                                   [--rounds 1]
Ends with one JSON line of the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA_DIR = Path(tempfile.mkdtemp(prefix="ht-bench-ingest-"))
os.environ["HUITONG_DATA_DIR"] = str(DATA_DIR)
os.environ.pop("HUITONG_BROKER_URL", None)
FORMATS = ("pdf", "docx", "xlsx", "txt", "md")
MB = 1024 * 1024


def build_files(folder: Path, count: int) -> tuple[int, int]:
    """``count`` distinct business documents of one to several pages, rendered in turn as PDF, DOCX, XLSX,
    TXT and MD, in folders per department and year; returns (files, bytes)."""
    from ingest.demo_docs import plan_documents, render

    plans = plan_documents(count + 8, seed=4242)
    total = 0
    for i, plan in enumerate(plans[:count]):
        fmt = FORMATS[i % len(FORMATS)]
        # Office files hold more than one demo page: append the content of the next few plans.
        for extra in plans[i + 1:i + 1 + i % 6]:
            plan.doc.blocks.extend(block for block in extra.doc.blocks if block[0] != "table" or fmt != "xlsx")
        plan.doc.fmt = "md" if fmt == "txt" else fmt
        data = render(plan.doc, plan.owner.name)
        sub = folder / plan.owner.dept / f"{2020 + i % 5}"
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{plan.number:05d}-{plan.doc.lang}.{fmt}").write_bytes(data)
        total += len(data)
    return count, total


def _schema_with_ingest_labels() -> None:
    """Identity and lookup indexes of the ingest labels, as graph/schema.py is to list them (a no-op once it does)."""
    from graph import schema

    for label, key in (("IngestJob", "id"), ("IngestFile", "id"), ("DocumentLocation", "key")):
        schema.UNIQUE_KEYS.setdefault(label, key)
    schema.LOOKUP_INDEXES.setdefault("IngestFile", ("job_id",))


def raw_extraction(folder: Path, blocks: list[list[tuple[str, str]]] | None = None) -> dict[str, float]:
    """One process extracting every file in turn; ``blocks`` receives each extracted file's (text, ref) blocks."""
    from ingest.extract import extract

    files = sorted(p for p in folder.rglob("*") if p.is_file())
    extract(files[0])  # imports and first-use costs are not the rate
    size = sum(p.stat().st_size for p in files)
    started = time.perf_counter()
    statuses: dict[str, int] = {}
    for path in files:
        extraction = extract(path)
        statuses[extraction.status] = statuses.get(extraction.status, 0) + 1
        if blocks is not None and extraction.ok:
            blocks.append([(s.text, s.ref) for s in extraction.sections if s.text.strip()])
    seconds = time.perf_counter() - started
    return {"files": len(files), "seconds": round(seconds, 2), "files_per_s": round(len(files) / seconds, 1),
            "mb_per_s": round(size / MB / seconds, 2), "ok": statuses.get("ok", 0)}


def planned_chunks(blocks: list[list[tuple[str, str]]]) -> list[str]:
    """The distinct chunk texts indexing will embed: each file's blocks cut as the search index cuts them."""
    from embeddings.chunker import chunk_blocks

    embedder = _encoder()
    texts = (c.text for mine in blocks if mine
             for c in chunk_blocks(mine, embedder.count_tokens, max_tokens=embedder.max_tokens))
    return list(dict.fromkeys(texts))


def _wipe_files() -> None:
    """Everything but the graph server's own directory: each run starts with empty stores."""
    for name in ("blobs", "text", "search", "ingest"):
        shutil.rmtree(DATA_DIR / name, ignore_errors=True)


def _start_workers(n: int, graph_name: str, concurrency: int) -> list[subprocess.Popen[bytes]]:
    # every pool process on this machine embeds on its share of the cores, as an administrator would set it
    threads = max(1, (os.cpu_count() or 1) // (n * concurrency))
    env = {**os.environ, "HUITONG_GRAPH_NAME": graph_name, "HUITONG_EMBEDDING_THREADS": str(threads)}
    log = (DATA_DIR / f"worker-{graph_name}.log").open("ab")
    workers = [subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "--concurrency", str(concurrency),
         "-n", f"bench{i}-{graph_name}@%h", "--loglevel", "WARNING", "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True) for i in range(n)]
    log.close()
    return workers


def _wait_ready(app: object, n: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        replies = app.control.ping(timeout=1.0)  # type: ignore[attr-defined]
        if len(replies or []) >= n:
            return
    raise RuntimeError(f"{n} workers did not come up; see {DATA_DIR}")


def _stop(workers: list[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=30)


def end_to_end(server: object, settings: object, archive: Path, workers: int, index: bool, run: int,
               warmup: Path, concurrency: int = 1, texts: list[str] | None = None,
               before: dict[str, float] | None = None, batch_files: int = 0) -> dict[str, object]:
    """One job on fresh stores; with embedding, bracketed by the raw encoder on ``texts`` (see the docstring;
    ``before``: the encoder's figures measured right after the previous run, which serve as this one's)."""
    if before is None and index and texts:
        before = encoder_rate(texts)
    from graph.demo_org import load_demo_org
    from graph.falkordb_backend import FalkorStore
    from ingest import jobs
    from workers.celery_app import app
    from workers.ingest_tasks import enqueue_batch

    graph_name = f"bench_ingest_{run}"
    _wipe_files()
    store = FalkorStore(server, graph_name)  # type: ignore[arg-type]
    store.drop_all()
    _schema_with_ingest_labels()
    store.ensure_schema()
    load_demo_org(store, "bench-password")
    owner = _admin_id(store)
    pool = _start_workers(workers, graph_name, concurrency)
    try:
        _wait_ready(app, workers)
        # Warm-up (not timed): every pool process imports the extractors and, with embedding, loads the model.
        warm = jobs.start_job(store, settings, warmup, owner, jobs.JobOptions(index=index, batch_files=1))  # type: ignore[arg-type]
        jobs.plan_job(store, settings, warm.id, enqueue_batch)  # type: ignore[arg-type]
        jobs.wait(store, settings, warm.id, timeout=600, interval=0.2)  # type: ignore[arg-type]
        warm_texts = set(_chunk_texts()) if index else set()  # the warm-up's chunks are not the run's
        started = time.time()
        options = jobs.JobOptions(index=index, **({"batch_files": batch_files} if batch_files else {}))
        job = jobs.start_job(store, settings, archive, owner, options)  # type: ignore[arg-type]
        jobs.plan_job(store, settings, job.id, enqueue_batch)  # type: ignore[arg-type]
        # The end is the job's own close, written by the worker that finished it: the wait can then poll
        # gently (each poll is graph work on the cores the run is measured on) without adding its interval.
        state = jobs.wait(store, settings, job.id, timeout=3600, interval=1.0)  # type: ignore[arg-type]
        seconds = (state.job.get("finished_at") or time.time() * 1000) / 1000 - started
    finally:
        _stop(pool)
    summary = jobs.summary(store, job.id)
    store.drop_all()
    store.close()
    embedded: dict[str, object] = {}
    if index:
        stored = [text for text in _chunk_texts() if text not in warm_texts]
        embedded = {"chunks": len(stored), "chunks_per_s": round(len(stored) / seconds, 2),
                    "load_during": round(os.getloadavg()[0], 2), "uptime": [round(v, 2) for v in os.getloadavg()],
                    "same_chunks": set(stored) == set(texts or ())}
        after = encoder_rate(stored)
        rates = [after["encoder_chunks_per_s"]]
        if before is not None:
            embedded["encoder_before"] = before
            if embedded["same_chunks"]:
                rates.append(before["encoder_chunks_per_s"])
        embedded["encoder_after"] = after
        embedded["encoder_chunks_per_s"] = round(sum(rates) / len(rates), 2)
        embedded["ratio_to_encoder"] = round(len(stored) / seconds / embedded["encoder_chunks_per_s"], 3)
    return {"workers": workers, "processes_per_worker": concurrency, "batch_files": options.files_per_batch,
            "embedding": index, "files": summary["files"],
            "ingested": summary["ingested"],
            "failed": len(summary["failed"]), "unreadable": len(summary["unreadable"]), "seconds": round(seconds, 2),
            "files_per_s": round(summary["files"] / seconds, 1), "mb_per_s": round(state.bytes_done / MB / seconds, 2),
            **embedded}


def _chunk_texts() -> list[str]:
    """The distinct chunk texts the last run stored (each was embedded once: vectors are cached by text)."""
    import sqlite3

    path = DATA_DIR / "search" / "chunks.sqlite3"
    if not path.is_file():
        return []
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT text FROM chunks GROUP BY text_hash ORDER BY MIN(id)")]


def _encoder():  # type: ignore[no-untyped-def]
    """The model the workers use, in this process, on all the machine's cores."""
    from embeddings.embedder import get_embedder, use_threads
    from settings import load_settings

    use_threads(os.cpu_count() or 1)
    return get_embedder(load_settings().embedding_model)


def encoder_rate(texts: list[str]) -> dict[str, float]:
    """Chunks/s of the raw encoder on ``texts``: one call (it sorts by length and batches with the ingestion
    batch size)."""
    from embeddings import embedder as module

    embedder = _encoder()
    started = time.perf_counter()
    embedder.embed(texts)
    seconds = time.perf_counter() - started
    return {"encoder_chunks": len(texts), "encoder_seconds": round(seconds, 2),
            "encoder_chunks_per_s": round(len(texts) / seconds, 2), "encoder_batch_size": module.BATCH_SIZE,
            "encoder_threads": os.cpu_count() or 1, "load": round(os.getloadavg()[0], 2)}


def batch_size_rates(texts: list[str], sizes: list[int], sample: int = 192, rounds: int = 2) -> dict[str, float]:
    """Raw encoder chunks/s per batch size on the same ``sample`` chunks (spread over the set), the sizes taking
    turns ``rounds`` times."""
    from embeddings import embedder as module

    embedder = _encoder()
    chosen = texts[:: max(1, len(texts) // sample)][:sample]
    seconds = dict.fromkeys(sizes, 0.0)
    default = module.BATCH_SIZE
    try:
        for _ in range(rounds):
            for size in sizes:
                module.BATCH_SIZE = size
                started = time.perf_counter()
                embedder.embed(chosen)
                seconds[size] += time.perf_counter() - started
    finally:
        module.BATCH_SIZE = default
    return {str(size): round(len(chosen) * rounds / seconds[size], 2) for size in sizes}


def _admin_id(store: object) -> str:
    from graph.queries import org

    return store.run(org.PERSON_BY_USERNAME, {"username": "admin"})[0]["id"]  # type: ignore[attr-defined]


def main() -> None:
    from graph import embedded_server
    from settings import load_settings

    parser = argparse.ArgumentParser()
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts")
    parser.add_argument("--no-embedding", action="store_true", help="only the extraction-only runs")
    parser.add_argument("--embedding-only", action="store_true", help="only the runs with embedding")
    parser.add_argument("--concurrency", type=int, default=0,
                        help="pool processes per worker (0: HUITONG_WORKERS, as `huitong serve` starts them)")
    parser.add_argument("--batch-files", type=int, default=0, help="files per worker task (0: the job default)")
    parser.add_argument("--batch-sizes", default="", help="comma-separated encoder batch sizes to compare first")
    parser.add_argument("--rounds", type=int, default=1,
                        help="runs per configuration, the raw encoder measured between each two (alternation)")
    args = parser.parse_args()

    settings = load_settings()
    args.concurrency = args.concurrency or settings.workers
    server = embedded_server(settings)
    server.ensure_running()
    work = Path(tempfile.mkdtemp(prefix="ht-bench-ingest-files-"))
    figures: dict[str, object] = {}
    try:
        started = time.perf_counter()
        files, size = build_files(work / "files", args.files)
        archive = work / "mixed.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in sorted((work / "files").rglob("*")):
                if path.is_file():
                    zf.write(path, path.relative_to(work / "files").as_posix())
        warmup = work / "warmup"
        for i, path in enumerate(sorted((work / "files").rglob("*.pdf"))[:8]):
            warmup.mkdir(exist_ok=True)
            (warmup / f"w{i}.md").write_text(f"# warm-up {i}\n\n{path.name}\n", encoding="utf-8")
        print(f"built {files} files, {size / MB:.1f} MB ({archive.stat().st_size / MB:.1f} MB zipped) "
              f"in {time.perf_counter() - started:.1f} s")
        blocks: list[list[tuple[str, str]]] = []
        raw = raw_extraction(work / "files", blocks)
        figures["raw_extraction"] = raw
        print(f"raw extraction, one process: {raw['files_per_s']} files/s, {raw['mb_per_s']} MB/s "
              f"({raw['seconds']} s, {raw['ok']} ok)")
        runs = []
        modes = [False] if args.no_embedding else [True] if args.embedding_only else [False, True]
        texts = planned_chunks(blocks) if any(modes) else []
        if texts and args.batch_sizes:
            figures["encoder_chunks_per_s_by_batch_size"] = rates = batch_size_rates(
                texts, [int(size) for size in args.batch_sizes.split(",")])
            print(f"raw encoder chunks/s by batch size (same {min(192, len(texts))} chunks, taking turns): {rates}")
        for index in modes:
            for workers in (int(w) for w in args.workers.split(",") for _ in range(max(1, args.rounds))):
                previous = runs[-1] if runs and runs[-1]["embedding"] and runs[-1]["workers"] == workers else {}
                result = end_to_end(server, settings, archive, workers, index, len(runs), warmup, args.concurrency,
                                    texts, previous.get("encoder_after") if previous.get("same_chunks") else None,
                                    args.batch_files)
                result["ratio_to_raw"] = round(result["files_per_s"] / raw["files_per_s"], 2)
                runs.append(result)
                print(f"{workers} worker(s) x {args.concurrency} process(es), "
                      f"{'with embedding' if index else 'extraction only'}: "
                      f"{result['files_per_s']} files/s, {result['mb_per_s']} MB/s, {result['seconds']} s "
                      f"(ratio to raw extraction {result['ratio_to_raw']}; {result['ingested']} ingested, "
                      f"{result['failed']} failed, {result['unreadable']} unreadable)")
                if index:
                    print(f"  {result['chunks']} chunks, {result['chunks_per_s']} chunks/s; raw encoder on the same "
                          f"chunks {result['encoder_chunks_per_s']} chunks/s (mean of before and after; same chunks "
                          f"{result['same_chunks']}): ratio {result['ratio_to_encoder']}, load {result['uptime']}")
        figures["runs"] = runs
        figures.update(files=files, mb=round(size / MB, 2), target_ratio=0.8)
        extraction = [r for r in runs if not r["embedding"]]
        if extraction:
            best = max(extraction, key=lambda r: r["files_per_s"])
            figures.update(best_ratio_extraction_only=best["ratio_to_raw"], best_workers=best["workers"])
        embedding = [r for r in runs if r["embedding"]]
        if embedding:
            ratios = sorted(r["ratio_to_encoder"] for r in embedding)
            figures.update(best_ratio_to_encoder=ratios[-1], median_ratio_to_encoder=ratios[len(ratios) // 2],
                           target_ratio_to_encoder=0.9)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(DATA_DIR, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
