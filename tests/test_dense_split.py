"""Exact dense scans split across two threads give the same rows and scores as one pass."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import vector_index
from embeddings.catalog import AllowedRows
from embeddings.vector_index import VectorIndex


@pytest.mark.parametrize("split_rows", [10, 10**9])
def test_split_exact_scans_equal_a_brute_force_scan(monkeypatch: pytest.MonkeyPatch, split_rows: int) -> None:
    monkeypatch.setattr(vector_index, "SPLIT_ROWS", split_rows)
    rng = np.random.default_rng(4)
    vectors = rng.normal(size=(2000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(16)
    index.add(vectors)
    for trial in range(20):
        mask = rng.random(2000) < 0.1
        query = vectors[trial]
        rows = np.flatnonzero(mask)
        scores = vectors[rows] @ query
        order = np.lexsort((rows, -scores))
        for k in (1, 7, 150, 400):  # 150: more than either half holds when the share is small
            got_rows, got_scores = index.search(query, mask, k)
            assert index.last_strategy == "exact"
            assert list(got_rows) == list(rows[order[:k]])
            np.testing.assert_allclose(got_scores, scores[order[:k]], rtol=1e-5, atol=1e-6)
            head, _, above, above_scores = index.search_above(query, AllowedRows(mask), k, 0.2)
            assert list(head) == list(rows[order[:k]])
            assert sorted(above.tolist()) == sorted(rows[scores >= 0.2].tolist())
            np.testing.assert_allclose(above_scores, vectors[above] @ query, rtol=1e-5, atol=1e-6)
