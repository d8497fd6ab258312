"""Score fusion of the keyword and dense rankings (embeddings.hybrid.fuse)."""

from __future__ import annotations

import pytest

from embeddings.hybrid import DocRank, fuse


def ranking(*pairs: tuple[str, float]) -> dict[str, DocRank]:
    ordered = sorted(pairs, key=lambda pair: -pair[1])
    return {doc: DocRank(rank, rank * 10, score) for rank, (doc, score) in enumerate(ordered, start=1)}


def order(fused: list[tuple[str, float]]) -> list[str]:
    return [doc for doc, _ in fused]


def test_a_single_signal_keeps_its_own_order_and_scores_are_normalised():
    fused = fuse({"keyword": ranking(("a", 12.0), ("b", 6.0), ("c", 3.0))}, {"keyword": 1.0})
    assert order(fused) == ["a", "b", "c"]
    assert [round(score, 3) for _, score in fused] == [1.0, 0.5, 0.25]


def test_a_flat_signal_barely_moves_a_confident_one():
    # an English-only model on Chinese text: cosines crowd together, so its vote is small
    keyword = ranking(("right", 20.0), ("near", 14.0), ("far", 5.0))
    flat_dense = ranking(("far", 0.70), ("near", 0.69), ("right", 0.66))
    assert order(fuse({"keyword": keyword, "dense": flat_dense}, {"keyword": 0.5, "dense": 0.5}))[0] == "right"


def test_a_confident_dense_signal_breaks_a_keyword_near_tie():
    keyword = ranking(("a", 10.0), ("b", 9.9))
    dense = ranking(("b", 0.9), ("a", 0.5))
    assert order(fuse({"keyword": keyword, "dense": dense}, {"keyword": 0.7, "dense": 0.3}))[0] == "b"


def test_documents_missing_from_a_signal_get_its_floor():
    keyword = ranking(("kw-only", 10.0), ("both", 5.0))
    dense = ranking(("both", 0.8), ("dense-only", 0.4))
    weights = {"keyword": 0.5, "dense": 0.5}
    scores = dict(fuse({"keyword": keyword, "dense": dense}, weights, zero_floor=frozenset({"keyword"})))
    # keyword: absent = 0; dense: absent = the lowest score it returned (0.4 / 0.8)
    assert scores["dense-only"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.5)
    assert scores["kw-only"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    assert scores["both"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    # without the zero floor, the keyword floor is its lowest score too
    lifted = dict(fuse({"keyword": keyword, "dense": dense}, weights))
    assert lifted["dense-only"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)


def test_weights_decide_between_disagreeing_signals_and_ties_are_stable():
    keyword = ranking(("k", 4.0), ("d", 1.0))
    dense = ranking(("d", 0.9), ("k", 0.3))
    assert order(fuse({"keyword": keyword, "dense": dense}, {"keyword": 0.8, "dense": 0.2}))[0] == "k"
    assert order(fuse({"keyword": keyword, "dense": dense}, {"keyword": 0.2, "dense": 0.8}))[0] == "d"
    tied = fuse({"keyword": ranking(("b", 1.0), ("a", 1.0))}, {"keyword": 1.0})
    assert order(tied) == ["a", "b"]


def test_empty_and_non_positive_signals():
    assert fuse({}, {}) == []
    assert fuse({"keyword": {}, "dense": {}}, {"keyword": 0.5, "dense": 0.5}) == []
    negative = fuse({"dense": ranking(("a", -0.1), ("b", -0.3))}, {"dense": 1.0})
    assert order(negative) == ["a", "b"]
