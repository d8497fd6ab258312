"""Org-aware ranking (graph.proximity): nDCG@10 with and without the boost on a judged set built here, and proof
that it does not hurt the shared retrieval sets.

Usage: python bench/ranking_bench.py [--topics N] [--shared DIR ...] [--max-docs N] [--data-dir PATH]

1. Judged org set (generated into a temp dir, real embedded graph with the demo organisation, real upload ->
   extract -> embed -> index path, real ``ingest.search.search`` as the person): for each topic, the same
   question has near-identical answers kept by several departments (one copy each, small wording edits,
   readable by everyone). Each member of those departments asks the question; the relevant answer is
   their own department's copy (gain 1, every other copy 0). nDCG@10 and the own copy's mean rank are
   reported with the boost off (``boost=0``) and on, in the same run.
2. Shared retrieval sets (BEIR format: CMRC 2018 trial, Cranfield; default: /work/shared/data/retrieval/*):
   every document sits in one department, so every result has the same tier and the boost multiplies all
   scores by one factor: the order must not change. The fused top-``pool`` results of each query are
   re-ranked by the same ``proximity.rerank`` for an asker inside that department and one outside;
   nDCG@10 before/after and the number of queries whose top 10 changed are reported.
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_quality import doc_text, index_corpus, ndcg_at, read_jsonl, read_qrels

from embeddings import SearchIndex
from graph import org, proximity
from graph.actor import Actor
from graph.demo_org import load_demo_org
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context
from ingest import processing, uploads
from ingest import search as service
from settings import load_settings

SHARED = Path("/work/shared/data/retrieval")
# Leaf departments of the demo organisation that keep copies (siblings under FIN and RND, plus others).
DEPARTMENTS = ("FIN-ACC", "FIN-TRS", "HR", "RND-PLT", "RND-MOB", "LEGAL")
COPIES = 4
TOPICS = [
    ("差旅费用报销的标准和流程是什么", "差旅费用报销", "出差人员凭发票在返回后十个工作日内提交报销单，"
     "住宿标准按城市分级，一线城市每晚不超过六百元，交通优先选择高铁二等座。"),
    ("新员工入职需要准备哪些材料", "新员工入职材料", "新员工入职当天提交身份证复印件、学历证明、离职证明和体检报告，"
     "并签署劳动合同与保密协议。"),
    ("采购合同审批需要经过哪些环节", "采购合同审批", "采购合同由需求部门发起，经部门负责人、法务审核和财务复核后，"
     "金额超过五十万元的还须总经理批准。"),
    ("年假如何申请和计算天数", "年假申请", "员工工作满一年享有五天年假，满十年十天，申请需提前三个工作日在系统提交，"
     "由直属上级审批。"),
    ("服务器上线变更的审批流程", "服务器变更上线", "生产环境变更须提前两天提交变更单，附回滚方案，经运维负责人和"
     "架构师评审后在维护窗口执行。"),
    ("办公用品如何领用", "办公用品领用", "办公用品每月第一周集中领用，由部门行政助理汇总需求，超过五百元的物品需"
     "部门负责人签字。"),
    ("客户投诉的处理时限是多少", "客户投诉处理", "客户投诉须在二十四小时内首次响应，三个工作日内给出处理方案，重大投诉"
     "当天上报分管领导。"),
    ("数据备份的频率和保存期限", "数据备份策略", "业务数据每日增量备份、每周全量备份，备份保存九十天，每季度做一次"
     "恢复演练。"),
    ("加班费如何计算", "加班费计算", "工作日加班按一点五倍工资计算，休息日加班安排补休或按两倍支付，法定节假日按"
     "三倍支付。"),
    ("供应商准入需要哪些资质", "供应商准入", "供应商须提供营业执照、近三年财务报表、质量体系认证和无重大违法记录"
     "声明，经采购委员会审核后入库。"),
    ("会议室如何预订", "会议室预订", "会议室通过内部系统提前预订，单次最长四小时，取消须提前一小时，连续三次未到"
     "将暂停预订权限一周。"),
    ("印章使用需要什么审批", "印章使用审批", "使用公司公章须填写用印申请，注明文件名称和份数，经部门负责人和法务"
     "审核后由印章管理员登记用印。"),
]
EDITS = [("须", "需"), ("提交", "递交"), ("负责人", "主管"), ("后", "之后"), ("，", "；"), ("每", "每个")]


def variant(body: str, rng: random.Random) -> str:
    """The same answer with small wording edits (near-identical copies)."""
    text = body
    for old, new in rng.sample(EDITS, 2):
        text = text.replace(old, new, 1)
    return text


def judged_set(workdir: Path, topics: int, seed: int) -> dict:
    rng = random.Random(seed)
    settings = load_settings(data_dir=workdir / "data")
    server = EmbeddedServer(settings.data_dir / "graph")  # where the live bus looks for it
    server.ensure_running()
    store = FalkorStore(server, "bench_ranking")
    store.ensure_schema()
    load_demo_org(store, "bench-password")
    people = {code: _members(store, code) for code in DEPARTMENTS}
    questions: list[tuple[str, str, str]] = []  # (question, asker id, relevant document id)
    start = time.perf_counter()
    chosen = (TOPICS * (topics // len(TOPICS) + 1))[:topics]
    for number, (question, title, body) in enumerate(chosen):
        keepers = rng.sample(DEPARTMENTS, COPIES)
        for code in keepers:
            owner = people[code][0]
            name = f"{title}（{number}）.txt"
            made = uploads.upload(store, settings, f"{title}\n{variant(body, rng)}\n".encode(), name, owner,
                                   "general", "public", (), enqueue=None)
            processing.process_version_now(store, settings, made.version_id)
            for asker in people[code][1:3]:
                questions.append((question, asker, made.document_id))
    indexed_s = time.perf_counter() - start
    out: dict = {"topics": topics, "copies_per_topic": COPIES, "queries": len(questions),
                 "index_s": round(indexed_s, 1)}
    for label, boost in (("without", False), ("with", True)):
        ndcg = rank_sum = 0.0
        began = time.perf_counter()
        for question, asker, relevant in questions:
            outcome = service.search(Context(store, settings), Actor(asker),
                                     service.Query(question, per_page=10, org_boost=boost), labels=False)
            ranked = [r.document_id for r in outcome.results]
            ndcg += ndcg_at(ranked, {relevant: 1})
            rank_sum += ranked.index(relevant) + 1 if relevant in ranked else 11
        n = len(questions)
        out[label] = {"ndcg@10": round(ndcg / n, 4), "own_copy_mean_rank": round(rank_sum / n, 3),
                      "ms_per_query": round((time.perf_counter() - began) * 1000 / n, 1)}
        print(f"judged org set, boost {label:7s}: nDCG@10 {out[label]['ndcg@10']:.4f}, own copy at mean rank "
              f"{out[label]['own_copy_mean_rank']:.2f} ({n} queries, {out[label]['ms_per_query']} ms/query)")
    store.drop_all()
    store.close()
    server.stop()
    return out


def _members(store: FalkorStore, code: str) -> list[str]:
    """Three new members of a department of the demo organisation (one owns its copies, two ask)."""
    found = []
    for i in range(3):
        person = org.create_person(store, {"username": f"rank.{code.lower()}.{i}", "name": f"排名{code}{i}",
                                           "email": f"rank.{code.lower()}.{i}@bench.invalid"})
        org.add_membership(store, person, "department", code)
        found.append(person)
    return found


def shared_set(path: Path, store: FalkorStore, inside: Actor, outside: Actor, department_id: str,
               data_dir: Path, max_docs: int, pool: int) -> dict:
    corpus = read_jsonl(path / "corpus.jsonl")[: max_docs or None]
    kept = {doc["_id"] for doc in corpus}
    queries = {q["_id"]: q["text"] for q in read_jsonl(path / "queries.jsonl")}
    qrels = {q: {d: g for d, g in judged.items() if d in kept}
             for q, judged in read_qrels(path / "qrels" / "test.tsv").items()}
    ids = [q for q, judged in qrels.items() if any(g > 0 for g in judged.values()) and queries.get(q, "").strip()]
    index = SearchIndex(data_dir / path.name, load_settings().embedding_model)
    for stale in set(index.store.document_ids()) - kept:
        index.delete_document(stale)
    for doc in corpus:  # every document in one department: the index's metadata says so
        doc["text"] = doc_text(doc)
    seconds = index_corpus(index, corpus)
    weights = proximity.Weights()
    sums = {"without": 0.0, "with_inside": 0.0, "with_outside": 0.0}
    changed = {"with_inside": 0, "with_outside": 0}
    for qid in ids:
        hits = index.search(queries[qid], None, per_page=pool, snippets=False).hits
        before = [h.document_id for h in hits]
        sums["without"] += ndcg_at(before, qrels[qid])
        for label, asker in (("with_inside", inside), ("with_outside", outside)):
            after = [h.document_id for h, _, _ in proximity.rerank(store, asker, hits, weights,
                                                                  lambda h: department_id)]
            sums[label] += ndcg_at(after, qrels[qid])
            changed[label] += after[:10] != before[:10]
    out = {"documents": len(corpus), "queries": len(ids), "index_s": round(seconds, 1),
           **{f"ndcg@10_{k}": round(v / len(ids), 4) for k, v in sums.items()},
           **{f"top10_changed_{k}": v for k, v in changed.items()}}
    print(f"{path.name}: {len(corpus)} documents, {len(ids)} queries; nDCG@10 without {out['ndcg@10_without']:.4f}, "
          f"with (asker inside) {out['ndcg@10_with_inside']:.4f}, with (asker outside) "
          f"{out['ndcg@10_with_outside']:.4f}; top 10 changed in {changed['with_inside']} / {changed['with_outside']}")
    index.close()
    return out


def shared_sets(workdir: Path, paths: list[Path], data_dir: Path, max_docs: int, pool: int) -> dict:
    server = EmbeddedServer(workdir / "graph-shared")
    server.ensure_running()
    store = FalkorStore(server, "bench_ranking_shared")
    store.ensure_schema()
    load_demo_org(store, "bench-password")
    home = org.by_code(store, "department", "RND-PLT")
    assert home is not None
    inside, outside = _members(store, "RND-PLT")[0], _members(store, "HR")[0]  # all documents sit in RND-PLT
    out = {path.name: shared_set(path, store, Actor(inside), Actor(outside), home["id"], data_dir, max_docs, pool)
           for path in paths}
    store.drop_all()
    store.close()
    server.stop()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=24, help="questions of the judged org set")
    parser.add_argument("--shared", type=Path, nargs="*", default=sorted(p for p in SHARED.glob("*") if p.is_dir()))
    parser.add_argument("--max-docs", type=int, default=0, help="only the first N documents of each shared set")
    parser.add_argument("--data-dir", type=Path, default=Path("data") / "bench-ranking",
                        help="embedding cache of the shared sets (reruns are fast)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="ht-ranking-bench-"))
    pool = load_settings().search_boost_pool
    results: dict = {"weights": dataclasses.asdict(proximity.Weights()), "pool": pool}
    results["judged"] = judged_set(workdir, args.topics, args.seed)
    results["judged"]["ndcg_gain"] = round(results["judged"]["with"]["ndcg@10"]
                                           - results["judged"]["without"]["ndcg@10"], 4)
    if args.shared:
        results["shared"] = shared_sets(workdir, args.shared, args.data_dir, args.max_docs, pool)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
