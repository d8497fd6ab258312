"""The permission fast path: an allowed set given as numbers of another numbering selects exactly what
the same set of ids selects, as both the numbering and the catalog learn documents."""

from __future__ import annotations

import numpy as np
import pytest

from embeddings import SearchIndex, SearchInputError, vector_index
from embeddings.catalog import AllowedRows, Catalog, NumberedDocuments
from embeddings.embedder import get_embedder
from embeddings.keyword_index import KeywordIndex
from embeddings.text_tokens import tokenize
from embeddings.vector_index import VectorIndex

MODEL = "all-MiniLM-L6-v2"


class Numbering:
    """A grow-only numbering like the permission index's (ids in its own order)."""

    def __init__(self, ids: list[str]) -> None:
        self.ids: list[str] = []
        self.numbers: dict[str, int] = {}
        self.add(ids)

    def add(self, ids: list[str]) -> None:
        for doc in ids:
            self.numbers[doc] = len(self.ids)
            self.ids.append(doc)

    def of(self, ids: set[str]) -> NumberedDocuments:
        return NumberedDocuments(self, np.array(sorted(self.numbers[d] for d in ids), dtype=np.uint32))


def _random_index(seed: int, count: int, dim: int, share: float) -> tuple[np.ndarray, VectorIndex, np.ndarray]:
    """Unit vectors, a vector index holding them, and a random mask allowing about ``share`` of them."""
    rng = np.random.default_rng(seed)
    vectors = rng.normal(size=(count, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(dim)
    index.add(vectors)
    return vectors, index, rng.random(count) < share


def _catalog(docs: list[str], chunks_per_doc: int = 2, first_id: int = 1) -> Catalog:
    catalog = Catalog()
    _append(catalog, docs, chunks_per_doc, first_id)
    return catalog


def _append(catalog: Catalog, docs: list[str], chunks_per_doc: int = 2, first_id: int | None = None) -> None:
    start = first_id if first_id is not None else int(catalog.chunk_ids.view[-1]) + 1
    owners = [d for d in docs for _ in range(chunks_per_doc)]
    catalog.append(list(range(start, start + len(owners))), owners, [{"kind": "txt"}] * len(owners))


def _full(catalog: Catalog, mask: np.ndarray | None) -> np.ndarray:
    """A document mask with None (no restriction) spelled out, restricted to documents with live rows."""
    full = np.ones(len(catalog.doc_ids), dtype=np.bool_) if mask is None else mask
    return full & catalog.live_docs()


def _same(catalog: Catalog, numbering: Numbering, ids: set[str]) -> None:
    by_ids, by_numbers = catalog.doc_mask(ids), catalog.doc_mask(numbering.of(ids & set(numbering.numbers)))
    assert (by_ids is None) == (by_numbers is None)
    np.testing.assert_array_equal(_full(catalog, by_ids), _full(catalog, by_numbers))
    rows_ids, rows_numbers = catalog.allowed_rows(by_ids), catalog.allowed_rows(by_numbers)
    np.testing.assert_array_equal(rows_ids.mask, rows_numbers.mask)


def test_numbered_mask_equals_the_id_set_as_both_sides_learn_documents() -> None:
    catalog = _catalog(["a", "b", "c", "d"])
    # the numbering knows documents in another order, one the catalog has not indexed yet ("x")
    numbering = Numbering(["d", "x", "b", "a", "c"])
    for allowed in ({"a"}, {"b", "d"}, {"x"}, {"a", "x"}, set(), {"a", "b", "c"}):
        _same(catalog, numbering, allowed)
    assert catalog.doc_mask(numbering.of({"x"})) is not None and not catalog.doc_mask(numbering.of({"x"})).any()

    _append(catalog, ["x", "e"])  # now indexed: the number the map had as unknown must resolve
    numbering.add(["e", "f"])  # "f" is numbered but never indexed
    for allowed in ({"x"}, {"e"}, {"x", "e", "f"}, {"f"}, {"a", "x"}):
        _same(catalog, numbering, allowed)
    mask = catalog.doc_mask(numbering.of({"x"}))
    assert mask is not None and mask[catalog.doc_index["x"]] and mask.sum() == 1

    # a second numbering (the permission index rebuilt) gets its own map
    rebuilt = Numbering(["e", "c", "x", "a", "b", "d"])
    _same(catalog, rebuilt, {"e", "a"})
    _same(catalog, numbering, {"e", "a"})


def test_reading_every_live_document_skips_the_mask() -> None:
    catalog = _catalog(["a", "b", "c"])
    numbering = Numbering(["c", "b", "a"])
    assert catalog.doc_mask({"a", "b", "c", "unknown"}) is None
    assert catalog.doc_mask(numbering.of({"a", "b", "c"})) is None
    assert catalog.doc_mask(numbering.of({"a", "b"})) is not None
    assert catalog.allowed_rows(None) is catalog.allowed_rows(None)  # built once per catalog change
    assert catalog.allowed_rows(None).count == 6

    catalog.remove([5, 6])  # "c" has no live rows left: reading a and b is reading everything
    assert catalog.doc_mask({"a", "b"}) is None and catalog.doc_mask(numbering.of({"a", "b"})) is None
    assert catalog.allowed_rows(None).count == 4
    _append(catalog, ["c"])  # a new version of c
    assert catalog.doc_mask({"a", "b"}) is not None
    assert catalog.allowed_rows(None).count == 6


def test_bad_numbered_sets_are_refused() -> None:
    catalog = _catalog(["a", "b"])
    numbering = Numbering(["a", "b"])
    with pytest.raises(ValueError, match="outside"):
        catalog.doc_mask(NumberedDocuments(numbering, np.array([0, 2])))
    with pytest.raises(TypeError, match="integer"):
        NumberedDocuments(numbering, np.array([0.0, 1.0]))
    with pytest.raises(TypeError, match="one-dimensional"):
        NumberedDocuments(numbering, np.array([[0, 1]]))
    assert NumberedDocuments(numbering, np.array([1])).document_ids() == {"b"}


def test_indexes_take_allowed_rows_or_a_mask_alike() -> None:
    vectors, dense, mask = _random_index(3, 500, 16, 0.3)
    rows = AllowedRows(mask)
    for got, want in zip(dense.search(vectors[3], rows, 20), dense.search(vectors[3], mask, 20), strict=True):
        np.testing.assert_array_equal(got, want)

    keywords = KeywordIndex()
    words = ["wing", "flow", "shell", "heat", "cone"]
    keywords.add([[words[i % 5], words[(i * 7) % 5], "the"] for i in range(500)])
    terms = tokenize("wing heat")
    for got, want in zip(keywords.search(terms, rows, 50), keywords.search(terms, mask, 50), strict=True):
        np.testing.assert_array_equal(got, want)
    # the average length is kept with the row set, and stays right when the index grows
    keywords.add([["wing"] * 40])
    grown = AllowedRows(np.append(mask, True))
    fresh = KeywordIndex()
    fresh.add([[words[i % 5], words[(i * 7) % 5], "the"] for i in range(500)] + [["wing"] * 40])
    for got, want in zip(keywords.search(terms, grown, 50), fresh.search(terms, np.append(mask, True), 50),
                         strict=True):
        np.testing.assert_array_equal(got, want)


def test_ef_search_grows_with_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    index = VectorIndex(8)
    index.add(np.eye(8, dtype=np.float32))
    base = vector_index.EF_SEARCH
    assert index.ef_search() == index.ef_search(0.5) == base
    # a selective filter widens the beam (up to a cap): HNSW must walk past more forbidden points
    assert base < index.ef_search(0.25) < index.ef_search(0.1) <= vector_index.EF_SEARCH_MAX
    assert index.ef_search(0.0) == max(base, vector_index.EF_SEARCH_MAX)
    monkeypatch.setattr(vector_index, "EF_SEARCH_BY_ROWS", ((8, 999), (4, 500)))
    assert index.ef_search() == 999


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchIndex:
    index = SearchIndex(tmp_path_factory.mktemp("numbered"), MODEL, embedder=get_embedder(MODEL))
    texts = {
        "d1": "Pressure distribution on a slender delta wing at supersonic speed.",
        "d2": "Heat transfer in the laminar boundary layer of a flat plate.",
        "d3": "Boundary layer transition and heat transfer at hypersonic speed.",
        "d4": "Buckling of thin cylindrical shells under axial compression.",
        "d5": "知识图谱与语义检索结合，支持中文分词和英文检索。",
    }
    for i, (doc, text) in enumerate(texts.items()):
        index.add_document(doc, "v1", [(text, "p. 1"), (f"{text} Appendix {i}.", "p. 2")], {"kind": f"k{i % 2}"})
    return index


@pytest.mark.parametrize("mode", ["hybrid", "keyword", "dense"])
def test_search_with_numbers_equals_search_with_ids(engine: SearchIndex, mode: str) -> None:
    numbering = Numbering(["d5", "d9", "d3", "d1", "d4", "d2"])  # d9: known to permissions, not indexed
    for allowed in ({"d1", "d3"}, {"d2", "d9"}, {"d9"}, set(), {"d1", "d2", "d3", "d4", "d5"}):
        a = engine.search("heat transfer boundary layer", allowed, per_page=10, mode=mode, facet_fields=["kind"])
        b = engine.search("heat transfer boundary layer", numbering.of(allowed), per_page=10, mode=mode,
                          facet_fields=["kind"])
        assert [(h.document_id, h.score, h.snippet_html) for h in a.hits] == \
            [(h.document_id, h.score, h.snippet_html) for h in b.hits]
        assert (a.total, a.facets) == (b.total, b.facets)
        assert {h.document_id for h in b.hits} <= allowed
    with pytest.raises(SearchInputError, match="allowed_document_ids"):
        engine.search("heat", ["d1"], mode="keyword")  # type: ignore[arg-type]


def test_keyword_hit_summing_is_the_same_dense_or_sorted() -> None:
    from embeddings.keyword_index import _Accumulator, _sum_by_row

    rng = np.random.default_rng(11)
    hits = [np.unique(rng.integers(0, 1000, size)).astype(np.int32) for size in (400, 300, 5)]
    scores = [rng.random(len(h)).astype(np.float32) + 0.01 for h in hits]
    dense_rows, dense_scores = _sum_by_row(hits, scores, 1000)  # 700 hits over 1000 rows: accumulator
    sorted_rows, sorted_scores = _sum_by_row(hits, scores, 10**9)  # sparse: np.unique
    np.testing.assert_array_equal(dense_rows, sorted_rows)
    np.testing.assert_array_equal(dense_scores, sorted_scores)
    expected = {}
    for h, s in zip(hits, scores, strict=True):
        for row, score in zip(h.tolist(), s.tolist(), strict=True):
            expected[row] = expected.get(row, 0.0) + score
    assert dense_rows.tolist() == sorted(expected)
    np.testing.assert_allclose(dense_scores, [expected[r] for r in sorted(expected)], rtol=1e-6)
    # the reused buffer is left clean: a second, different sum is not polluted by the first
    accumulator = _Accumulator()
    accumulator.sum(hits, scores, 1000, sum(map(len, hits)))
    again_rows, again_scores = accumulator.sum(hits[1:], scores[1:], 1000, sum(map(len, hits[1:])))
    want_rows, want_scores = _sum_by_row(hits[1:], scores[1:], 10**9)
    np.testing.assert_array_equal(again_rows, want_rows)
    np.testing.assert_array_equal(again_scores, want_scores)


def test_row_sets_are_reused_only_for_the_same_documents_and_catalog_state() -> None:
    catalog = _catalog(["a", "b", "c"])
    numbering = Numbering(["c", "b", "a"])
    first = catalog.allowed_rows(catalog.doc_mask(numbering.of({"a", "b"})))
    again = catalog.allowed_rows(catalog.doc_mask({"a", "b"}))  # same documents by the other path
    assert again is first and first.count == 4
    other = catalog.allowed_rows(catalog.doc_mask({"a", "c"}))
    assert other is not first and other.mask.tolist() == [True, True, False, False, True, True]
    catalog.remove([1])  # a dead row must not survive in a reused row set
    after = catalog.allowed_rows(catalog.doc_mask({"a", "b"}))
    assert after is not first and after.mask.tolist() == [False, True, True, True, False, False]
    _append(catalog, ["d"])
    grown = catalog.allowed_rows(catalog.doc_mask({"a", "b"}))
    assert grown.mask.tolist() == [False, True, True, True, False, False, False, False]


def test_exact_scan_matches_brute_force_and_other_metrics_are_refused() -> None:
    import faiss

    vectors, index, allowed = _random_index(5, 4000, 24, 0.02)
    rows, scores = index.search(vectors[7], AllowedRows(allowed), k=40)
    brute = np.flatnonzero(allowed)[np.argsort(-(vectors[allowed] @ vectors[7]), kind="stable")[:40]]
    assert index.last_strategy == "exact" and rows.tolist() == brute.tolist()
    # Scores near zero differ in the last float32 bits between the two summation orders.
    np.testing.assert_allclose(scores, vectors[rows] @ vectors[7], rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="inner-product"):
        VectorIndex(24, faiss.IndexHNSWFlat(24, 8))
