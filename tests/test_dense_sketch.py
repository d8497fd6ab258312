"""The 8-bit sketch of the dense vectors: its bound holds for any vectors and queries, and exact scans that go
through it return exactly what a full float32 scan returns, row for row and score for score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from embeddings import vector_index
from embeddings.catalog import AllowedRows
from embeddings.sketch import Sketch
from embeddings.vector_index import VectorIndex


def _awkward_vectors(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """Unit vectors, plus rows a quantiser can get wrong: zero, one spike, huge, tiny, exact copies."""
    vectors = rng.normal(size=(n, dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[0] = 0.0
    vectors[1] = 0.0
    vectors[1, -1] = -1.0
    vectors[2] *= 1e4
    vectors[3] *= 1e-6
    vectors[4:40] = vectors[40]  # tied scores: the earlier row must win at a cut
    return vectors


def test_every_estimate_is_within_the_stated_error() -> None:
    rng = np.random.default_rng(11)
    for dim in (3, 64, 384):
        vectors = _awkward_vectors(rng, 500, dim)
        sketch = Sketch(dim)
        sketch.extend(vectors[:200])
        sketch.extend(vectors[200:])  # grown in two steps, as an index grows
        assert sketch.rows == 500
        rows = rng.permutation(500).astype(np.int64)
        for scale in (1.0, 0.01, 30.0):
            query = (rng.normal(size=dim) * scale).astype(np.float32)
            estimates = np.empty(len(rows), dtype=np.float32)
            sketch.estimate(query, rows, estimates)
            exact = vectors[rows].astype(np.float64) @ query.astype(np.float64)
            assert np.all(np.abs(estimates - exact) <= sketch.error(query))
    assert sketch.error(np.zeros(384, dtype=np.float32)) == 0.0


def _index(monkeypatch: pytest.MonkeyPatch, vectors: np.ndarray, sketch_rows: int) -> VectorIndex:
    monkeypatch.setattr(vector_index, "SKETCH_ROWS", sketch_rows)
    index = VectorIndex(vectors.shape[1])
    index.add(vectors)
    return index


@pytest.mark.parametrize("split_rows", [50, 10**9])
def test_scans_through_the_sketch_equal_full_scans(monkeypatch: pytest.MonkeyPatch, split_rows: int) -> None:
    monkeypatch.setattr(vector_index, "SPLIT_ROWS", split_rows)
    rng = np.random.default_rng(5)
    vectors = _awkward_vectors(rng, 3000, 24)
    sketched = _index(monkeypatch, vectors, sketch_rows=100)
    full = _index(monkeypatch, vectors, sketch_rows=10**9)
    monkeypatch.setattr(vector_index, "SKETCH_ROWS", 100)  # the scans of 100+ rows read the sketch
    for trial in range(40):
        mask = rng.random(len(vectors)) < rng.choice([0.05, 0.3, 1.0])
        mask[4:41] = trial % 2 == 0  # every other trial holds the copies
        query = vectors[40 + trial] + rng.normal(scale=0.05, size=24).astype(np.float32)
        for k in (1, 10, 200, 5000):
            assert _same(sketched.search(query, mask, k), full.search(query, mask, k))
            assert sketched.last_strategy == full.last_strategy == "exact"
            for floor in (0.9, 0.5, -1.0):  # -1: every row clears it
                got = sketched.search_above(query, AllowedRows(mask), k, floor)
                want = full.search_above(query, AllowedRows(mask), k, floor)
                assert _same(got, want)


def _same(got: tuple[np.ndarray, ...], want: tuple[np.ndarray, ...]) -> bool:
    return all(a.dtype == b.dtype and np.array_equal(a, b) for a, b in zip(got, want, strict=True))


def test_the_sketch_follows_the_index_through_growth_and_reload(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    rng = np.random.default_rng(8)
    vectors = _awkward_vectors(rng, 1500, 16)
    index = _index(monkeypatch, vectors[:600], sketch_rows=1000)
    assert index.sketch_bytes == 0  # too small to need one
    index.add(vectors[600:1200])  # crosses the threshold: built from every row
    index.add(vectors[1200:])
    assert index.sketch_bytes == 1500 * (16 + 4)
    index.save(tmp_path / "vectors.faiss")
    loaded = VectorIndex.load(tmp_path / "vectors.faiss", 16)
    assert loaded.sketch_bytes == index.sketch_bytes
    full = _index(monkeypatch, vectors, sketch_rows=10**9)
    monkeypatch.setattr(vector_index, "SKETCH_ROWS", 1000)
    mask = np.ones(len(vectors), dtype=np.bool_)
    mask[::3] = False  # 1000 rows allowed: the sketch is read
    for query in vectors[1450:1500]:  # rows added last are estimated like the rest
        assert _same(loaded.search(query, mask, 20), full.search(query, mask, 20))
        assert _same(index.search(query, mask, 20), full.search(query, mask, 20))
