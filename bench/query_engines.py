"""Query embedding engines of the default model, side by side: latency (quiet, then under a CPU-burning load)
and retrieval quality, in one run, on the same queries.

Variants (embeddings/onnx_query.py): ``fp32`` (the plain export), ``fused`` (ONNX Runtime's transformer
optimizer on it), ``ffn-int8`` (int8 weights in the feed-forward MatMuls of the fused model only), ``int8``
(int8 in every MatMul) and, bench-only, ``ffn-int8-rr`` (the same with 7-bit weights, ``reduce_range``: this
machine's AVX2 int8 kernel adds pairs of u8*s8 products in 16 bits, which can saturate). Each is run on 1
and 2 threads (the int8 ones on 2) with idle threads sleeping (``spinning`` off); fp32 also with ONNX Runtime's
default spinning.

Latency: the first ``--queries`` queries of the sets, each through every configuration in turn (the order
rotates per query), so the machine's load weighs on all alike; then again while ``--burners`` processes
spin on the CPU. Quality: every query of each set through each variant against the same index (documents
embedded by torch, as in production; bench/search_quality.py's corpus path and nDCG@10), dense and hybrid,
and the cosine of each variant's query vector to fp32's.

Usage: python bench/query_engines.py DIR [DIR ...] [--queries 200] [--burners 2] [--no-quality] [--max-docs N]
Ends with one JSON line.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_quality import index_corpus, ndcg_at, read_jsonl, read_qrels

from embeddings import SearchIndex, onnx_query
from embeddings.embedder import DEFAULT_MODEL, Embedder, get_embedder, resolve_model
from embeddings.onnx_query import QueryEncoder

VARIANTS = ("fp32", "fused", "ffn-int8", "ffn-int8-rr", "int8")


def burn() -> None:  # a busy loop: one core's worth of load
    while True:
        pass


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2),
            "mean": round(float(np.mean(values)), 2)}


def prepare(folder: Path, scratch: Path) -> tuple[dict[str, Path], dict[str, dict[str, float]]]:
    """Every variant's file (built once where the module builds them; ``ffn-int8-rr`` in ``scratch``)."""
    paths, built = {}, {}
    for variant in VARIANTS:
        start = time.perf_counter()
        if variant == "ffn-int8-rr":
            fused = onnx_query.variant_path(folder, "fused")
            paths[variant] = scratch / "query-ffn-int8-rr.onnx"
            onnx_query.quantise(fused, paths[variant], onnx_query.ffn_matmuls(fused, folder), reduce_range=True)
        else:
            paths[variant] = onnx_query.ensure_variant(folder, variant)
        built[variant] = {"seconds": round(time.perf_counter() - start, 1),
                          "mb": round(paths[variant].stat().st_size / 2**20, 1)}
        print(f"{variant}: {paths[variant]} {built[variant]}")
    return paths, built


def configurations(folder: Path, paths: dict[str, Path], embedder: Embedder) -> dict[str, QueryEncoder]:
    tokenize = embedder.query_encoder._tokenize if embedder.query_encoder else None  # the documents' tokenizer
    out = {"fp32/1t/spin": QueryEncoder(folder, 512, 1, path=paths["fp32"], tokenize=tokenize, spinning=True),
           "fp32/2t/spin": QueryEncoder(folder, 512, 2, path=paths["fp32"], tokenize=tokenize, spinning=True)}
    for variant in VARIANTS:
        for threads in (1, 2) if variant in ("fp32", "fused", "ffn-int8") else (2,):
            out[f"{variant}/{threads}t"] = QueryEncoder(folder, 512, threads, path=paths[variant], tokenize=tokenize)
    return out


