"""BM25 matching at 1M chunks with and without the per-row-set term cache (embeddings.keyword_index), on the
same postings, queries and row sets in one run, and whether both give identical rows and scores.

Usage: python bench/keyword_cache_bench.py [--data-dir /work/benchdata/bench-search] [--rows 1000000]
                                           [--queries 200] [--users 20]

Row sets as bench/search_bench.py draws them (10 chunks per document, random documents; one person per 10%
set, searching in turn); the 100% set is shared by every query. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import search_bench as sb

from embeddings.catalog import AllowedRows
from embeddings.keyword_index import KeywordIndex
from embeddings.text_tokens import configure_jieba, tokenize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("/work/benchdata/bench-search"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--users", type=int, default=20)
    args = parser.parse_args()
    configure_jieba(args.data_dir / "jieba")
    texts = sb.windows(10_000)
    assign = np.random.default_rng(args.rows).integers(0, len(texts), args.rows)  # as search_bench's corpus
    tokens = [tokenize(t) for t in texts]
    start = time.perf_counter()
    keywords = KeywordIndex()
    for s in range(0, args.rows, sb.BLOCK):
        keywords.add([tokens[a] for a in assign[s : s + sb.BLOCK].tolist()])
    figures: dict[str, object] = {"keyword_build_s": round(time.perf_counter() - start, 1)}
    queries = sb.query_set(args.queries, np.random.default_rng(7))
    rng = np.random.default_rng(11)
    n_docs = args.rows // sb.CHUNKS_PER_DOC
    for share in (0.1, 1.0):
        users = args.users if share < 1 else 1
        times: dict[str, list[float]] = {"uncached": [], "cached": []}
        identical = 0
        for user in range(users):
            mask = np.ones(args.rows, dtype=np.bool_)
            if share < 1:
                docs = rng.choice(n_docs, round(share * n_docs), replace=False)
                mask[:] = False
                mask[(docs[:, None] * sb.CHUNKS_PER_DOC + np.arange(sb.CHUNKS_PER_DOC)).ravel()] = True
            allowed = AllowedRows(mask)
            for i, query in enumerate(queries[user::users]):
                terms = tokenize(query)
                out = {}
                for label in (("uncached", "cached") if i % 2 else ("cached", "uncached")):
                    keywords.term_cache_bytes = 0 if label == "uncached" else 64 * 2**20
                    t0 = time.perf_counter()
                    rows, scores = keywords.matches(terms, allowed)
                    times[label].append((time.perf_counter() - t0) * 1000)
                    out[label] = (rows.copy(), scores.copy())
                identical += all(np.array_equal(a, b) for a, b in zip(out["cached"], out["uncached"], strict=True))
        label = f"{round(share * 100)}%"
        figures[label] = {name: sb.summary(v) for name, v in times.items()} | {
            "identical": f"{identical}/{len(times['cached'])}"
        }
        sb.log(f"{label}: {json.dumps(figures[label])}")
    figures["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
