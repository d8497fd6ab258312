"""Result counts, facets and paging are exact: checked against a brute-force reference on a small real store.

The reference recomputes, from the chunk texts and the store's own vectors (not from the engine's indexes),
which allowed documents match a query (a chunk holding a query term, or a chunk whose cosine clears the
model's floor), counts them per facet value, and compares with what ``SearchIndex.search`` reports, on every
path that finds "every match": the exact scan of a few rows and FAISS's range pass with a bitmap selector.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from embeddings import SearchIndex
from embeddings import vector_index as vector_index_module
from embeddings.embedder import Embedder, get_embedder
from embeddings.search_index import DocumentInput
from embeddings.store import ChunkStore
from embeddings.text_tokens import tokenize

MODEL = "all-MiniLM-L6-v2"
KINDS = ("pdf", "docx", "", None)
DEPTS = ("finance", "hr", "board", "lab")
QUERIES = ("wing pressure distribution", "boundary layer heat transfer", "supersonic flow", "slipstream")


def shared_data() -> Path:
    env = os.environ.get("HUITONG_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(MODEL)


@pytest.fixture(scope="module")
def store_index(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> SearchIndex:
    path = shared_data() / "retrieval" / "cranfield" / "corpus.jsonl"
    with open(path, encoding="utf-8") as handle:
        texts = [json.loads(line)["text"] for line in handle if line.strip()][:70]
    index = SearchIndex(tmp_path_factory.mktemp("exact"), MODEL, embedder=embedder)
    documents = []
    for n, text in enumerate(texts):
        words = text.split()
        blocks = [(" ".join(words[i : i + 30]), f"p. {i // 30 + 1}") for i in range(0, min(len(words), 60), 30)]
        meta = {"kind": KINDS[n % len(KINDS)], "department": DEPTS[n % 3 + (n % 7 == 0)], "uploaded_ms": n}
        documents.append(DocumentInput(f"d{n:03}", "v1", blocks, meta))
    index.add_documents(documents)
    index.refresh()
    return index


def reference(index: SearchIndex, query: str, allowed: set[str], fields: tuple[str, ...]
              ) -> tuple[set[str], dict[str, Counter[str]]]:
    """Matching documents and facet counts, by brute force over every stored chunk."""
    store = ChunkStore(index.root / "chunks.sqlite3")
    try:
        rows = store._conn.execute("SELECT c.document_id, c.text, c.text_hash, d.metadata FROM chunks c "
                                   "JOIN documents d ON d.document_id = c.document_id").fetchall()
        vectors = store.cached_vectors(index.model_name, [r[2] for r in rows])
    finally:
        store.close()
    terms = set(tokenize(query))
    qvec = index._query_vector(query)
    floor = index.similarity_floor
    assert floor is not None
    found: dict[str, dict[str, object]] = {}
    for doc, text, text_hash, meta in rows:
        if doc not in allowed:
            continue
        cosine = float(np.frombuffer(vectors[text_hash], np.float32) @ qvec)
        if terms & set(tokenize(text)) or cosine >= floor:
            found[doc] = json.loads(meta)
    counts = {f: Counter(str(m[f]) for m in found.values() if m.get(f) not in (None, "")) for f in fields}
    return set(found), counts


def every_page(index: SearchIndex, query: str, allowed: set[str], per_page: int) -> list[str]:
    docs: list[str] = []
    page = 1
    while True:
        hits = index.search(query, allowed, per_page=per_page, page=page, depth=8).hits
        if not hits:
            return docs
        docs += [h.document_id for h in hits]
        page += 1


@pytest.mark.parametrize("exact_max_rows", [50_000, 10])  # 10: FAISS's range pass with a bitmap selector
@pytest.mark.parametrize("share", [0.3, 1.0])
def test_counts_facets_and_pages_match_a_brute_force_reference(
    store_index: SearchIndex, monkeypatch: pytest.MonkeyPatch, exact_max_rows: int, share: float
) -> None:
    monkeypatch.setattr(vector_index_module, "EXACT_MAX_ROWS", exact_max_rows)
    monkeypatch.setattr(vector_index_module, "HNSW_MIN_FRACTION", 2.0)  # tiny index: never HNSW
    every = sorted(store_index._state.catalog.doc_ids)  # type: ignore[union-attr]
    rng = np.random.default_rng(int(share * 10) + exact_max_rows)
    allowed = set(rng.choice(every, round(share * len(every)), replace=False).tolist())
    fields = ("kind", "department")
    dense_fills_window = 0
    for query in QUERIES:
        want_docs, want_facets = reference(store_index, query, allowed, fields)
        # depth 8: the head of each signal is far smaller than the matches, so counts come from the full pass
        result = store_index.search(query, allowed, per_page=10, facet_fields=fields, depth=8)
        assert result.total == len(want_docs), query
        for name in fields:
            assert dict(result.facets[name]) == dict(want_facets[name]), (query, name)
            counts = [n for _, n in result.facets[name]]
            assert counts == sorted(counts, reverse=True)
        paged = every_page(store_index, query, allowed, per_page=7)
        assert len(paged) == len(set(paged)) and set(paged) == want_docs, query
        dense = store_index.search(query, allowed, mode="dense", per_page=1, depth=8)
        dense_fills_window += dense.total > 8
    assert dense_fills_window, "no query had more dense matches than the window: the full pass went untested"


def test_a_changed_document_moves_to_its_new_facet_value(tmp_path: Path, embedder: Embedder) -> None:
    index = SearchIndex(tmp_path, MODEL, embedder=embedder)
    index.add_document("a", "v1", [("Wind tunnel tests of a delta wing.", "p. 1")], {"kind": "pdf"})
    index.add_document("b", "v1", [("Wind tunnel balance calibration.", "p. 1")], {"kind": "pdf"})
    assert dict(index.search("wind tunnel", None, facet_fields=["kind"]).facets["kind"]) == {"pdf": 2}
    index.add_document("a", "v2", [("Wind tunnel tests of a swept wing.", "p. 1")], {"kind": "docx"})
    assert dict(index.search("wind tunnel", None, facet_fields=["kind"]).facets["kind"]) == {"pdf": 1, "docx": 1}
    index.close()
