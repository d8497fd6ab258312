"""Dense retrieval restricted to an allowed set of rows, exact whenever it matters.

One FAISS HNSW index holds the vectors (its flat storage serves the exact scans, so vectors are
kept once). Few allowed rows: an exact flat scan restricted to them by a bitmap selector. Most
rows allowed: HNSW with a bitmap selector, falling back to the exact scan if it returns fewer
than k hits (selectors starve HNSW when they exclude much of the graph).
"""

from __future__ import annotations

from pathlib import Path

import faiss
import numpy as np

HNSW_M = 32
EF_CONSTRUCTION = 64
EF_SEARCH = 256  # recall@10 vs exact ~0.99 on real MiniLM vectors (FIELD-NOTES)
# Exact scans up to this many rows cost a few ms; beyond it, and when most rows are allowed, use HNSW.
EXACT_MAX_ROWS = 20_000
HNSW_MIN_FRACTION = 0.5


class VectorIndex:
    def __init__(self, dim: int, index: faiss.Index | None = None) -> None:
        self.dim = dim
        if index is None:
            index = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
        if index.d != dim:
            raise ValueError(f"index dimension {index.d} != model dimension {dim}")
        self._index = index
        self._xb: np.ndarray | None = None
        self.last_strategy = ""

    @property
    def rows(self) -> int:
        return int(self._index.ntotal)

    def add(self, vectors: np.ndarray) -> None:
        if len(vectors):
            self._index.add(np.ascontiguousarray(vectors, dtype=np.float32))
            self._xb = None  # storage may have been reallocated

    def _matrix(self) -> np.ndarray:
        if self._xb is None:
            storage = faiss.downcast_index(self._index.storage)
            self._xb = faiss.rev_swig_ptr(storage.get_xb(), self.rows * self.dim).reshape(self.rows, self.dim)
        return self._xb

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        return self._matrix()[rows]

    def search(self, query: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, scores) among rows where the bool mask ``allowed`` is true, best first."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(1, self.dim)
        n_allowed = int(allowed.sum())
        k = min(k, n_allowed)
        if k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        if n_allowed > EXACT_MAX_ROWS and n_allowed >= HNSW_MIN_FRACTION * self.rows:
            rows, scores = self._hnsw(query, allowed, k)
            if len(rows) == k:
                self.last_strategy = "hnsw"
                return rows, scores
        self.last_strategy = "exact"
        return self._exact(query, allowed, k)

    def _exact(self, query: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        # FAISS's flat scan skips rows outside the selector without copying vectors and stays
        # single-threaded for one query; a numpy gather + matmul hands small products to a threaded
        # BLAS, which was 10-100x slower on a busy 2-core machine.
        storage = faiss.downcast_index(self._index.storage)
        bits = np.packbits(allowed, bitorder="little")
        params = faiss.SearchParameters(sel=faiss.IDSelectorBitmap(self.rows, faiss.swig_ptr(bits)))
        scores, rows = storage.search(query, k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def _hnsw(self, query: np.ndarray, allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        bits = np.packbits(allowed, bitorder="little")
        selector = faiss.IDSelectorBitmap(self.rows, faiss.swig_ptr(bits))
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(EF_SEARCH, 2 * k))
        scores, rows = self._index.search(query, k, params=params)
        keep = rows[0] >= 0
        return rows[0][keep], scores[0][keep]

    def save(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int) -> VectorIndex:
        return cls(dim, faiss.read_index(str(path)))
