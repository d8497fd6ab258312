"""``catalog.top_k`` at scale: the head of 1M scores, against the selection it replaced (numpy's
``argpartition`` alone, which breaks ties at the k-th score arbitrarily), in alternating rounds on the same
arrays. Two kinds of scores: dense-like floats (ties at the cut are rare) and keyword-like scores of few
distinct values (the cut falls inside a large tie, where the fixed selection does its extra work).

Usage: python bench/top_k_bench.py [--rows 1000000] [--k 10,200] [--repeats 30]
Ends with one JSON line of the figures (ms, median and p95 per case).
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

from embeddings.catalog import top_k


def before(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The selection as it was (ties at the k-th score: whichever rows argpartition visited)."""
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.lexsort((rows[top], -scores[top]))]
    return rows[top].astype(np.int64), scores[top].astype(np.float32)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--k", default="10,200")
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    rng = np.random.default_rng(7)
    rows = np.sort(rng.choice(args.rows * 2, args.rows, replace=False)).astype(np.int64)
    kinds = {"dense": rng.random(args.rows, dtype=np.float32),
             "keyword": rng.integers(0, 40, args.rows).astype(np.float32) / 4}
    figures: dict[str, object] = {"rows": args.rows, "load": [round(v, 2) for v in os.getloadavg()]}
    for kind, scores in kinds.items():
        for k in (int(v) for v in args.k.split(",")):
            times: dict[str, list[float]] = {"before": [], "after": []}
            for _ in range(args.repeats):
                for name, select in (("before", before), ("after", top_k)):
                    started = time.perf_counter()
                    select(rows, scores, k)
                    times[name].append((time.perf_counter() - started) * 1000)
            case = {name: {"p50": round(float(np.percentile(t, 50)), 2), "p95": round(float(np.percentile(t, 95)), 2)}
                    for name, t in times.items()}
            case["ratio_p50"] = round(case["after"]["p50"] / case["before"]["p50"], 3)
            figures[f"{kind}_k{k}"] = case
            print(f"{kind} scores, k={k}: before {case['before']} ms, after {case['after']} ms")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
