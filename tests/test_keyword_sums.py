"""A query's per-row BM25 sums are the same whether they are summed in a dense buffer (many hits) or by sorting
the hits (few): same rows, same float32 sums, bit for bit, and the reused buffer starts clean every time."""

from __future__ import annotations

import numpy as np

from embeddings.keyword_index import _Accumulator, _sum_by_row


def test_dense_and_sorted_sums_agree_bit_for_bit() -> None:
    rng = np.random.default_rng(21)
    buffer = _Accumulator()
    for _ in range(30):
        rows_total = int(rng.integers(50, 5000))
        terms = int(rng.integers(2, 7))
        hit_rows = [np.sort(rng.choice(rows_total, int(rng.integers(1, rows_total)), replace=False)).astype(np.int32)
                    for _ in range(terms)]
        hit_scores = [rng.random(len(rows)) * rng.choice([1e-6, 1.0, 30.0]) + 1e-9 for rows in hit_rows]
        dense = _sum_by_row(hit_rows, hit_scores, rows_total, buffer)  # hits * 64 > rows: the buffer
        sorted_ = _sum_by_row(hit_rows, hit_scores, 10**9)  # as if the index were huge: the sort
        assert dense[0].tolist() == sorted_[0].tolist() == sorted(set(np.concatenate(hit_rows).tolist()))
        assert dense[1].dtype == sorted_[1].dtype == np.float32
        assert dense[1].tobytes() == sorted_[1].tobytes()
