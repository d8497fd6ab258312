"""Search latency, ANN recall and memory at scale, per permission selectivity.

Usage: python bench/search_bench.py [--chunks 100000] [--data-dir PATH] [--queries 200]

Builds N real chunks (word windows over the shared Cranfield and CMRC corpora, 10 chunks per
document), embeds them with the real model through SearchIndex.add_documents (the embedding
cache under --data-dir makes reruns cheap), then for users allowed to read 1% / 10% / 100% of the
documents measures p50/p95 of dense retrieval, keyword retrieval and a full hybrid search
(excluding the query embedding, measured separately), and dense recall@10 against an exact scan
of the allowed vectors. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import DocumentInput, SearchIndex
from embeddings.text_tokens import tokenize

CHUNKS_PER_DOC = 10


def shared_data() -> Path:
    env = os.environ.get("HUITONG_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def windows(n: int) -> list[str]:
    """n distinct short passages: sliding word windows (English) and character windows (Chinese)."""
    retrieval = shared_data() / "retrieval"
    english = " ".join(
        json.loads(line)["text"] for line in (retrieval / "cranfield" / "corpus.jsonl").open(encoding="utf-8")
    ).split()
    chinese = "".join(
        re.sub(r"\s+", "", json.loads(line)["text"])
        for line in (retrieval / "cmrc2018-trial-zh" / "corpus.jsonl").open(encoding="utf-8")
    )
    out: list[str] = []
    seen: set[str] = set()
    zh_share = n // 10  # a tenth Chinese, like a mixed intranet
    for start in range(0, len(chinese) - 40, max(1, len(chinese) // zh_share)):
        text = chinese[start : start + 40]
        if text not in seen and len(out) < zh_share:
            seen.add(text)
            out.append(text)
    stride = max(1, len(english) // (n - len(out)))
    for width in (24, 18, 30, 14):  # several widths so the windows stay distinct at any n
        for start in range(0, len(english) - width, stride):
            text = " ".join(english[start : start + width])
            if text not in seen:
                seen.add(text)
                out.append(text)
            if len(out) >= n:
                return out
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: ./data/bench-search/scale-<chunks>")
    args = parser.parse_args()
    if not (shared_data() / "retrieval").exists():
        sys.exit(f"shared data not found under {shared_data()} (set HUITONG_SHARED_DATA)")
    data_dir = args.data_dir or Path("data") / "bench-search" / f"scale-{args.chunks}"
    rng = random.Random(11)

    texts = windows(args.chunks)
    index = SearchIndex(data_dir, "all-MiniLM-L6-v2")
    start = time.perf_counter()
    docs = []
    for d in range(0, len(texts), CHUNKS_PER_DOC):
        part = texts[d : d + CHUNKS_PER_DOC]
        blocks = [(t, f"part {j}") for j, t in enumerate(part)]
        docs.append(DocumentInput(f"doc{d // CHUNKS_PER_DOC}", "v1", blocks, {"kind": ("zh", "en")[d % 3 > 0]}))
    for b in range(0, len(docs), 500):
        index.add_documents(docs[b : b + 500])
        print(f"\rstored {min(b + 500, len(docs))}/{len(docs)} documents", end="", file=sys.stderr)
    store_s = time.perf_counter() - start
    chunks = index.store.chunk_count()
    print(f"\n{chunks} chunks in {len(docs)} documents stored (embedding incl.) in {store_s:.1f} s")

    shutil.rmtree(data_dir / "search" / "snapshots", ignore_errors=True)  # measure a build from the store
    rss_before = rss_mb()
    start = time.perf_counter()
    index.refresh()
    build_s = time.perf_counter() - start
    memory_per_chunk = (rss_mb() - rss_before) * 2**20 / chunks
    start = time.perf_counter()
    index.save_snapshot()
    save_s = time.perf_counter() - start
    snap_dir = max((data_dir / "search" / "snapshots").glob("all-MiniLM*"), key=lambda p: p.stat().st_mtime)
    snapshot_bytes = sum(f.stat().st_size for f in snap_dir.iterdir())
    start = time.perf_counter()
    reloaded = SearchIndex(data_dir, "all-MiniLM-L6-v2", embedder=index.embedder)
    reloaded.refresh()
    load_s = time.perf_counter() - start
    reloaded.close()
    print(
        f"in-memory build {build_s:.1f} s, snapshot save {save_s:.2f} s, load {load_s:.2f} s, "
        f"~{memory_per_chunk:.0f} B/chunk"
    )

    query_texts = [json.loads(x)["text"] for x in (shared_data() / "retrieval" / "cranfield" / "queries.jsonl").open()]
    query_texts += [
        json.loads(x)["text"] for x in (shared_data() / "retrieval" / "cmrc2018-trial-zh" / "queries.jsonl").open()
    ]
    rng.shuffle(query_texts)
    query_texts = query_texts[: args.queries]
    embed_ms, qvecs = [], []
    for q in query_texts:
        t = time.perf_counter()
        qvecs.append(index.embedder.embed([q])[0])
        embed_ms.append((time.perf_counter() - t) * 1000)

    state = index._state
    assert state is not None
    catalog, vectors, keywords = state.catalog, state.vectors, state.keywords
    all_docs = list(catalog.doc_ids)
    figures: dict[str, object] = {
        "chunks": chunks,
        "documents": len(docs),
        "store_and_embed_s": round(store_s, 1),
        "index_build_s": round(build_s, 1),
        "snapshot_save_s": round(save_s, 2),
        "snapshot_load_s": round(load_s, 2),
        "memory_bytes_per_chunk": round(memory_per_chunk),
        "snapshot_bytes_per_chunk": round(snapshot_bytes / chunks),
        "query_embedding_ms": {"p50": pct(embed_ms, 50), "p95": pct(embed_ms, 95)},
    }
    for share in (0.01, 0.10, 1.0):
        dense_ms, keyword_ms, hybrid_ms, mask_ms, recalls, strategies = [], [], [], [], [], set()
        for q, qvec in zip(query_texts, qvecs, strict=True):
            allowed = set(rng.sample(all_docs, max(1, int(share * len(all_docs))))) if share < 1 else None
            t = time.perf_counter()
            mask = catalog.allowed_rows_mask(catalog.doc_mask(allowed))
            mask_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            rows, _ = vectors.search(qvec, mask, 10)
            dense_ms.append((time.perf_counter() - t) * 1000)
            strategies.add(vectors.last_strategy)
            exact_rows = np.flatnonzero(mask)
            exact = exact_rows[np.argsort(-(vectors.vectors(exact_rows) @ qvec))[:10]]
            recalls.append(len(set(rows.tolist()) & set(exact.tolist())) / max(1, len(exact)))
            terms = tokenize(q)
            t = time.perf_counter()
            keywords.search(terms, mask, 200)
            keyword_ms.append((time.perf_counter() - t) * 1000)
            results = index.search(q, allowed, per_page=10, facet_fields=["kind"])
            hybrid_ms.append(results.timings_ms["total"] - results.timings_ms["query_embedding"])
        label = f"{round(share * 100)}%"
        figures[label] = {
            "permission_mask_ms": {"p50": pct(mask_ms, 50), "p95": pct(mask_ms, 95)},
            "dense_ms": {"p50": pct(dense_ms, 50), "p95": pct(dense_ms, 95)},
            "dense_strategy": "/".join(sorted(strategies)),
            "dense_recall@10": round(float(np.mean(recalls)), 4),
            "keyword_ms": {"p50": pct(keyword_ms, 50), "p95": pct(keyword_ms, 95)},
            "hybrid_search_ms_excl_embedding": {"p50": pct(hybrid_ms, 50), "p95": pct(hybrid_ms, 95)},
        }
        print(label, json.dumps(figures[label]))
    index.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
