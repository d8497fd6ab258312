"""SearchIndex end to end with the real model: cache, cross-process visibility, permissions, Chinese."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np
import pytest

from embeddings import Range, SearchIndex, SearchInputError
from embeddings.embedder import Embedder, get_embedder

MODEL = "all-MiniLM-L6-v2"


class CountingEmbedder:
    """The real embedder, counting the texts it is asked to embed."""

    def __init__(self, real: Embedder) -> None:
        self._real = real
        self.dim, self.max_tokens = real.dim, real.max_tokens
        self.model_name, self.similarity_floor = real.model_name, real.similarity_floor
        self.embedded: list[str] = []

    def count_tokens(self, text: str) -> int:
        return self._real.count_tokens(text)

    def embed(self, texts: list[str]):
        self.embedded.extend(texts)
        return self._real.embed(texts)

    def embed_query(self, query: str):
        self.embedded.append(query)
        return self._real.embed_query(query)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return get_embedder(MODEL)


def shared_data() -> Path:
    env = os.environ.get("HUITONG_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def test_cache_hit_avoids_re_embedding(tmp_path, embedder):
    spy = CountingEmbedder(embedder)
    index = SearchIndex(tmp_path, MODEL, embedder=spy)
    index.add_document("a", "v1", [("Wind tunnel tests of a delta wing.", "p. 1")])
    assert spy.embedded == ["Wind tunnel tests of a delta wing."]
    index.add_document("b", "v1", [("Wind tunnel tests of a delta wing.", "p. 9")])  # same text, other document
    index.add_document("a", "v2", [("Wind tunnel tests of a delta wing.", "p. 1"), ("New page.", "p. 2")])
    assert spy.embedded == ["Wind tunnel tests of a delta wing.", "New page."]
    index.close()
    # the cache is persistent: a new process (instance) on the same data dir embeds nothing again
    spy2 = CountingEmbedder(embedder)
    again = SearchIndex(tmp_path, MODEL, embedder=spy2)
    again.add_document("c", "v1", [("New page.", "x")])
    assert spy2.embedded == []
    assert {h.document_id for h in again.search("delta wing", None, mode="dense").hits[:2]} == {"a", "b"}
    assert spy2.embedded == ["delta wing"]  # only the query


def _wait_for(predicate, seconds: float = 5.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if predicate():
            return time.monotonic() - start
        time.sleep(0.05)
    raise AssertionError(f"not visible within {seconds} s")


def test_writes_are_visible_to_another_instance_within_5_seconds(tmp_path, embedder):
    reader = SearchIndex(tmp_path, MODEL, embedder=embedder)
    writer = SearchIndex(tmp_path, MODEL, embedder=embedder)
    assert reader.search("hypersonic flow", None).total == 0

    def found(query: str, doc: str) -> bool:
        return any(h.document_id == doc for h in reader.search(query, None, mode="keyword").hits)

    writer.add_document("doc1", "v1", [("Hypersonic flow over a blunt cone.", "p. 1")], {"type": "pdf"})
    _wait_for(lambda: found("hypersonic", "doc1"))
    writer.add_document("doc1", "v2", [("Laminar separation near a compression corner.", "p. 1")], {"type": "docx"})
    _wait_for(lambda: found("laminar separation", "doc1") and not found("hypersonic", "doc1"))
    assert reader.search("laminar", None, facet_fields=["type"]).facets == {"type": [("docx", 1)]}
    assert writer.delete_document("doc1") is True
    assert writer.delete_document("doc1") is False
    _wait_for(lambda: reader.search("laminar separation", None).total == 0)
    assert reader.store.integrity_problems() == []


PLANTED = {
    "open1": ("Budget planning for the zanzibarite project and general cooperation.", "finance"),
    "open2": ("Minutes of the weekly meeting about cooperation between departments.", "hr"),
    "secret1": ("The quixotryl merger with Velmora Holdings closes in March; qorvex figures attached.", "board"),
    "secret2": ("Qorvex payroll anomalies; quixotryl salary table for the executive team.", "board"),
    "secret3": ("机密：收购绯鲤集团的谈判底价为九亿元。", "board"),
}


@pytest.fixture(scope="module")
def planted(tmp_path_factory, embedder):
    index = SearchIndex(tmp_path_factory.mktemp("perm"), MODEL, embedder=embedder)
    for doc, (text, dept) in PLANTED.items():
        index.add_document(doc, "v1", [(text, "p. 1")], {"department": dept, "uploaded_ms": 1000 + len(doc)})
    return index


SECRET_WORDS = ("quixotryl", "qorvex", "velmora", "绯鲤", "收购", "board", "secret")


@pytest.mark.parametrize("mode", ["keyword", "dense", "hybrid"])
@pytest.mark.parametrize("query", ["quixotryl merger qorvex", "Velmora Holdings payroll", "绯鲤集团收购底价"])
def test_nothing_outside_the_allowed_set_is_returned_counted_or_snippeted(planted, mode, query):
    allowed = {"open1", "open2"}
    results = planted.search(query, allowed, mode=mode, per_page=50, facet_fields=["department"])
    assert {h.document_id for h in results.hits} <= allowed
    assert results.total <= len(allowed)
    assert {value for value, _ in results.facets["department"]} <= {"finance", "hr"}
    assert sum(count for _, count in results.facets["department"]) == results.total
    rendered = json.dumps([(h.snippet_html, h.metadata, h.ref) for h in results.hits], ensure_ascii=False).lower()
    assert not any(word.lower() in rendered for word in SECRET_WORDS)
    if mode == "keyword":
        assert results.total == 0  # the planted words exist only in forbidden documents


def test_the_same_queries_do_find_the_planted_documents_when_allowed(planted):
    everything = set(PLANTED)
    hits = planted.search("quixotryl qorvex", everything, mode="keyword").hits
    assert {h.document_id for h in hits} == {"secret1", "secret2"}
    assert "<mark>quixotryl</mark>" in hits[0].snippet_html.lower()
    assert planted.search("绯鲤集团", None, mode="keyword").hits[0].document_id == "secret3"
    assert planted.search("quixotryl", {"secret2", "open1"}, mode="hybrid").hits[0].document_id == "secret2"
    assert planted.search("quixotryl", set(), mode="hybrid").total == 0


def test_filters_restrict_inside_the_permission_set(planted):
    results = planted.search("cooperation", None, filters={"department": ["hr"]}, mode="hybrid")
    assert [h.document_id for h in results.hits] == ["open2"]
    ranged = planted.search("cooperation", {"open1", "open2", "secret1"}, filters={"uploaded_ms": Range(1005, 1005)})
    assert {h.document_id for h in ranged.hits} == {"open1", "open2"}  # secret1 is allowed but uploaded at 1007
    assert planted.search("cooperation", {"secret1"}, filters={"department": ["hr"]}).total == 0


def test_pagination_is_disjoint_and_complete(planted):
    everything = planted.search("cooperation budget merger", None, per_page=100)
    first = planted.search("cooperation budget merger", None, per_page=2, page=1)
    second = planted.search("cooperation budget merger", None, per_page=2, page=2)
    third = planted.search("cooperation budget merger", None, per_page=2, page=3)
    ids = [h.document_id for r in (first, second, third) for h in r.hits]
    # every document holding a query word counts (and only what clears the similarity floor besides)
    assert {"open1", "open2", "secret1"} <= set(ids)
    assert sorted(ids) == sorted(h.document_id for h in everything.hits) and first.total == len(ids)


def test_snippets_are_html_escaped(tmp_path, embedder):
    index = SearchIndex(tmp_path, MODEL, embedder=embedder)
    index.add_document("x", "v1", [("<script>alert('pwn')</script> turbulence & vortex shedding", "p. 1")])
    html = index.search("vortex", None).hits[0].snippet_html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>vortex</mark>" in html


def test_chinese_keyword_search_finds_the_chinese_passage(tmp_path, embedder):
    corpus_file = shared_data() / "retrieval" / "cmrc2018-trial-zh" / "corpus.jsonl"
    if not corpus_file.exists():
        pytest.skip(f"shared evaluation data not found at {corpus_file} (set HUITONG_SHARED_DATA)")
    docs = [json.loads(line) for line in corpus_file.read_text(encoding="utf-8").splitlines()[:6]]
    index = SearchIndex(tmp_path, MODEL, embedder=embedder)
    for doc in docs:
        index.add_document(doc["_id"], "v1", [(doc["text"], doc["title"])])
    target = docs[0]  # 《泡泡卡丁车》: a game by Nexon
    results = index.search("泡泡卡丁车是哪家公司开发的", None, mode="keyword")
    assert results.hits[0].document_id == target["_id"]
    assert "<mark>" in results.hits[0].snippet_html
    assert index.search("泡泡卡丁车", {d["_id"] for d in docs[1:]}, mode="keyword").total == 0


def test_bad_input_gets_clear_errors_and_loses_nothing(tmp_path, embedder):
    index = SearchIndex(tmp_path, MODEL, embedder=embedder)
    index.add_document("keep", "v1", [("Shock wave boundary layer interaction.", "p. 1")])
    for call in (
        lambda: index.search("  ", None),
        lambda: index.search("shock", ["keep"]),
        lambda: index.search("shock", None, per_page=0),
        lambda: index.search("shock", None, mode="fuzzy"),
        lambda: index.add_document("", "v1", [("x", "p")]),
        lambda: index.add_document("keep", "v2", [(b"bytes", "p")]),
        lambda: index.add_document("keep", "v2", [("text", "p")], {"bad": [1, 2]}),
    ):
        with pytest.raises(SearchInputError):
            call()
    assert [h.document_id for h in index.search("shock wave", None).hits] == ["keep"]
    assert index.store.document("keep")[0] == "v1"


def test_readding_the_same_version_is_a_no_op(tmp_path, embedder):
    index = SearchIndex(tmp_path, MODEL, embedder=embedder)
    index.add_document("d", "v1", [("Same text.", "p. 1")])
    mark = index.store.watermark()
    index.add_document("d", "v1", [("Same text.", "p. 1")])  # e.g. a task retried after a crash
    assert index.store.watermark() == mark and index.store.chunk_count() == 1


def test_single_query_runs_on_query_threads_and_restores_torch_threads(embedder):
    import torch

    from embeddings import embedder as embedder_module

    before = torch.get_num_threads()
    seen: list[int] = []
    real_encode = embedder._model.encode

    def spy(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return real_encode(*args, **kwargs)

    embedder._model.encode = spy
    try:
        single = embedder.embed(["heat transfer in a boundary layer"])[0]
        batch = embedder.embed(["heat transfer in a boundary layer", "delta wing"])[0]
    finally:
        del embedder._model.encode
    assert seen == [min(before, embedder_module.QUERY_THREADS), before]
    assert torch.get_num_threads() == before
    np.testing.assert_allclose(single, batch, atol=1e-5)  # same vector whatever the thread count
