"""An 8-bit copy of the dense vectors whose scores carry a bound: exact scans read a quarter of the bytes.

Row r is kept as int8 codes c_r and a scale s_r (x_r ~ s_r c_r), with a bound b_r >= ||x_r - s_r c_r|| plus
room for floating-point rounding. For any query q, |q.x_r - s_r (q.c_r)| <= ||q|| b_r (Cauchy-Schwarz). So a
scan of the codes, then an exact rescoring of just the rows the bound cannot rule out, returns exactly what a
scan of the float vectors returns (``VectorIndex`` does the rescoring).

Why: an exact scan of many allowed rows is bound by memory reads, 1.5 KB a row in float32. At 1M rows with
100k allowed, one thread: FAISS's float32 by-index scan 15 ms, these codes 5.9 ms, leaving ~2.5k rows to
rescore (~0.4 ms). FAISS's own 8-bit scalar quantiser with a bitmap selector took 8.5 ms and numpy (gather,
then BLAS) 13 ms: both decode row by row, where the kernel here (embeddings/compiled.py) is vectorised.
"""

from __future__ import annotations

import numpy as np

from embeddings.catalog import GrowArray
from embeddings.compiled import kernels


class Sketch:
    """The int8 codes and scales of a growing set of vectors, and the largest of their error bounds (one bound
    for all rows keeps the scan simple; embeddings are unit vectors, so their bounds are alike)."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._codes = GrowArray(np.int8, width=dim)
        self._scales = GrowArray(np.float32)
        self.max_bound = 0.0

    @property
    def rows(self) -> int:
        return self._scales.size

    @property
    def nbytes(self) -> int:
        return self.rows * (self.dim + 4)  # codes and a float32 scale per row

    def extend(self, vectors: np.ndarray) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if not len(vectors):
            return
        bounds = np.empty(len(vectors), dtype=np.float64)
        kernels().quantise(vectors, self._codes.grow(len(vectors)), self._scales.grow(len(vectors)), bounds)
        self.max_bound = max(self.max_bound, float(bounds.max()))

    def error(self, query: np.ndarray) -> float:
        """How far any row's estimate may be from its exact inner product with ``query``."""
        return float(np.linalg.norm(query.astype(np.float64))) * self.max_bound

    def estimate(self, query: np.ndarray, rows: np.ndarray, out: np.ndarray) -> None:
        """Estimated inner products of ``query`` (float32, 1-D) with ``rows`` (int64), written to ``out``."""
        query = np.ascontiguousarray(query, dtype=np.float32)
        kernels().estimate(self._codes.view, self._scales.view, query, rows, out)
