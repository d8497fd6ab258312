"""Duplicates across owners on a real graph: exact and near copies linked, shown only as far as the viewer may read."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from documents_helpers import People, org_graph
from knowledge_support import actor, make_document

from graph import duplicates
from graph.cypher import cypher
from graph.demo_org import node_id
from graph.errors import ObjectMissing
from ingest import dedupe

POLICY = ("差旅费用报销管理办法。第一条 为规范公司差旅费用的报销，控制成本，根据国家有关规定制定本办法。"
          "第二条 本办法适用于公司全体员工因公出差发生的交通费、住宿费和伙食补助。"
          "第三条 出差人员应当事先填写出差审批单，经部门负责人批准后方可出差。"
          "第四条 住宿费按照城市类别和职级标准凭发票在限额内报销，超出部分由个人承担。"
          "第五条 出差结束后十个工作日内应当办理报销手续，逾期不予受理。")
EDITED = POLICY.replace("十个工作日", "十五个工作日").replace("凭发票", "凭合规发票")
OTHER = ("员工培训管理办法。第一条 为提升员工的专业能力，建立系统的培训体系，特制定本办法。"
         "第二条 培训分为入职培训、岗位技能培训和管理能力培训三类，由人力资源部统一组织。"
         "第三条 各部门应当于每年年初提交年度培训需求，经审批后纳入公司培训计划。"
         "第四条 员工参加外部培训的费用由公司承担的，应当签订培训服务协议。")


@pytest.fixture
def world(graph_server) -> Iterator[dict]:  # type: ignore[no-untyped-def]
    with org_graph(graph_server) as store:
        people = People(store)
        fin, fin2, hr, rnd = people.one("FIN-ACC"), people.one("FIN-ACC", 1), people.one("HR"), people.one("RND")
        reader = people.one("FIN-TRS")
        made = {
            "fin": make_document(store, fin["id"], "差旅办法", share_with="FIN", content=POLICY.encode()),
            "hr": make_document(store, hr["id"], "差旅办法（人事）", access="secret", content=POLICY.encode()),
            "rnd": make_document(store, rnd["id"], "差旅报销规定", share_with="FIN", content=EDITED.encode()),
            "fin2": make_document(store, fin2["id"], "培训办法", share_with="FIN", content=OTHER.encode()),
        }
        texts = {"fin": POLICY, "hr": POLICY, "rnd": EDITED, "fin2": OTHER}
        outcome = dedupe.link(store, [(d, v, texts[k]) for k, (d, v) in made.items()])
        yield {"store": store, "docs": {k: d for k, (d, _) in made.items()}, "outcome": outcome,
               "fin": fin["id"], "reader": reader["id"], "hr": hr["id"], "admin": node_id("person", "admin")}


def test_exact_and_near_copies_are_linked_across_owners(world) -> None:  # type: ignore[no-untyped-def]
    docs = world["docs"]
    pairs = {(p.a, p.b): p for p in world["outcome"].pairs}
    key = tuple(sorted((docs["fin"], docs["hr"])))
    assert pairs[key].kind == "exact" and pairs[key].similarity == 1.0
    near = pairs[tuple(sorted((docs["fin"], docs["rnd"])))]
    assert near.kind == "near" and 0.45 <= near.similarity < 1.0
    assert not any(docs["fin2"] in (p.a, p.b) for p in pairs.values())  # another text of the same kind
    assert world["outcome"].as_json() == {"documents": 4, "exact": 1, "near": 2}


def test_the_notice_lists_only_readable_copies(world) -> None:  # type: ignore[no-untyped-def]
    store, docs = world["store"], world["docs"]
    seen = duplicates.copies(store, actor(store, world["reader"]), docs["fin"])
    assert [c["id"] for c in seen["copies"]] == [docs["rnd"]] and seen["hidden"] == 1
    assert seen["kept_by"] and "人力资源部" not in seen["kept_by"]
    assert "人事" not in json.dumps(seen, ensure_ascii=False)  # the secret copy's title never shows
    everything = duplicates.copies(store, actor(store, world["admin"]), docs["fin"])
    assert everything["hidden"] == 0 and "人力资源部" in everything["kept_by"]
    with pytest.raises(ObjectMissing):  # the secret copy itself is missing to the reader
        duplicates.copies(store, actor(store, world["reader"]), docs["hr"])


def test_relinking_after_a_new_text_and_the_department_report(world) -> None:  # type: ignore[no-untyped-def]
    store, docs = world["store"], world["docs"]
    report = duplicates.department_report(store, actor(store, world["admin"]))
    assert report["pairs"] == 3
    with pytest.raises(ObjectMissing):
        duplicates.department_report(store, actor(store, world["reader"]))
    # The R&D copy is rewritten: its near link goes, the others stay.
    version = store.run(dedupe.q.CURRENT_VERSIONS, {"skip": 0, "limit": 100})
    rnd_version = next(r["version_id"] for r in version if r["document_id"] == docs["rnd"])
    dedupe.link(store, [(docs["rnd"], rnd_version, OTHER.replace("培训", "学习"))])
    pairs = duplicates.pairs_among(store, list(docs.values()))
    linked = {frozenset((p["a"], p["b"])) for p in pairs}
    assert frozenset((docs["fin"], docs["hr"])) in linked
    assert not any({p["a"], p["b"]} == {docs["fin"], docs["rnd"]} for p in pairs)


_JOB_FILES = cypher(
    "test.duplicates_job_files",
    "UNWIND $ids AS did CREATE (:IngestFile {id: did + '-f', job_id: $job_id, document_id: did})",
    writes=True,
)


def test_a_bulk_job_summary_counts_cross_owner_copies(world) -> None:  # type: ignore[no-untyped-def]
    store, docs = world["store"], world["docs"]
    store.run(_JOB_FILES, {"ids": [docs["hr"], docs["fin2"]], "job_id": "job-dup"})
    assert duplicates.job_summary(store, "job-dup") == {"documents": 1, "exact_pairs": 1, "near_pairs": 1}
    assert duplicates.job_summary(store, "job-none") == {"documents": 0, "exact_pairs": 0, "near_pairs": 0}
