"""Retrieval quality of the keyword, dense and hybrid signals on BEIR-format data sets, fusion weights tuned on
one half of the queries and reported on the other, the dense-similarity floor calibration, and the embedding
cost of the model against all-MiniLM-L6-v2 in the same run.

Usage: python bench/search_quality.py DIR [DIR ...] [--model M] [--data-dir PATH] [--max-docs N]
                                      [--no-speed | --speed-only]

Each DIR holds corpus.jsonl, queries.jsonl and qrels/test.tsv. The corpus goes through the real
chunk -> embed -> store -> index path (the embedding cache under --data-dir makes reruns fast).
Queries are split deterministically (sha256 of the query id, even/odd) into a tuning half and a held-out
half; the keyword weight of the fusion is the best of a grid on the tuning half, and every figure is
reported on both halves (hybrid also without the pseudo-relevance feedback the model may use for the
set's language, as hybrid_no_feedback). nDCG@10 uses graded gains; Recall@100 counts any listed pair as relevant.
The floor calibration compares each query's similarity to its relevant documents with its similarity
to random other documents of the set (and the share of each clearing a sweep of floors: each set is one
language, so this is the per-language view), and the best cosine of nonsense queries of both scripts, which
must find nothing. Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import SearchIndex
from embeddings.chunker import chunk_blocks
from embeddings.embedder import DEFAULT_MODEL, MINILM, get_embedder, use_threads
from embeddings.search_index import DocumentInput
from embeddings.text_tokens import detect_lang
from settings import get_settings

MODES = ("keyword", "dense", "hybrid")
GRID = [round(0.1 * i, 1) for i in range(11)]  # keyword weight; dense weight = 1 - it
RANDOM_PAIRS = 5  # random (non-relevant) documents per query for the floor calibration
SPEED_CHUNKS = 96
SPEED_QUERIES = 200
# Queries that mean nothing, in both scripts: each must find nothing (a Latin one is an English query to
# detect_lang, a CJK one a Chinese query), so the floor of either language must sit above their best cosine.
NONSENSE = ("xqzvbnmw", "blorft quazzle vimp", "*", '"', "ｑｘｚ", "龘靐齉爩", "犇骉麤羴")
# Floors tried per data set (one language each): the share of relevant and of random pairs clearing each.
FLOOR_SWEEP = (0.8, 0.82, 0.84, 0.85, 0.86, 0.87, 0.88)


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


def half_of(query_id: str) -> str:
    return "tune" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "heldout"


def doc_text(doc: dict) -> str:
    title, text = doc.get("title", "").strip(), doc.get("text", "").strip()
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}" if text else title
    return text


def index_corpus(index: SearchIndex, corpus: list[dict]) -> float:
    start = time.perf_counter()
    for first in range(0, len(corpus), 64):  # chunks of many documents embedded in shared batches, as ingestion does
        batch = [(doc["_id"], doc_text(doc)) for doc in corpus[first : first + 64]]
        index.add_documents([DocumentInput(doc_id, "v1", [(text, "")] if text else []) for doc_id, text in batch])
    index.refresh(wait=True)
    return time.perf_counter() - start


def evaluate(index: SearchIndex, queries: dict[str, str], qrels: dict, ids: list[str], mode: str) -> dict:
    ndcg = recall = 0.0
    for qid in ids:
        results = index.search(queries[qid], None, per_page=100, mode=mode, depth=400, snippets=False)
        ranked = [hit.document_id for hit in results.hits]
        ndcg += ndcg_at(ranked, qrels[qid])
        recall += recall_at(ranked, qrels[qid])
    return {"ndcg@10": round(ndcg / len(ids), 4), "recall@100": round(recall / len(ids), 4)}


def set_keyword_weight(index: SearchIndex, weight: float) -> None:
    index.weights = {"keyword": weight, "dense": round(1 - weight, 2)}
    index.language_weights = {}


def calibrate(index: SearchIndex, queries: dict[str, str], qrels: dict, ids: list[str]) -> dict:
    """Best-chunk cosine of each query with its relevant documents and with random other documents."""
    state = index._state
    assert state is not None
    matrix = state.vectors._matrix()
    row_doc = state.catalog.row_doc.view
    doc_ids = state.catalog.doc_ids
    rng = random.Random(7)
    relevant, unrelated = [], []
    for qid in ids:
        scores = matrix @ index.embedder.embed_query(queries[qid])
        best = np.full(len(doc_ids), -1.0, dtype=np.float32)
        np.maximum.at(best, row_doc, scores)
        judged = {d for d, g in qrels[qid].items() if g > 0}
        relevant += [float(best[i]) for i, d in enumerate(doc_ids) if d in judged]
        others = [i for i, d in enumerate(doc_ids) if d not in qrels[qid]]
        unrelated += [float(best[i]) for i in rng.sample(others, min(RANDOM_PAIRS, len(others)))]
    return {"relevant": relevant, "random": unrelated}


def floor_figures(pairs: dict[str, list[float]], floor: float) -> dict:
    rel, rnd = np.array(pairs["relevant"]), np.array(pairs["random"])
    sweep = {str(f): {"relevant": round(float((rel >= f).mean()), 4), "random": round(float((rnd >= f).mean()), 4)}
             for f in FLOOR_SWEEP}
    return {"sweep": sweep,
        "relevant_p05": round(float(np.percentile(rel, 5)), 4), "relevant_median": round(float(np.median(rel)), 4),
        "random_median": round(float(np.median(rnd)), 4), "random_p99": round(float(np.percentile(rnd, 99)), 4),
        "relevant_above_floor": round(float((rel >= floor).mean()), 4),
        "random_above_floor": round(float((rnd >= floor).mean()), 4),
    }


def nonsense(index: SearchIndex) -> dict:
    """Per nonsense query: its language as search sees it, its best cosine over every chunk of the set, and the
    result totals dense and hybrid (both must be 0)."""
    state = index._state
    assert state is not None
    matrix = state.vectors._matrix()
    out = {}
    for query in NONSENSE:
        best = float((matrix @ index.embedder.embed_query(query)).max())
        totals = {mode: index.search(query, None, mode=mode, snippets=False).total for mode in ("dense", "hybrid")}
        out[query] = {"lang": detect_lang(query), "best_cosine": round(best, 4), **totals}
    print(f"  nonsense queries: {out}")
    return out


def run_dataset(path: Path, model: str, data_dir: Path | None, max_docs: int = 0) -> dict:
    corpus = read_jsonl(path / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in read_jsonl(path / "queries.jsonl")}
    qrels = read_qrels(path / "qrels" / "test.tsv")
    if max_docs:  # a smaller set: the first documents, and the queries with a relevant one among them
        corpus = corpus[:max_docs]
        kept = {doc["_id"] for doc in corpus}
        qrels = {q: {d: g for d, g in judged.items() if d in kept} for q, judged in qrels.items()}
        qrels = {q: judged for q, judged in qrels.items() if any(g > 0 for g in judged.values())}
    root = data_dir or Path("data") / "bench-search" / path.name
    index = SearchIndex(root, model)
    for stale in set(index.store.document_ids()) - {doc["_id"] for doc in corpus}:  # e.g. from a larger run
        index.delete_document(stale)
    seconds = index_corpus(index, corpus)
    print(f"{path.name}: {len(corpus)} documents, {index.store.chunk_count()} chunks, indexed in {seconds:.1f} s")
    evaluated = [qid for qid in qrels if queries.get(qid, "").strip()]
    halves = {name: [q for q in evaluated if half_of(q) == name] for name in ("tune", "heldout")}
    out: dict = {"documents": len(corpus), "queries": {name: len(ids) for name, ids in halves.items()}}
    floor = index.similarity_floor
    out["floor"] = floor
    out["floor_calibration"] = floor_figures(calibrate(index, queries, qrels, evaluated), floor or 0.0)
    out["nonsense"] = nonsense(index)
    grid = {}
    for weight in GRID:
        set_keyword_weight(index, weight)
        grid[weight] = evaluate(index, queries, qrels, halves["tune"], "hybrid")["ndcg@10"]
    best = max(GRID, key=lambda w: (grid[w], -abs(w - 0.5)))
    out["keyword_weight_tuned"] = best
    out["tuning_grid_ndcg@10"] = {str(w): v for w, v in grid.items()}
    set_keyword_weight(index, best)
    for name, ids in halves.items():
        out[name] = {}
        for mode in MODES:
            start = time.perf_counter()
            out[name][mode] = evaluate(index, queries, qrels, ids, mode)
            per_query = (time.perf_counter() - start) * 1000 / len(ids)
            figures = out[name][mode]
            print(f"  {name:7s} {mode:8s} nDCG@10 {figures['ndcg@10']:.4f}  Recall@100 {figures['recall@100']:.4f}"
                  f"  ({len(ids)} queries, {per_query:.1f} ms/query)")
        feedback, index.feedback = index.feedback, {}  # the same fusion without pseudo-relevance feedback
        out[name]["hybrid_no_feedback"] = evaluate(index, queries, qrels, ids, "hybrid")
        index.feedback = feedback
        print(f"  {name:7s} hybrid without feedback nDCG@10 {out[name]['hybrid_no_feedback']['ndcg@10']:.4f}")
    print(f"  keyword weight tuned on the tuning half: {best}; floor {floor}: {out['floor_calibration']}")
    out["query_engine"] = compare_query_engines(index, queries, qrels, evaluated)
    index.close()
    return out


def compare_query_engines(index: SearchIndex, queries: dict[str, str], qrels: dict, ids: list[str]) -> dict:
    """nDCG@10 over all queries with the configured ONNX query encoder (named by its engine) and with torch
    (documents: torch either way)."""
    embedder = index.embedder
    encoder = embedder.query_encoder
    if encoder is None:
        return {get_settings().query_engine: "not exported: queries used torch"}
    out: dict = {}
    for name, engine in ((encoder.engine, encoder), ("torch", None)):
        embedder.query_encoder = engine
        index._query_vectors.clear()
        out[name] = {mode: evaluate(index, queries, qrels, ids, mode)["ndcg@10"] for mode in ("dense", "hybrid")}
    embedder.query_encoder = encoder
    out["ndcg@10_loss"] = {m: round(out["torch"][m] - out[encoder.engine][m], 4) for m in ("dense", "hybrid")}
    print(f"  query engines (all queries, nDCG@10): {out}")
    return out


def speed(datasets: list[Path]) -> dict:
    """Chunks/s on ~256-token chunks (each model's own chunker and tokenizer, the same source texts) and the
    latency of one query, for the default model and all-MiniLM-L6-v2, in the same process. The two models take
    turns batch by batch (a busy machine's load then weighs on both alike)."""
    texts = [doc_text(d) for path in datasets for d in read_jsonl(path / "corpus.jsonl")[:150]]
    queries = [q["text"] for path in datasets for q in read_jsonl(path / "queries.jsonl")[: SPEED_QUERIES // 2]]
    out: dict = {"load_before": round(os.getloadavg()[0], 2)}
    models = (DEFAULT_MODEL, MINILM)
    embedders, chunks, seconds = {}, {}, dict.fromkeys(models, 0.0)
    for model in models:
        embedder = embedders[model] = get_embedder(model)
        limit = min(256, embedder.max_tokens)
        cut = [c.text for text in texts for c in chunk_blocks([(text, "")], embedder.count_tokens,
                                                              target_tokens=limit - 16, max_tokens=limit)]
        chunks[model] = sorted(cut, key=lambda c: -embedder.count_tokens(c))[:SPEED_CHUNKS]
        tokens = float(np.mean([embedder.count_tokens(c) for c in chunks[model]]))
        out[model] = {"mean_tokens": round(tokens, 1)}
    for first in range(0, SPEED_CHUNKS, SPEED_CHUNKS // 4):
        for model in models:
            start = time.perf_counter()
            embedders[model].embed(chunks[model][first : first + SPEED_CHUNKS // 4])
            seconds[model] += time.perf_counter() - start
    latencies: dict[tuple[str, str], list[float]] = {}
    for i, query in enumerate(queries):
        for model in models:
            embedder = embedders[model]
            encoder = embedder.query_encoder
            for engine, value in (("torch", None), (get_settings().query_engine, encoder)):
                if value is None and engine != "torch":
                    continue
                embedder.query_encoder = value
                start = time.perf_counter()
                embedder.embed_query(f"{query} {i}")  # distinct texts: nothing cached
                latencies.setdefault((model, engine), []).append((time.perf_counter() - start) * 1000)
            embedder.query_encoder = encoder
    for model in models:
        out[model]["chunks_per_s"] = round(len(chunks[model]) / seconds[model], 2)
        for (name, engine), values in latencies.items():
            if name == model:
                out[model][f"query_ms_{engine}"] = {"p50": round(float(np.percentile(values, 50)), 2),
                                                    "p95": round(float(np.percentile(values, 95)), 2)}
        print(f"{model}: {out[model]}")
    out["chunks_per_s_ratio_to_minilm"] = round(out[DEFAULT_MODEL]["chunks_per_s"] / out[MINILM]["chunks_per_s"], 3)
    chosen = embedders[DEFAULT_MODEL].query_encoder
    out["query_engine"] = {"engine": chosen.engine if chosen else "torch", "threads": chosen.threads if chosen else 1}
    out["load_after"] = round(os.getloadavg()[0], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--data-dir", type=Path, default=None, help="default: ./data/bench-search/<set>-<model>")
    parser.add_argument("--model", default=DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 is fastest on a busy machine)")
    parser.add_argument("--no-speed", action="store_true", help="skip the embedding speed comparison")
    parser.add_argument("--speed-only", action="store_true", help="only the embedding speed comparison")
    parser.add_argument("--max-docs", type=int, default=0, help="only the first N documents of each set (0: all)")
    args = parser.parse_args()
    use_threads(args.threads)
    figures: dict = {"model": args.model}
    for path in [] if args.speed_only else args.datasets:
        data_dir = args.data_dir / path.name if args.data_dir else Path("data") / "bench-search" / (
            f"{path.name}-{Path(args.model).name}")
        figures[path.name] = run_dataset(path, args.model, data_dir, args.max_docs)
    if not args.no_speed:
        figures["speed"] = speed(args.datasets)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
