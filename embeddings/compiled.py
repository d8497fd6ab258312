"""The few loops numpy cannot express without extra passes over memory, compiled with Numba.

Each is typed explicitly, so it is compiled (or read from Numba's on-disk cache) once, when first needed, and
never again for other dtypes; inputs are typed read-only, which writable arrays also satisfy (cached term
scores are read-only). Numba is imported on first use, and only big indexes use these: a small one
never loads it.
"""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace

import numpy as np

CODE_MAX = 127  # int8 codes of the sketch run over [-127, 127]
# Rounding in two float32 dot products compared (the sketch's and the exact one), relative to
# ||q|| (||x|| + error): a 384-term sum errs by at most ~384 * 2^-24 ~ 2.3e-5 of it; 1e-4 leaves room.
ROUNDING = 1e-4


@cache
def kernels() -> SimpleNamespace:
    """A namespace of the compiled functions (see each one's comment)."""
    import numba
    from numba import types

    def read(dtype: types.Type, ndim: int = 1) -> types.Array:
        return types.Array(dtype, ndim, "C", readonly=True)

    # vectors (n, dim) float32 -> codes (n, dim) int8, scales (n,) float32, bounds (n,) float64 on
    # ||x - scale * codes|| plus rounding room
    @numba.njit(types.void(read(types.float32, 2), types.int8[:, ::1], types.float32[::1], types.float64[::1]),
                nogil=True, cache=True)
    def quantise(vectors, codes, scales, bounds):
        n, dim = vectors.shape
        for i in range(n):
            top = 0.0
            for j in range(dim):
                top = max(top, abs(vectors[i, j]))
            scale = np.float32(top / CODE_MAX) if top > 0 else np.float32(1.0)
            error = 0.0
            norm = 0.0
            for j in range(dim):
                x = float(vectors[i, j])
                code = min(CODE_MAX, max(-CODE_MAX, round(x / scale)))
                codes[i, j] = code
                error += (x - float(scale) * code) ** 2
                norm += x * x
            scales[i] = scale
            bounds[i] = np.sqrt(error) + ROUNDING * (np.sqrt(norm) + np.sqrt(error))

    # out[i] = scales[rows[i]] * (query . codes[rows[i]]); fastmath lets the sum be reordered (vectorised), the
    # rounding that costs is within ROUNDING
    @numba.njit(types.void(read(types.int8, 2), read(types.float32), read(types.float32), read(types.int64),
                           types.float32[::1]), nogil=True, fastmath=True, cache=True)
    def estimate(codes, scales, query, rows, out):
        dim = codes.shape[1]
        for i in range(rows.shape[0]):
            row = rows[i]
            total = np.float32(0.0)
            for j in range(dim):
                total += query[j] * np.float32(codes[row, j])
            out[i] = total * scales[row]

    # out[i] = tf[i] * weight / (doc_len[rows[i]] * per_length + base + tf[i]): one term's BM25 on its posting,
    # the same float64 operations in the same order as the numpy expression it stands in for (the same bits),
    # in one pass instead of six over arrays as long as the posting
    @numba.njit(types.void(read(types.int32), read(types.uint16), read(types.int32), types.float64, types.float64,
                           types.float64, types.float64[::1]), nogil=True, cache=True)
    def bm25(rows, tf, doc_len, per_length, base, weight, out):
        for i in range(rows.shape[0]):
            t = float(tf[i])
            out[i] = (t * weight) / (float(doc_len[rows[i]]) * per_length + base + t)

    # buffer[rows[i]] += values[i] in order: what np.add.at does (the same sums), without its per-call set-up
    # and generic inner loop (1M-row buffer, 420k hits over 8 terms: 1.0 ms against 1.9)
    @numba.njit(types.void(types.float64[::1], read(types.int32), read(types.float64)), nogil=True, cache=True)
    def scatter_add(buffer, rows, values):
        for i in range(rows.shape[0]):
            buffer[rows[i]] += values[i]

    return SimpleNamespace(quantise=quantise, estimate=estimate, bm25=bm25, scatter_add=scatter_add)
