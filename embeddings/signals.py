"""The two retrieval signals of one search, computed side by side.

The dense walk runs in FAISS, which releases the GIL, so it overlaps the keyword pass on the machine's other
core: a search costs the slower of the two instead of their sum (at 1M chunks, all readable, ~10 + ~20 ms).
Searches of one index are serialised by its lock, so each search has the pool to itself.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor

import faiss
import numpy as np

from embeddings.catalog import AllowedRows, top_k
from embeddings.keyword_index import KeywordIndex
from embeddings.matches import SignalMatches
from embeddings.text_tokens import tokenize
from embeddings.vector_index import VectorIndex

Ranked = dict[str, tuple[SignalMatches, SignalMatches]]

_pools: dict[int, ThreadPoolExecutor] = {}


def _dense_pool() -> ThreadPoolExecutor:
    # one per process: a pool inherited through fork (Celery's prefork workers) has no threads in the child
    pid = os.getpid()
    pool = _pools.get(pid)
    if pool is None:
        # FAISS's OpenMP team for a single query only spins and takes the core the keyword pass needs (dense at
        # 1% of 100k rows: 11.8 ms p95 with the team, 1.1 ms without); the thread count is per calling thread,
        # so index builds elsewhere keep every core
        pool = _pools[pid] = ThreadPoolExecutor(
            max_workers=2, thread_name_prefix="dense-signal", initializer=faiss.omp_set_num_threads, initargs=(1,),
        )
    return pool


def ranked_rows(
    vectors: VectorIndex, keywords: KeywordIndex, query: str, qvec: np.ndarray | None, rows_mask: AllowedRows,
    depth: int, floor: float | None, timings: dict[str, float],
) -> Ranked:
    """Per signal, (its best ``depth`` rows best first, every row it matched in no order): with a similarity
    floor every match counts (keyword rows holding a query term, dense rows above the floor), so that counts
    and facets cover all of them; without one only the head counts (dense similarity ranks every row).

    ``timings`` gets each signal's own time and ``signals``, the wall time of both together."""
    started = time.perf_counter()
    rows_mask.count  # noqa: B018 - computed once here, not raced for by the two threads
    dense = _dense_pool().submit(_dense, vectors, qvec, rows_mask, depth, floor) if qvec is not None else None
    keyword: tuple[SignalMatches, SignalMatches] | None = None
    if query:
        start = time.perf_counter()
        matched = keywords.matches(tokenize(query), rows_mask)
        head = top_k(*matched, depth)
        keyword = (head, head if floor is None else matched)
        timings["keyword"] = (time.perf_counter() - start) * 1000
    out: Ranked = {}
    if dense is not None:  # inserted first, as fusion has always seen them
        out["dense"], timings["dense"] = dense.result()
    if keyword is not None:
        out["keyword"] = keyword
    timings["signals"] = (time.perf_counter() - started) * 1000
    return out


def _dense(
    vectors: VectorIndex, qvec: np.ndarray, rows_mask: AllowedRows, depth: int, floor: float | None
) -> tuple[tuple[SignalMatches, SignalMatches], float]:
    start = time.perf_counter()
    if floor is None:
        head = vectors.search(qvec, rows_mask, depth)
        found = (head, head)
    else:
        head_rows, head_scores, rows, scores = vectors.search_above(qvec, rows_mask, depth, floor)
        found = ((head_rows, head_scores), (rows, scores))
    return found, (time.perf_counter() - start) * 1000
