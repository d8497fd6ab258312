"""A query's per-row BM25 is the same whichever path computes it: terms scored by the compiled kernel (long
postings) or numpy, sums taken in a dense buffer (many hits) or by sorting the hits (few). Same rows, same
scores, bit for bit, and the reused buffer starts clean every time."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import keyword_index
from embeddings.catalog import AllowedRows
from embeddings.keyword_index import KeywordIndex, _Accumulator, _sum_by_row


@pytest.mark.parametrize("compiled_from", [0, 10**9])  # the buffer filled by the compiled loop, or by numpy
def test_dense_and_sorted_sums_agree_bit_for_bit(monkeypatch: pytest.MonkeyPatch, compiled_from: int) -> None:
    monkeypatch.setattr(keyword_index, "COMPILED_POSTING", compiled_from)
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


def test_long_postings_score_the_same_compiled_as_in_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Postings past COMPILED_POSTING are scored by a compiled kernel: the same float64 operations in the same
    order, so every term's scores are bit for bit the numpy ones, for full and partial row sets."""
    rng = np.random.default_rng(9)
    vocabulary = [f"w{i}" for i in range(40)]
    index = KeywordIndex()
    index.add([[vocabulary[int(v)] for v in rng.zipf(1.3, int(rng.integers(1, 300))) % 40] for _ in range(3000)])
    for share in (1.0, 0.3, 0.01):
        allowed = AllowedRows(rng.random(index.rows) < share if share < 1 else np.ones(index.rows, dtype=np.bool_))
        for term in vocabulary:
            for qtf in (1, 3):
                scored = []
                for threshold in (0, 10**9):  # compiled, then numpy
                    monkeypatch.setattr(keyword_index, "COMPILED_POSTING", threshold)
                    scored.append(index._term_scores(term, qtf, allowed))
                (rows_a, scores_a), (rows_b, scores_b) = scored
                assert rows_a.tolist() == rows_b.tolist()
                assert scores_a.dtype == scores_b.dtype == np.float64
                assert scores_a.tobytes() == scores_b.tobytes()


def test_cached_term_scores_sum_like_fresh_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """A repeated query takes its terms' scores from the term cache (read-only arrays): the compiled sums accept
    them and give what a fresh computation gives."""
    rng = np.random.default_rng(12)
    index = KeywordIndex()
    index.add([[f"w{int(v) % 30}" for v in rng.zipf(1.2, int(rng.integers(5, 80)))] for _ in range(2000)])
    monkeypatch.setattr(keyword_index, "COMPILED_POSTING", 0)
    allowed = AllowedRows(rng.random(index.rows) < 0.5)
    queries = [[f"w{int(v)}" for v in rng.integers(0, 30, 6)] for _ in range(20)]
    first = [index.matches(terms, allowed) for terms in queries]
    again = [index.matches(terms, allowed) for terms in queries]  # every term from the cache now
    index.term_cache_bytes = 0
    fresh = [index.matches(terms, AllowedRows(allowed.mask.copy())) for terms in queries]
    for (rows_a, scores_a), (rows_b, scores_b), (rows_c, scores_c) in zip(first, again, fresh, strict=True):
        assert rows_a.tolist() == rows_b.tolist() == rows_c.tolist()
        assert scores_a.tobytes() == scores_b.tobytes() == scores_c.tobytes()