def latency(encoders: dict[str, QueryEncoder], queries: list[str]) -> dict[str, object]:
    names = list(encoders)
    times: dict[str, list[float]] = {name: [] for name in names}
    cosines: dict[str, list[float]] = {name: [] for name in names}
    load_before = os.getloadavg()[0]
    for i, query in enumerate(queries):
        vectors = {}
        for name in names[i % len(names):] + names[: i % len(names)]:
            start = time.perf_counter()
            vectors[name] = encoders[name].embed(query)
            times[name].append((time.perf_counter() - start) * 1000)
        for name in names:
            cosines[name].append(float(np.dot(vectors[name], vectors["fp32/1t/spin"])))
    out: dict[str, object] = {name: {**percentiles(values), "cosine_to_fp32_min": round(min(cosines[name]), 5)}
                              for name, values in times.items()}
    out["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def quality(path: Path, embedder: Embedder, encoders: dict[str, QueryEncoder], data_dir: Path,
            max_docs: int = 0) -> dict[str, object]:
    corpus = read_jsonl(path / "corpus.jsonl")
    queries = {q["_id"]: q["text"] for q in read_jsonl(path / "queries.jsonl")}
    qrels = read_qrels(path / "qrels" / "test.tsv")
    if max_docs:  # the first documents, and the queries with a relevant one among them (as search_quality.py)
        corpus = corpus[:max_docs]
        kept = {doc["_id"] for doc in corpus}
        qrels = {q: {d: g for d, g in judged.items() if d in kept} for q, judged in qrels.items()}
        qrels = {q: judged for q, judged in qrels.items() if any(g > 0 for g in judged.values())}
    index = SearchIndex(data_dir, DEFAULT_MODEL, embedder=embedder)
    seconds = index_corpus(index, corpus)
    ids = [qid for qid in qrels if queries.get(qid, "").strip()]
    print(f"{path.name}: {len(corpus)} documents indexed in {seconds:.1f} s; {len(ids)} queries")
    vectors: dict[str, dict[str, np.ndarray]] = {}
    out: dict[str, object] = {"queries": len(ids)}
    original = embedder.query_encoder
    try:
        for variant, encoder in encoders.items():
            embedder.query_encoder = encoder
            index._query_vectors.clear()
            scores = {"dense": 0.0, "hybrid": 0.0}
            vectors[variant] = {}
            for qid in ids:
                vectors[variant][qid] = index._query_vector(queries[qid])  # cached: both modes use this one
                for mode in scores:
                    hits = index.search(queries[qid], None, per_page=100, mode=mode, depth=400, snippets=False).hits
                    scores[mode] += ndcg_at([hit.document_id for hit in hits], qrels[qid])
            figures = {mode: round(total / len(ids), 4) for mode, total in scores.items()}
            cosines = [float(np.dot(vectors[variant][q], vectors["fp32"][q])) for q in ids]
            figures["cosine_to_fp32_min"] = round(min(cosines), 5)
            figures["cosine_to_fp32_mean"] = round(float(np.mean(cosines)), 5)
            out[variant] = figures
            print(f"  {variant}: {figures}")
    finally:
        embedder.query_encoder = original
        index.close()
    reference = out["fp32"]
    assert isinstance(reference, dict)
    for variant in encoders:
        mine = out[variant]
        assert isinstance(mine, dict)
        mine["ndcg@10_loss"] = {m: round(reference[m] - mine[m], 4) for m in ("dense", "hybrid")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--burners", type=int, default=2, help="busy processes during the loaded pass")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--data-dir", type=Path, default=Path("data") / "bench-search")
    parser.add_argument("--max-docs", type=int, default=0, help="quality on the first N documents of each set")
    args = parser.parse_args()
    folder = Path(resolve_model(DEFAULT_MODEL))
    embedder = get_embedder(DEFAULT_MODEL)
    scratch = Path(tempfile.mkdtemp(prefix="ht-query-engines-"))
    figures: dict[str, object] = {"model": DEFAULT_MODEL, "cores": os.cpu_count()}
    try:
        paths, figures["files"] = prepare(folder, scratch)
        encoders = configurations(folder, paths, embedder)
        texts = [embedder.query_prompt + q["text"] for path in args.datasets
                 for q in read_jsonl(path / "queries.jsonl")]
        sample = texts[: args.queries]
        tokens = [len(embedder._tokenizer(t)["input_ids"]) for t in sample]
        figures["query_tokens_mean"] = round(float(np.mean(tokens)), 1)
        for encoder in encoders.values():  # first runs allocate; not the rate
            for text in sample[:5]:
                encoder.embed(text)
        figures["quiet"] = latency(encoders, sample)
        print("quiet:", figures["quiet"])
        burners = [multiprocessing.Process(target=burn, daemon=True) for _ in range(args.burners)]
        for process in burners:
            process.start()
        try:
            time.sleep(1.0)
            figures[f"loaded_{args.burners}_burners"] = latency(encoders, sample)
        finally:
            for process in burners:
                process.kill()
                process.join()
        print("loaded:", figures[f"loaded_{args.burners}_burners"])
        if not args.no_quality:
            # fused is fp32 arithmetic (its cosine to fp32 is in the latency pass's vectors) and full int8's loss is
            # known (README): quality is measured for the feed-forward int8 variants against fp32
            chosen = {variant: encoders[f"{variant}/2t"] for variant in ("fp32", "ffn-int8", "ffn-int8-rr")}
            for path in args.datasets:
                suffix = f"-{args.max_docs}" if args.max_docs else ""
                data_dir = args.data_dir / f"{path.name}-{DEFAULT_MODEL}{suffix}"
                figures[path.name] = quality(path, embedder, chosen, data_dir, args.max_docs)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
