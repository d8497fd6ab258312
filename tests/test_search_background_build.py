"""Large catch-ups are built aside: search answers from the current indexes while the build runs, with progress,
and the built state (saved as a snapshot) is swapped in; the default query engine gives torch's vectors."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest
from helpers import run_cli

from embeddings import SearchIndex, builder
from embeddings.embedder import DEFAULT_MODEL, Embedder, get_embedder
from embeddings.search_index import DocumentInput

MODEL = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(MODEL)


def found(index: SearchIndex, word: str) -> set[str]:
    return {h.document_id for h in index.search(word, None, mode="keyword", per_page=50).hits}


def test_search_answers_from_the_current_index_while_a_large_catch_up_builds(
    tmp_path: Path, embedder: Embedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(builder, "BACKGROUND_ROWS", 5)
    monkeypatch.setattr(builder, "STEP_ROWS", 3)
    index = SearchIndex(tmp_path, MODEL, embedder=embedder)
    index.add_document("old", "v1", [("Zephyrine wind tunnel report.", "p. 1")])
    assert found(index, "zephyrine") == {"old"}  # a small catch-up is applied inline
    assert index.build_progress() is None
    release = threading.Event()
    real = builder.build_in_steps

    def held(*args, **kwargs):  # type: ignore[no-untyped-def]
        assert release.wait(60)
        return real(*args, **kwargs)

    monkeypatch.setattr(builder, "build_in_steps", held)
    index.add_documents([DocumentInput(f"new{i}", "v1", [(f"Quillback flutter note {i}.", "p. 1")])
                         for i in range(10)])
    assert found(index, "quillback") == set()  # the build runs aside; search does not wait for it
    assert found(index, "zephyrine") == {"old"}
    progress = index.build_progress()
    assert progress is not None and progress["running"] and progress["rows_total"] >= 10
    # other processes see it too: `huitong check --json` (here without a graph server, so unhealthy) and /healthz
    result = run_cli("check", "--json", env={"HUITONG_DATA_DIR": str(tmp_path)})
    shown = json.loads(result.stdout)["index_build"]
    assert shown["running"] and shown["processes"] == 1 and shown["done"] == 0 and shown["total"] >= 10, shown
    release.set()
    index.refresh(wait=True)
    assert found(index, "quillback") == {f"new{i}" for i in range(10)}
    progress = index.build_progress()
    assert progress is not None and not progress["running"]
    assert progress["rows_done"] == progress["rows_total"] == 11  # no snapshot yet: built from the start
    assert progress["error"] is None and progress["share_done"] == 1.0
    shown = builder.read_progress(tmp_path / "search")
    assert shown is not None and not shown["running"] and not shown["interrupted"]
    assert shown["done"] == shown["total"] == 11 and shown["share_done"] == 1.0
    index.close()
    reopened = SearchIndex(tmp_path, MODEL, embedder=embedder)  # starts from the build's snapshot
    assert found(reopened, "quillback") == {f"new{i}" for i in range(10)}
    assert reopened.build_progress() is None
    reopened.close()


def test_the_default_query_engine_gives_the_documents_tokenizer_vectors() -> None:
    e5 = get_embedder(DEFAULT_MODEL)
    encoder = e5.query_encoder
    assert encoder is not None and encoder.engine == "onnx"
    try:
        for query in ("该漫画是由谁创作的？", "pressure distribution on a slender wing", "（全角）括号 ＡＢＣ"):
            fast = e5.embed_query(query)
            e5.query_encoder = None
            slow = e5.embed_query(query)
            e5.query_encoder = encoder
            assert float(np.dot(fast, slow)) > 0.9999, query
    finally:
        e5.query_encoder = encoder
