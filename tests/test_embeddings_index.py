"""Index internals against references, snapshots, and crash safety with a killed writer process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import bm25s
import numpy as np
import pytest

from embeddings import SearchIndex, snapshot, vector_index
from embeddings.chunker import text_hash
from embeddings.embedder import get_embedder
from embeddings.keyword_index import K1, KeywordIndex
from embeddings.store import ChunkStore
from embeddings.text_tokens import tokenize
from embeddings.vector_index import VectorIndex

MODEL = "all-MiniLM-L6-v2"
REPO = Path(__file__).resolve().parents[1]

TEXTS = [
    "Pressure distribution on a slender delta wing at supersonic speed.",
    "Heat transfer in the laminar boundary layer of a flat plate.",
    "Boundary layer transition and heat transfer at hypersonic speed.",
    "Buckling of thin cylindrical shells under axial compression.",
    "Supersonic flow past a cone; pressure measured on the surface.",
    "北京的汇通公司开发知识图谱平台，用于跨部门协作。",
    "知识图谱与语义检索结合，支持中文分词和英文 stemming。",
]


def test_bm25_matches_bm25s_and_filtered_stats_equal_an_index_of_only_allowed_rows():
    tokens = [tokenize(t) for t in TEXTS]
    ours = KeywordIndex()
    ours.add(tokens)
    reference = bm25s.BM25(k1=K1, b=0.75, method="lucene")
    reference.index(tokens, show_progress=False)
    query = tokenize("heat transfer boundary layer supersonic 知识图谱")
    everything = np.ones(len(TEXTS), dtype=bool)
    rows, scores = ours.search(query, everything, k=len(TEXTS))
    expected = reference.get_scores(query)
    assert list(rows) == [r for r in np.argsort(-expected, kind="stable") if expected[r] > 0]
    # bm25s' lucene variant leaves out the constant (k1 + 1) factor
    np.testing.assert_allclose(scores, expected[rows] * (K1 + 1), rtol=1e-5)

    allowed = np.array([False, True, True, False, True, False, True])
    rows, scores = ours.search(query, allowed, k=10)
    alone = KeywordIndex()
    alone.add([t for t, keep in zip(tokens, allowed, strict=True) if keep])
    alone_rows, alone_scores = alone.search(query, np.ones(int(allowed.sum()), dtype=bool), k=10)
    assert list(rows) == list(np.flatnonzero(allowed)[alone_rows])
    np.testing.assert_allclose(scores, alone_scores, rtol=1e-6)


def test_vector_search_is_exact_on_small_subsets_and_filtered_hnsw_falls_back(monkeypatch):
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(32)
    index.add(vectors[:1000])
    index.add(vectors[1000:])  # grows: the exact path must see the reallocated storage
    query = vectors[5] + 0.1
    allowed = rng.random(3000) < 0.05
    rows, scores = index.search(query, allowed, k=10)
    brute = np.flatnonzero(allowed)[np.argsort(-(vectors[allowed] @ query))[:10]]
    assert index.last_strategy == "exact" and list(rows) == list(brute)
    np.testing.assert_allclose(scores, vectors[rows] @ query, rtol=1e-5)

    monkeypatch.setattr(vector_index, "EXACT_MAX_ROWS", 100)
    most = rng.random(3000) < 0.9
    rows, _ = index.search(query, most, k=10)
    assert index.last_strategy == "hnsw" and most[rows].all() and len(rows) == 10
    # a selector that leaves HNSW short of k results must fall back to the exact scan
    monkeypatch.setattr(vector_index, "HNSW_MIN_FRACTION", 0.0)
    few = np.zeros(3000, dtype=bool)
    few[rng.choice(3000, 150, replace=False)] = True
    rows, _ = index.search(query, few, k=150)
    assert len(rows) == 150 and few[rows].all() and index.last_strategy in ("exact", "hnsw")
    assert index.search(query, np.zeros(3000, dtype=bool), k=10)[0].size == 0


def test_snapshot_round_trip_catch_up_and_damaged_snapshot(tmp_path):
    embedder = get_embedder(MODEL)
    writer = SearchIndex(tmp_path, MODEL, embedder=embedder)
    for i, text in enumerate(TEXTS):
        writer.add_document(f"d{i}", "v1", [(text, "p. 1")], {"lang": "zh" if i >= 5 else "en"})
    folder = writer.save_snapshot()
    writer.delete_document("d0")
    writer.add_document("d7", "v1", [("Flutter of a cantilever wing in a wind tunnel.", "p. 1")])

    reader = SearchIndex(tmp_path, MODEL, embedder=embedder)
    reader.refresh()
    state = reader._state
    assert state is not None and state.catalog.rows == len(TEXTS) + 1  # snapshot rows + one caught up
    assert state.catalog.live_rows == reader.store.chunk_count() == len(TEXTS)
    assert [h.document_id for h in reader.search("flutter cantilever", None, mode="keyword").hits] == ["d7"]
    assert reader.search("delta wing pressure", None, mode="keyword").hits[0].document_id != "d0"

    (folder / "vectors.faiss").write_bytes(b"garbage")  # a damaged snapshot is ignored, not trusted
    assert snapshot.load(tmp_path / "search" / "snapshots", MODEL, embedder.dim) is None
    rebuilt = SearchIndex(tmp_path, MODEL, embedder=embedder)
    assert rebuilt.search("知识图谱 中文分词", None, mode="keyword").hits[0].document_id == "d6"
    assert rebuilt._state is not None and rebuilt._state.catalog.live_rows == len(TEXTS)


def test_rows_without_a_cached_vector_are_embedded_when_caught_up(tmp_path):
    embedder = get_embedder(MODEL)
    writer = SearchIndex(tmp_path, MODEL, embedder=embedder)
    writer.add_document("w", "v1", [("Flutter of a cantilever wing in a wind tunnel.", "p. 1")])
    writer.store._conn.execute("DELETE FROM embedding_cache")  # as if the store was written by another model
    reader = SearchIndex(tmp_path, MODEL, embedder=embedder)
    assert reader.search("wing flutter", None, mode="dense").hits[0].document_id == "w"
    assert len(reader.store.cached_vectors(MODEL, [text_hash("Flutter of a cantilever wing in a wind tunnel.")])) == 1


_WRITER = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from embeddings import SearchIndex
    index = SearchIndex(sys.argv[1], "all-MiniLM-L6-v2")
    for i in range(1000):
        # texts repeat every 3 rounds: later adds hit the embedding cache, so the kill mostly lands in SQL
        blocks = [(f"Document {i % 3} paragraph {j} on shock tube experiments and wave drag. " * 4, f"p. {j}")
                  for j in range(12)]
        index.add_document(f"doc{i % 5}", f"v{i}", blocks, {"round": i})
        print(i, flush=True)
    """
)


