"""Dense retrieval restricted to an allowed set of rows, exact whenever it matters.

One FAISS HNSW index holds the vectors (its flat storage serves the exact scans, so float vectors are
kept once). The strategy follows selectivity: few allowed rows (a small count or a small share of
the index) get an exact scan of just those rows, which costs little because few vectors are read,
and never pay for an ANN walk that finds nothing; otherwise HNSW with a bitmap selector and a beam
widened for big indexes and for selective filters, falling back to the exact scan if it returns
fewer than k hits (selectors starve HNSW when they exclude much of the graph). A long exact scan
reads an 8-bit sketch of the vectors first and rescores in float32 only the rows its error bound
cannot rule out (embeddings/sketch.py): the same result for a quarter of the bytes read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import faiss
import numpy as np

from embeddings.catalog import AllowedRows, as_allowed_rows, top_k
from embeddings.sketch import Sketch

HNSW_M = 32
# Graph quality caps recall whatever the search beam: at 1M proxy vectors (bench/search_bench.py) efConstruction
# 64 levelled off at recall@10 0.958 (ef 1024), 128 reaches 0.9985 (ef 512-1024); the 1M build took 156 s.
EF_CONSTRUCTION = 128
EF_SEARCH = 256  # recall@10 vs exact ~0.99 on real MiniLM vectors of 100k texts (FIELD-NOTES)
# A bigger graph needs a wider beam for the same recall: (rows at or above, efSearch), largest first.
# At 1M multilingual-e5 proxy vectors (bench/search_bench.py), efConstruction 128, all rows allowed, recall@10 vs
# exact: ef 512 0.9915 (p95 5.7 ms), ef 1024 0.997 (p95 11.9 ms); 768 keeps >= 0.99 with margin at ~2/3 the cost.
EF_SEARCH_BY_ROWS = ((500_000, 768),)
# A selector allowing a share f < 1/2 of the rows widens the beam by 1/(2f), up to this.
EF_SEARCH_MAX = 1024
# Exact scans of up to this many rows cost a few ms; beyond it, HNSW when at least HNSW_MIN_FRACTION of the rows
# is allowed. Measured at 1M rows, 10% allowed (bench/search_bench.py): HNSW with a selector 11-16 ms p95 at
# recall@10 0.9835 whatever the beam (a selector that excludes 90% of the graph starves the walk); the exact
# scan of those 100k rows is exact at ~16 ms p50 (one thread, fp32 read in place; through the sketch ~8 ms).
# Tried for that share and slower or no faster: an 8-bit copy scanned with FAISS's bitmap selector (15 ms, same
# as fp32: decoding costs what the smaller reads save), an IVF over 1024 lists (recall@10 0.93 at 64 probes on
# the proxy corpus). At 100k rows, all allowed, exact 15-18 ms against HNSW's ~5.
EXACT_MAX_ROWS = 50_000
HNSW_MIN_FRACTION = 0.15
# An exact scan of more rows than this is split across two threads (FAISS and the sketch's kernel release the
# GIL): the scan is bound by memory reads, which one core does not saturate.
SPLIT_ROWS = 50_000
# Exact scans of at least this many rows read the 8-bit sketch first and rescore only the rows its bound cannot
# rule out (embeddings/sketch.py); an index of fewer rows keeps no sketch (it costs dim + 4 bytes a row). At 1M
# rows, the same scans through the sketch against float32 only, p50: 20k rows 2.4 / 3.7 ms, 50k 4.8 / 8.9,
# 100k 8.1 / 18.2 (~3k rows rescored). Below 20k a float32 scan costs a few ms at most.
SKETCH_ROWS = 20_000


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        if index is None:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
        if index.d != dim:
            raise ValueError(f"index dimension {index.d} != model dimension {dim}")
        if index.metric_type != faiss.METRIC_INNER_PRODUCT:  # the exact path scores by inner product
            raise ValueError("the vector index must use inner-product similarity")
        self._index = index
        self._xb: np.ndarray | None = None
        self._sketch: Sketch | None = None
        self.last_strategy = ""
        self._follow_sketch(None)

    @property
    def rows(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            vectors = np.ascontiguousarray(vectors, dtype=np.float32)
            self._index.add(vectors)
            self._xb = None  # storage may have been reallocated
            self._follow_sketch(vectors)

    def _follow_sketch(self, added: np.ndarray | None) -> None:
        """Keeps the sketch in step with the vectors: built from every row once the index holds SKETCH_ROWS,
        then extended by each addition."""
        if self._sketch is None:
            if self.rows >= SKETCH_ROWS:
                self._sketch = Sketch(self.dim)
                self._sketch.extend(self._matrix())
        elif added is not None:
            self._sketch.extend(added)

    @property
    def sketch_bytes(self) -> int:
        return self._sketch.nbytes if self._sketch is not None else 0

    def _matrix(self) -> np.ndarray:
        if self._xb is None:
            storage = faiss.downcast_index(self._index.storage)
            self._xb = faiss.rev_swig_ptr(storage.get_xb(), self.rows * self.dim).reshape(self.rows, self.dim)
        return self._xb

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self._matrix()[rows]

    def ef_search(self, allowed_fraction: float = 1.0) -> int:
        """The HNSW beam width for this index size and the share of rows a selector allows."""
        base = next((ef for rows, ef in EF_SEARCH_BY_ROWS if self.rows >= rows), EF_SEARCH)
        if allowed_fraction >= 0.5:
            return base
        return max(base, min(EF_SEARCH_MAX, round(base / (2 * max(allowed_fraction, 1e-9)))))

    def search(self, query: np.ndarray, allowed: AllowedRows | np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, scores) among the ``allowed`` rows (or rows where a bool mask is true), best first."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        allowed = as_allowed_rows(allowed)
        n_allowed = allowed.count
        k = min(k, n_allowed)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if self._uses_hnsw(allowed):
            rows, scores = self._hnsw(query, allowed, k)
            if len(rows) == k:
                self.last_strategy = "hnsw"
                return rows, scores
        self.last_strategy = "exact"
        head_rows, head_scores, _, _ = self._exact(query, allowed, k, None)
        return head_rows, head_scores

    def search_above(
        self, query: np.ndarray, allowed: AllowedRows | np.ndarray, k: int, floor: float
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(head rows, head scores) = the best ``k`` allowed rows, best first, WHETHER OR NOT they clear ``floor``,
        and (rows, scores) of EVERY row scoring at least ``floor``, in no particular order (a result count covers
        them all). The head ranks; the rows above the floor count. Fusion needs the similarity of rows below the
        floor that another signal matched (a keyword match is ranked by its meaning too), but such a row counts
        only through that other signal.

        Where the exact strategy applies, one scan of the allowed rows yields both. Otherwise, when HNSW's
        top-``k`` window is full of rows above the floor, one exact range pass over the allowed rows finds the
        rest. Either way the vectors are read in place (a numpy gather copied ~1.5 GB per query at 1M rows).
        """
        allowed = as_allowed_rows(allowed)
        if allowed.count == 0 or k <= 0:
            empty = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32))
            return (*empty, *empty)
        vector = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        if not self._uses_hnsw(allowed):  # one exact pass scores every allowed row: head and all at once
            self.last_strategy = "exact"
            return self._exact(vector, allowed, k, floor)
        rows, scores = self.search(query, allowed, k)
        keep = scores >= floor
        if len(rows) < k or not keep.all():
            return rows, scores, rows[keep], scores[keep]
        params = None
        selector = faiss.IDSelectorBitmap(self.rows, faiss.swig_ptr(allowed.bits))  # alive through the call
        if allowed.count < self.rows:
            params = faiss.SearchParameters()
            params.sel = selector
        storage = faiss.downcast_index(self._index.storage)
        radius = float(np.nextafter(np.float32(floor), np.float32(-np.inf)))  # FAISS keeps scores > radius
        _, found_scores, found_rows = storage.range_search(vector, radius, params=params)
        keep = found_scores >= floor
        all_rows, all_scores = found_rows[keep].astype(np.int64), found_scores[keep].astype(np.float32)
        return (*top_k(all_rows, all_scores, k), all_rows, all_scores)  # the exact head (HNSW's may miss a row)

    def _uses_hnsw(self, allowed: AllowedRows) -> bool:
        return allowed.count > EXACT_MAX_ROWS and allowed.count >= HNSW_MIN_FRACTION * self.rows

    def _scores_of(self, vector: np.ndarray, subset: np.ndarray) -> np.ndarray:
        """Inner products of ``vector`` with the given rows, read in place (a numpy gather would copy them)."""
        scores = np.empty(len(subset), dtype=np.float32)
        matrix = self._matrix()

        def part(lo: int, hi: int) -> None:
            faiss.fvec_inner_products_by_idx(
                faiss.swig_ptr(scores[lo:hi]), faiss.swig_ptr(vector), faiss.swig_ptr(matrix),
                faiss.swig_ptr(subset[lo:hi]), self.dim, 1, hi - lo,
            )

        _in_halves(len(subset), part)
        return scores

    def _exact(
        self, query: np.ndarray, allowed: AllowedRows, k: int, floor: float | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The exact top-``k`` of the allowed rows, and every allowed row scoring at least ``floor`` (none
        without one). A long scan estimates every row from the sketch first, then scores exactly only the rows
        that could be in either: those whose estimate is within the sketch's error of the k-th best estimate
        (doubled: that one may be off too) or of the floor. The result is the full scan's, row for row."""
        candidates = np.ascontiguousarray(allowed.rows, dtype=np.int64)
        if self._sketch is not None and len(candidates) >= SKETCH_ROWS and k < len(candidates):
            vector = query.reshape(-1)
            estimates = np.empty(len(candidates), dtype=np.float32)
            sketch = self._sketch
            _in_halves(len(candidates), lambda lo, hi: sketch.estimate(vector, candidates[lo:hi], estimates[lo:hi]))
            error = sketch.error(vector)
            kth = float(top_k(candidates, estimates, k)[1][-1])  # the k-th best estimate
            cut = kth - 2 * error if floor is None else min(kth - 2 * error, floor - error)
            candidates = candidates[estimates >= cut]
        scores = self._scores_of(query, candidates)
        hit = scores >= floor if floor is not None else np.zeros(len(candidates), dtype=np.bool_)
        return (*top_k(candidates, scores, k), candidates[hit], scores[hit])

    def _hnsw(self, query: np.ndarray, allowed: AllowedRows, k: int) -> tuple[np.ndarray, np.ndarray]:
        ef = max(self.ef_search(allowed.count / self.rows), 2 * k)
        if allowed.count == self.rows:  # nothing to filter (no deleted rows): the plain walk is cheaper
            params = faiss.SearchParametersHNSW(efSearch=ef)
        else:
            selector = faiss.IDSelectorBitmap(self.rows, faiss.swig_ptr(allowed.bits))
            params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
        scores, rows = self._index.search(query, k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex:
        return cls(dim, faiss.read_index(str(path)))


_helpers: dict[int, ThreadPoolExecutor] = {}


def _in_halves(n: int, work: Callable[[int, int], None]) -> None:
    """``work(lo, hi)`` over [0, n): past SPLIT_ROWS, the second half in a helper thread meanwhile."""
    if n <= SPLIT_ROWS:
        work(0, n)
        return
    pid = os.getpid()  # a pool inherited through fork has no thread in the child
    pool = _helpers.get(pid)
    if pool is None:
        pool = _helpers[pid] = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="dense-half", initializer=faiss.omp_set_num_threads, initargs=(1,),
        )
    middle = n // 2
    second = pool.submit(work, middle, n)
    work(0, middle)
    second.result()
