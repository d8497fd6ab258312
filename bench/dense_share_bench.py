"""Dense search at one permission share of the 1M proxy index, strategy against strategy on the same queries and
row sets in one run: HNSW with a bitmap selector, the exact scan on one thread, the exact scan split in two.

Usage: python bench/dense_share_bench.py [--data-dir /work/benchdata/bench-search] [--rows 1000000]
                                         [--share 0.1] [--queries 100] [--users 10]

Needs the HNSW index bench/search_bench.py cached under --data-dir. Per strategy: p50/p95 of the engine's
``search_above`` (head of 200 + every row above the similarity floor, what a search asks) and recall@10 of
``search`` with k=10 against an exact scan. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import faiss
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_bench as sb

from embeddings import vector_index
from embeddings.catalog import AllowedRows
from embeddings.embedder import get_embedder
from embeddings.vector_index import VectorIndex

DEPTH, FLOOR = 200, 0.87
STRATEGIES = {  # (HNSW_MIN_FRACTION, SPLIT_ROWS)
    "hnsw": (0.0, vector_index.SPLIT_ROWS),
    "exact_one_thread": (2.0, 10**12),
    "exact_split": (2.0, vector_index.SPLIT_ROWS),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/benchdata/bench-search"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--share", type=float, default=0.1)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--users", type=int, default=10)
    args = parser.parse_args()
    faiss.omp_set_num_threads(1)  # what the search's dense thread runs with (embeddings.signals)
    path = next((args.data_dir / f"proxy-{args.rows}").glob(f"hnsw-{sb.MODEL}-{args.rows}-*.faiss"))
    index = VectorIndex.load(path, 384)
    embedder = get_embedder(sb.MODEL)
    qvecs = [embedder.embed_query(q) for q in sb.query_set(args.queries, np.random.default_rng(7))]
    rng = np.random.default_rng(11)
    n_docs = index.rows // sb.CHUNKS_PER_DOC
    times: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    recall: dict[str, list[float]] = {name: [] for name in STRATEGIES}
    for user in range(args.users):
        docs = rng.choice(n_docs, round(args.share * n_docs), replace=False)
        mask = np.zeros(index.rows, dtype=np.bool_)
        mask[(docs[:, None] * sb.CHUNKS_PER_DOC + np.arange(sb.CHUNKS_PER_DOC)).ravel()] = True
        allowed = AllowedRows(mask)
        _ = allowed.count, allowed.bits, allowed.rows
        exact_rows = np.ascontiguousarray(allowed.rows, dtype=np.int64)
        for i, qvec in enumerate(qvecs[user :: args.users]):
            want = np.sort(index._matrix()[exact_rows] @ qvec)[::-1][:10]
            names = list(STRATEGIES)
            for name in names[i % len(names) :] + names[: i % len(names)]:  # rotated: load hits all alike
                vector_index.HNSW_MIN_FRACTION, vector_index.SPLIT_ROWS = STRATEGIES[name]
                start = time.perf_counter()
                index.search_above(qvec, allowed, DEPTH, FLOOR)
                times[name].append((time.perf_counter() - start) * 1000)
                rows10, _ = index.search(qvec, allowed, 10)
                recall[name].append(sb.recall(rows10, index._matrix(), qvec, want))
    figures: dict[str, object] = {
        "share": args.share,
        "search_above_ms": {name: sb.summary(v) for name, v in times.items()},
        "recall@10_k10": {name: round(float(np.mean(v)), 4) for name, v in recall.items()},
        "load_average_1_5_15": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
