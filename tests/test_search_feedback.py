"""Pseudo-relevance feedback (embeddings.feedback): the first fusion's best documents re-rank the candidates.

Built on hand-made vectors and texts, so each test states exactly which document feedback must move.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import SearchIndex
from embeddings.catalog import AllowedRows
from embeddings.feedback import Feedback, Pool, rerank
from embeddings.keyword_index import KeywordIndex
from embeddings.search_index import DocumentInput
from embeddings.text_tokens import tokenize
from embeddings.vector_index import VectorIndex

TEXTS = [
    "boundary layer heat transfer on a flat plate",  # 0: the query's words, on topic
    "boundary layer transition and skin friction of a cone",  # 1: on topic, fewer query words
    "heat transfer in a kitchen oven",  # 2: shares words, off topic
    "skin friction transition cone boundary layer measurements",  # 3: on topic, like 1
    "oven recipes for bread",  # 4: off topic
]


def _vectors() -> np.ndarray:
    # topic axis 0 (aerodynamics) and axis 1 (kitchen); rows 1 and 3 are near each other, row 3 far from the query
    raw = np.array([[1.0, 0.0, 0.3], [0.8, 0.0, -0.6], [0.3, 1.0, 0.0], [0.7, 0.0, -0.7], [0.0, 1.0, 0.2]])
    return (raw / np.linalg.norm(raw, axis=1, keepdims=True)).astype(np.float32)


def _setup() -> tuple[VectorIndex, KeywordIndex, AllowedRows, np.ndarray]:
    vectors = VectorIndex(3)
    vectors.add(_vectors())
    keywords = KeywordIndex()
    keywords.add([tokenize(t) for t in TEXTS])
    return vectors, keywords, AllowedRows(np.ones(len(TEXTS), dtype=np.bool_)), np.arange(len(TEXTS), dtype=np.int32)


def _heads(vectors: VectorIndex, keywords: KeywordIndex, allowed: AllowedRows, query: str, qvec: np.ndarray,
           depth: int) -> dict:
    dense = vectors.search(qvec, allowed, depth)
    keyword = keywords.search(tokenize(query), allowed, depth)
    every = keywords.matches(tokenize(query), allowed)
    return {"dense": (dense, dense), "keyword": (keyword, every)}


def test_dense_feedback_moves_the_query_towards_the_first_documents() -> None:
    vectors, keywords, allowed, row_doc = _setup()
    qvec = np.array([1.0, 0.0, 0.6], dtype=np.float32)
    qvec /= np.linalg.norm(qvec)
    query = "boundary layer"
    ranked = _heads(vectors, keywords, allowed, query, qvec, 5)
    before = ranked["dense"][0][0].tolist()
    assert before.index(3) > before.index(2)  # plain dense: the kitchen text above the related cone paper
    config = Feedback(docs=2, dense_weight=3.0, terms=0)
    out = rerank(config, Pool(ranked, vectors, keywords, allowed, query), [0, 1], qvec, row_doc, lambda rows: [])
    after = out["dense"][0][0].tolist()
    assert after.index(3) < after.index(2)  # feedback from documents 0 and 1 lifts the cone paper
    assert sorted(after) == sorted(np.unique(np.concatenate([ranked["dense"][0][0], ranked["keyword"][0][0]])))
    scores = out["dense"][0][1]
    assert np.all(np.diff(scores) <= 0)
    # what counts is untouched: every signal keeps its matches
    assert out["dense"][1] is ranked["dense"][1] and out["keyword"][1] is ranked["keyword"][1]


def test_keyword_feedback_adds_the_typical_terms_of_the_first_documents() -> None:
    vectors, keywords, allowed, row_doc = _setup()
    qvec = _vectors()[0]
    query = "boundary layer"
    ranked = _heads(vectors, keywords, allowed, query, qvec, 5)
    plain = dict(zip(*ranked["keyword"][0], strict=True))
    assert plain[1] > plain[3] or abs(plain[1] - plain[3]) < 1e-6  # both match the query words alone
    config = Feedback(docs=0, dense_weight=0.0, term_docs=1, terms=5, term_weight=1.0)
    out = rerank(config, Pool(ranked, vectors, keywords, allowed, query), [1], qvec, row_doc,
                 lambda rows: [TEXTS[r] for r in rows])
    rows, scores = out["keyword"][0]
    boosted = dict(zip(rows.tolist(), scores.tolist(), strict=True))
    # row 3 shares "skin friction transition cone" with the feedback document: it now beats row 0
    assert boosted[3] > boosted[0]
    assert 4 not in boosted  # no query or expansion word: still not a keyword candidate
    assert out["keyword"][1] is ranked["keyword"][1]


def test_row_scores_match_bm25_of_the_whole_index() -> None:
    _, keywords, allowed, _ = _setup()
    terms = tokenize("boundary layer heat")
    rows, scores = keywords.matches(terms, allowed)
    again = keywords.row_scores({t: 1.0 for t in terms}, rows, allowed)
    np.testing.assert_allclose(again, scores, rtol=1e-5)
    part = AllowedRows(np.array([True, False, True, False, True]))
    rows, scores = keywords.matches(terms, part)  # statistics over the allowed rows only
    np.testing.assert_allclose(keywords.row_scores({t: 1.0 for t in terms}, rows, part), scores, rtol=1e-5)


def test_no_first_documents_means_no_change() -> None:
    vectors, keywords, allowed, row_doc = _setup()
    qvec = _vectors()[0]
    ranked = _heads(vectors, keywords, allowed, "boundary layer", qvec, 5)
    assert rerank(Feedback(), Pool(ranked, vectors, keywords, allowed, "boundary layer"), [], qvec, row_doc,
                  lambda rows: []) is ranked


def test_rounds_run_in_order() -> None:
    second = Feedback(docs=3, term_docs=5)
    first = Feedback(docs=2, then=second)
    assert first.rounds() == [first, second] and second.rounds() == [second]


@pytest.mark.parametrize("config", [Feedback(docs=2, dense_weight=1.0, term_docs=2, terms=5, term_weight=1.0),
                                    Feedback(docs=2, term_docs=2, terms=5, then=Feedback(docs=3, term_docs=3))])
def test_the_engine_reranks_with_feedback_and_counts_the_same(tmp_path: Path, config: Feedback) -> None:
    index = SearchIndex(tmp_path, "all-MiniLM-L6-v2", weights={"keyword": 0.5, "dense": 0.5})
    index.add_documents([DocumentInput(f"d{i}", "v1", [(text, "")]) for i, text in enumerate(TEXTS)])
    index.refresh(wait=True)
    index.feedback = {}
    plain = index.search("boundary layer friction", None, per_page=10)
    index.feedback = {"en": config}
    fed = index.search("boundary layer friction", None, per_page=10)
    assert "feedback" in fed.timings_ms and "feedback" not in plain.timings_ms
    assert fed.total == plain.total  # feedback re-orders; it never adds or drops a result
    assert {h.document_id for h in fed.hits} == {h.document_id for h in plain.hits}
    index.close()
