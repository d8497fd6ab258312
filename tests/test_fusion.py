"""Score fusion of the keyword and dense rankings (embeddings.hybrid.fuse) and heads collapsed to documents."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings.hybrid import DocHead, fuse

# document numbers are positions here: "b" comes before "a", so ties must be broken by id, not number
IDS = ["right", "near", "far", "kw-only", "both", "dense-only", "k", "d", "b", "a", "c"]


def ranking(*pairs: tuple[str, float]) -> DocHead:
    ordered = sorted(pairs, key=lambda pair: -pair[1])
    docs = np.array([IDS.index(doc) for doc, _ in ordered], dtype=np.int64)
    return DocHead(docs, docs * 10, np.array([score for _, score in ordered], dtype=np.float64))


def order(fused: list[tuple[int, float]]) -> list[str]:
    return [IDS[doc] for doc, _ in fused]


def named(fused: list[tuple[int, float]]) -> dict[str, float]:
    return {IDS[doc]: score for doc, score in fused}


def test_a_head_of_rows_keeps_each_documents_best_row_in_order() -> None:
    row_doc = np.array([0, 0, 1, 1, 2, 2])
    head = DocHead.of_rows(np.array([3, 1, 2, 0, 5]), np.array([0.9, 0.8, 0.7, 0.6, 0.5], dtype=np.float32), row_doc)
    assert head.docs.tolist() == [1, 0, 2] and head.rows.tolist() == [3, 1, 5]
    assert head.scores.tolist() == pytest.approx([0.9, 0.8, 0.5])
    assert head.find(0) == (2, 1) and head.find(2) == (3, 5) and head.find(7) is None


def test_a_single_signal_keeps_its_own_order_and_scores_are_normalised():
    fused = fuse({"keyword": ranking(("a", 12.0), ("b", 6.0), ("c", 3.0))}, {"keyword": 1.0}, IDS)
    assert order(fused) == ["a", "b", "c"]
    assert [round(score, 3) for _, score in fused] == [1.0, 0.5, 0.25]


def test_a_flat_signal_barely_moves_a_confident_one():
    # an English-only model on Chinese text: cosines crowd together, so its vote is small
    keyword = ranking(("right", 20.0), ("near", 14.0), ("far", 5.0))
    flat_dense = ranking(("far", 0.70), ("near", 0.69), ("right", 0.66))
    assert order(fuse({"keyword": keyword, "dense": flat_dense}, {"keyword": 0.5, "dense": 0.5}, IDS))[0] == "right"


def test_a_confident_dense_signal_breaks_a_keyword_near_tie():
    keyword = ranking(("a", 10.0), ("b", 9.9))
    dense = ranking(("b", 0.9), ("a", 0.5))
    assert order(fuse({"keyword": keyword, "dense": dense}, {"keyword": 0.7, "dense": 0.3}, IDS))[0] == "b"


def test_documents_missing_from_a_signal_get_its_floor():
    keyword = ranking(("kw-only", 10.0), ("both", 5.0))
    dense = ranking(("both", 0.8), ("dense-only", 0.4))
    weights = {"keyword": 0.5, "dense": 0.5}
    scores = named(fuse({"keyword": keyword, "dense": dense}, weights, IDS, zero_floor=frozenset({"keyword"})))
    # keyword: absent = 0; dense: absent = the lowest score it returned (0.4 / 0.8)
    assert scores["dense-only"] == pytest.approx(0.5 * 0.0 + 0.5 * 0.5)
    assert scores["kw-only"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.5)
    assert scores["both"] == pytest.approx(0.5 * 0.5 + 0.5 * 1.0)
    # without the zero floor, the keyword floor is its lowest score too
    lifted = named(fuse({"keyword": keyword, "dense": dense}, weights, IDS))
    assert lifted["dense-only"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)


def test_weights_decide_between_disagreeing_signals_and_ties_are_stable():
    keyword = ranking(("k", 4.0), ("d", 1.0))
    dense = ranking(("d", 0.9), ("k", 0.3))
    assert order(fuse({"keyword": keyword, "dense": dense}, {"keyword": 0.8, "dense": 0.2}, IDS))[0] == "k"
    assert order(fuse({"keyword": keyword, "dense": dense}, {"keyword": 0.2, "dense": 0.8}, IDS))[0] == "d"
    tied = fuse({"keyword": ranking(("b", 1.0), ("a", 1.0))}, {"keyword": 1.0}, IDS)
    assert order(tied) == ["a", "b"]


def test_empty_and_non_positive_signals():
    assert fuse({}, {}, IDS) == []
    assert fuse({"keyword": ranking(), "dense": ranking()}, {"keyword": 0.5, "dense": 0.5}, IDS) == []
    negative = fuse({"dense": ranking(("a", -0.1), ("b", -0.3))}, {"dense": 1.0}, IDS)
    assert order(negative) == ["a", "b"]