@pytest.mark.slow
def test_killed_writer_leaves_a_consistent_store(tmp_path):
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    child = subprocess.Popen([sys.executable, str(script), str(tmp_path), str(REPO)], stdout=subprocess.PIPE, text=True)
    try:
        lines = 0
        deadline = time.monotonic() + 120
        while lines < 6 and time.monotonic() < deadline:
            if child.stdout.readline():
                lines += 1
        assert lines >= 6, "writer made no progress"
        time.sleep((os.getpid() % 7) / 100)  # land somewhere inside the next add
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        child.stdout.close()

    store = ChunkStore(tmp_path / "search" / "chunks.sqlite3")
    assert store.integrity_problems() == []
    for d in range(5):
        found = store.document(f"doc{d}")
        if found is not None:
            assert store.chunk_count(f"doc{d}") == 12, "a document has all chunks of one version or none"
    store.close()

    index = SearchIndex(tmp_path, MODEL, embedder=get_embedder(MODEL))
    index.add_document("doc0", "retry", [("Shock tube retry after the crash.", "p. 1")])
    hits = index.search("shock tube experiments", None, per_page=20).hits
    assert len({h.document_id for h in hits}) == len(hits) >= 1
    state = index._state
    assert state is not None and state.catalog.live_rows == index.store.chunk_count()
    assert index.store.integrity_problems() == []
