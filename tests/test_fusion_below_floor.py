"""The dense signal ranks keyword matches below the similarity floor, but only counted documents are results.

The floor decides what counts (a keyword match, or a chunk whose cosine clears it); the dense head that fusion
ranks with is the best rows whatever their cosine, so two documents that match the same words are ordered by
their meaning. A document only the dense head holds (below the floor, no query term) is never a result.
"""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import SearchIndex
from embeddings import vector_index as vector_index_module
from embeddings.embedder import Embedder, get_embedder
from embeddings.matches import counted_only
from embeddings.search_index import DocumentInput
from embeddings.vector_index import VectorIndex

MODEL = "all-MiniLM-L6-v2"


class FlooredEmbedder:
    """The real embedder with a floor no document clears: only keyword matches count."""

    def __init__(self, real: Embedder, floor: float) -> None:
        self._real = real
        self.dim, self.max_tokens, self.model_name = real.dim, real.max_tokens, real.model_name
        self.similarity_floor = floor

    def count_tokens(self, text: str) -> int:
        return self._real.count_tokens(text)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self._real.embed(texts)

    def embed_query(self, query: str) -> np.ndarray:
        return self._real.embed_query(query)


@pytest.mark.parametrize("exact_max_rows", [50_000, 10])  # 10: the HNSW walk, then FAISS's range pass
def test_the_head_ranks_rows_below_the_floor_and_only_rows_above_it_count(
    monkeypatch: pytest.MonkeyPatch, exact_max_rows: int
) -> None:
    monkeypatch.setattr(vector_index_module, "EXACT_MAX_ROWS", exact_max_rows)
    rng = np.random.default_rng(3)
    matrix = rng.normal(size=(60, 16)).astype(np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    index = VectorIndex(16)
    index.add(matrix)
    query = matrix[7]
    cosines = matrix @ query
    floor = float(np.sort(cosines)[-3])  # three rows clear it
    head_rows, head_scores, rows, scores = index.search_above(query, np.ones(60, dtype=np.bool_), 10, floor)
    assert len(head_rows) == 10 and head_rows[0] == 7
    assert (head_scores < floor).sum() == 7  # ranked, though below the floor
    assert np.all(np.diff(head_scores) <= 0)
    assert sorted(rows.tolist()) == sorted(np.flatnonzero(cosines >= floor).tolist())
    assert np.all(scores >= floor)


def test_counted_only_keeps_the_fused_order_of_counted_documents() -> None:
    fused = [(2, 0.9), (0, 0.8), (1, 0.5), (3, 0.1), (7, 0.05)]  # document numbers
    assert counted_only(fused, np.array([0, 2])) == [(2, 0.9), (0, 0.8)]
    assert counted_only(fused, np.array([0, 3, 7])) == [(0, 0.8), (3, 0.1), (7, 0.05)]
    assert counted_only(fused, np.array([], dtype=np.int64)) == []


@pytest.fixture(scope="module")
def floored(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    embedder = FlooredEmbedder(get_embedder(MODEL), floor=0.99)
    index = SearchIndex(tmp_path_factory.mktemp("floored"), MODEL, embedder=embedder,  # type: ignore[arg-type]
                        weights={"keyword": 0.5, "dense": 0.5})
    texts = {  # a- and b- hold the query's one matching word once each, in texts of the same length
        "a-hospital": "wing of the hospital building opens on monday",
        "b-aircraft": "wing of the aircraft produces lift in flight",
        "c-jet": "jet aircraft flying over the ocean at night",
    }
    index.add_documents([DocumentInput(doc, "v1", [(text, "")]) for doc, text in texts.items()])
    index.refresh(wait=True)
    return index


def test_keyword_matches_below_the_floor_are_ordered_by_meaning(floored: SearchIndex) -> None:
    keyword = floored.search("airplane wing", None, mode="keyword", snippets=False)
    scores = {hit.document_id: hit.score for hit in keyword.hits}
    assert scores["a-hospital"] == pytest.approx(scores["b-aircraft"])  # keyword alone cannot tell them apart
    hybrid = floored.search("airplane wing", None, snippets=False)
    assert [hit.document_id for hit in hybrid.hits] == ["b-aircraft", "a-hospital"]
    assert hybrid.total == 2  # c-jet is close in meaning but below the floor and holds no query word


def test_nothing_below_the_floor_is_a_dense_result(floored: SearchIndex) -> None:
    dense = floored.search("airplane wing", None, mode="dense", snippets=False)
    assert dense.total == 0 and dense.hits == []
