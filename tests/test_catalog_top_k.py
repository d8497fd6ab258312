"""``catalog.top_k``, the head of every signal (dense, keyword, fused): the k best rows, best first, and among
rows tied at a score the earlier row first, also at the cut, so a page boundary never depends on how numpy's
selection happened to visit the array."""

from __future__ import annotations

import numpy as np

from embeddings.catalog import top_k


def _expected(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.lexsort((rows, -scores))[:k]  # full stable sort: score down, then row up
    return rows[order], scores[order]


def test_ties_at_the_kth_score_keep_the_earliest_rows() -> None:
    rng = np.random.default_rng(19)
    for _ in range(200):
        n = int(rng.integers(20, 400))
        rows = rng.permutation(n * 3)[:n].astype(np.int64)  # rows in any order, as a filtered subset gives them
        scores = rng.integers(0, 6, n).astype(np.float32)  # few distinct scores: most cuts fall inside a tie
        k = int(rng.integers(1, n))
        got_rows, got_scores = top_k(rows, scores, k)
        want_rows, want_scores = _expected(rows, scores, k)
        assert got_rows.tolist() == want_rows.tolist()
        assert got_scores.tolist() == want_scores.tolist()


def test_without_ties_and_at_the_edges() -> None:
    rows = np.array([7, 3, 9, 1], dtype=np.int64)
    scores = np.array([0.5, 0.9, 0.1, 0.7], dtype=np.float32)
    assert top_k(rows, scores, 2)[0].tolist() == [3, 1]
    assert top_k(rows, scores, 10)[0].tolist() == [3, 1, 7, 9]  # k beyond the rows: all of them, sorted
    assert top_k(rows, scores, 0)[0].tolist() == []
    same = np.full(4, 0.25, dtype=np.float32)
    assert top_k(rows, same, 3)[0].tolist() == [1, 3, 7]
    assert top_k(rows, scores, 2)[0].dtype == np.int64 and top_k(rows, scores, 2)[1].dtype == np.float32


def test_long_score_lists_whatever_their_order_ties_and_nans() -> None:
    """Past 20k scores the head is taken among those reaching a sampled threshold: the same head as a full sort,
    also when the sample is unlucky (sorted scores, one value everywhere, a tie straddling the threshold)."""
    rng = np.random.default_rng(23)
    n = 60_000
    rows = rng.permutation(3 * n)[:n].astype(np.int64)
    cases = {
        "random": rng.random(n).astype(np.float32),
        "few values": rng.integers(0, 50, n).astype(np.float32),
        "ascending": np.sort(rng.random(n)).astype(np.float32),
        "descending": np.sort(rng.random(n))[::-1].astype(np.float32),
        "all equal": np.full(n, 0.5, dtype=np.float32),
        "a tall tie on top": np.where(rng.random(n) < 0.01, 2.0, rng.random(n)).astype(np.float32),
    }
    with_nans = rng.random(n).astype(np.float32)
    with_nans[rng.random(n) < 0.3] = np.nan
    cases["nans"] = with_nans
    for name, scores in cases.items():
        for k in (1, 200, 5000, n - 1):
            if name == "nans" and k > np.count_nonzero(~np.isnan(scores)):
                continue  # a head that must hold NaNs: not a case searches meet
            got_rows, got_scores = top_k(rows, scores, k)
            want_rows, want_scores = _expected(rows, scores, k)
            assert got_rows.tolist() == want_rows.tolist(), (name, k)
            np.testing.assert_array_equal(got_scores, want_scores)
