"""Retrieval quality of the keyword, dense and hybrid signals on a BEIR-format data set.

Usage: python bench/search_quality.py DIR [--data-dir PATH] [--dense-weight W] [--keyword-weight W]
                                           [--no-language-weights]

DIR holds corpus.jsonl, queries.jsonl and qrels/test.tsv. The corpus goes through the real
chunk -> embed -> store -> index path (the embedding cache under --data-dir makes reruns fast).
Prints nDCG@10 (graded gains) and Recall@100 (any listed pair is relevant) per signal and ends
with one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import SearchIndex
from embeddings.search_index import DEFAULT_WEIGHTS

MODES = ("keyword", "dense", "hybrid")


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    qrels: dict[str, dict[str, int]] = {}
    with open(path, encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            qrels.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return qrels


def ndcg_at(ranked: list[str], judged: dict[str, int], k: int = 10) -> float:
    dcg = sum(judged.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(judged.values(), reverse=True)[:k]
    idcg = sum(gain / math.log2(i + 2) for i, gain in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at(ranked: list[str], judged: dict[str, int], k: int = 100) -> float:
    relevant = {doc for doc, gain in judged.items() if gain > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


def index_corpus(index: SearchIndex, corpus: list[dict]) -> float:
    start = time.perf_counter()
    for doc in corpus:
        title, text = doc.get("title", "").strip(), doc.get("text", "").strip()
        if title and not text.startswith(title):
            text = f"{title}\n\n{text}" if text else title
        index.add_document(doc["_id"], "v1", [(text, "")] if text else [])
    index.refresh()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--data-dir", type=Path, default=None, help="default: ./data/bench-search/<dataset name>")
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--dense-weight", type=float, default=DEFAULT_WEIGHTS["dense"])
    parser.add_argument("--keyword-weight", type=float, default=DEFAULT_WEIGHTS["keyword"])
    parser.add_argument(
        "--no-language-weights", action="store_true", help="same weights for every query language (no zh override)"
    )
    args = parser.parse_args()

    corpus = read_jsonl(args.dataset / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in read_jsonl(args.dataset / "queries.jsonl")}
    qrels = read_qrels(args.dataset / "qrels" / "test.tsv")
    data_dir = args.data_dir or Path("data") / "bench-search" / args.dataset.name
    index = SearchIndex(
        data_dir,
        args.model,
        weights={"dense": args.dense_weight, "keyword": args.keyword_weight},
        language_weights={} if args.no_language_weights else None,
    )
    seconds = index_corpus(index, corpus)
    chunks = index.store.chunk_count()
    print(f"{args.dataset.name}: {len(corpus)} documents, {chunks} chunks, indexed in {seconds:.1f} s")

    figures: dict[str, dict[str, float]] = {}
    evaluated = [qid for qid in qrels if queries.get(qid, "").strip()]
    for mode in MODES:
        ndcg = recall = 0.0
        start = time.perf_counter()
        for qid in evaluated:
            results = index.search(queries[qid], None, per_page=100, mode=mode, depth=400, snippets=False)
            ranked = [hit.document_id for hit in results.hits]
            ndcg += ndcg_at(ranked, qrels[qid])
            recall += recall_at(ranked, qrels[qid])
        per_query = (time.perf_counter() - start) * 1000 / len(evaluated)
        figures[mode] = {"ndcg@10": round(ndcg / len(evaluated), 4), "recall@100": round(recall / len(evaluated), 4)}
        print(
            f"{mode:8s} nDCG@10 {figures[mode]['ndcg@10']:.4f}  Recall@100 {figures[mode]['recall@100']:.4f}  "
            f"({len(evaluated)} queries, {per_query:.1f} ms/query)"
        )
    index.close()
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
