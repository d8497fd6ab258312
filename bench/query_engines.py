"""Query embedding engines of the default model, side by side: latency on each set's queries (quiet, then under
a CPU-burning load) and retrieval quality, in one run, on the same queries.

Variants: those of embeddings/onnx_query.py (``fp32`` the plain export, ``fused`` the optimizer on it, the
former default; ``eager-fused`` the eager-attention export after the optimizer, attention fused too, the
default; ``ffn-int8``; ``int8``) and bench-only candidates built in a scratch folder from ``eager-fused``
(``CANDIDATES``: dynamic int8 on chosen MatMuls, or int8 blocks of 32 with block-quantised activations).
Every configuration runs on ``--threads`` threads that sleep when idle (spinning off, as in production).

Latency: the first ``--queries`` queries of each set, each through every configuration in turn (the order
rotates per query), so the machine's load weighs on all alike; then again while ``--burners`` processes
spin on the CPU. Quality: every query of each set through each variant against the same index (documents
embedded by torch, as in production; bench/search_quality.py's corpus path, nDCG@10 and halves), dense and
hybrid, over all queries and the held-out half, with the loss against ``fp32`` and the cosine to its vectors.

Usage: python bench/query_engines.py DIR [DIR ...] [--queries 200] [--burners 2] [--threads 2]
                                     [--variants a,b,...] [--quality-variants a,b,...] [--no-quality]
                                     [--no-latency] [--scratch DIR] [--max-docs N]
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
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from search_quality import half_of, index_corpus, ndcg_at, read_jsonl, read_qrels

from embeddings import SearchIndex, onnx_query
from embeddings.embedder import DEFAULT_MODEL, Embedder, get_embedder, resolve_model
from embeddings.onnx_query import QueryEncoder, quantise, weight_matmuls


def quantise_blocks(source: Path, out: Path, nodes: list[str], block: int = 32) -> None:
    """int8 weights in blocks of ``block`` input rows, each with its own scale (MatMulNBits), computed in int8
    with the activations quantised per block too (accuracy level 4): one outlier channel of a hidden state
    costs the precision of its block only, where per-tensor dynamic quantisation spreads it over the row.
    The weights are packed by ONNX Runtime's own routine (the quantizer module around it needs onnx_ir)."""
    import onnx
    from onnx import numpy_helper
    from onnxruntime.capi._pybind_state import quantize_matmul_8bits

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    chosen = set(nodes)
    for index, node in enumerate(graph.node):
        if node.name not in chosen:
            continue
        weight = numpy_helper.to_array(weights[node.input[1]]).astype(np.float32)
        rows, cols = weight.shape
        blocks = -(-rows // block)
        weight = np.pad(weight, ((0, blocks * block - rows), (0, 0)))
        packed = np.zeros((cols, blocks, block), dtype=np.uint8)
        scales = np.zeros((cols, blocks), dtype=np.float32)
        quantize_matmul_8bits(packed, weight, scales, np.zeros((cols, blocks), dtype=np.uint8), block, cols, rows,
                              True)
        name = node.input[1]
        graph.initializer.remove(weights[name])
        graph.initializer.extend([numpy_helper.from_array(packed, f"{name}_q8"),
                                  numpy_helper.from_array(scales, f"{name}_scales")])
        graph.node.remove(node)
        graph.node.insert(index, onnx.helper.make_node(
            "MatMulNBits", [node.input[0], f"{name}_q8", f"{name}_scales"], list(node.output), name=f"{node.name}_q8",
            domain="com.microsoft", K=rows, N=cols, bits=8, block_size=block, accuracy_level=4))
    onnx.save(model, str(out))


# bench-only: name -> how to build it from eager-fused (source, out, folder)
CANDIDATES: dict[str, Callable[[Path, Path, Path], None]] = {
    "eager-ffn-int8": lambda s, o, f: quantise(s, o, weight_matmuls(s, f)),
    "eager-up-int8": lambda s, o, f: quantise(s, o, weight_matmuls(s, f, ("up",))),
    "eager-ffn-int8-mid": lambda s, o, f: quantise(s, o, weight_matmuls(s, f, skip_layers=(0, -1))),
    "eager-ffn-q8": lambda s, o, f: quantise_blocks(s, o, weight_matmuls(s, f)),
    "eager-all-q8": lambda s, o, f: quantise_blocks(s, o, weight_matmuls(s, f, ("up", "down", "out"))),
    "eager-up-q8": lambda s, o, f: quantise_blocks(s, o, weight_matmuls(s, f, ("up",))),
}
DEFAULT_VARIANTS = "fused,eager-fused,fp32,ffn-int8,eager-ffn-int8,eager-ffn-int8-mid,eager-up-int8,eager-ffn-q8"


def burn() -> None:  # a busy loop: one core's worth of load
    while True:
        pass


def percentiles(values: list[float]) -> dict[str, float]:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2),
            "mean": round(float(np.mean(values)), 2)}


def prepare(folder: Path, scratch: Path, variants: list[str]) -> tuple[dict[str, Path], dict[str, dict]]:
    """Every variant's file: the module's built once into the model folder, the candidates into ``scratch``."""
    paths, built = {}, {}
    for variant in variants:
        start = time.perf_counter()
        if variant in CANDIDATES:
            source = onnx_query.ensure_variant(folder, "eager-fused")
            paths[variant] = scratch / f"query-{variant}.onnx"
            if not paths[variant].is_file():  # written aside, then renamed: an interrupted build is not reused
                CANDIDATES[variant](source, scratch / f".partial-{variant}.onnx", folder)
                os.replace(scratch / f".partial-{variant}.onnx", paths[variant])
        else:
            paths[variant] = onnx_query.ensure_variant(folder, variant)
        built[variant] = {"seconds": round(time.perf_counter() - start, 1),
                          "mb": round(paths[variant].stat().st_size / 2**20, 1)}
        print(f"{variant}: {paths[variant]} {built[variant]}", flush=True)
    return paths, built


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
            cosines[name].append(float(np.dot(vectors[name], vectors[names[0]])))
    out: dict[str, object] = {name: {**percentiles(values), f"cosine_to_{names[0]}_min": round(min(cosines[name]), 5)}
                              for name, values in times.items()}
    out["load"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return out


def load_averages() -> list[float]:  # uptime's 1, 5 and 15 minute figures
    return [round(value, 2) for value in os.getloadavg()]


def latency_passes(encoders: dict[str, QueryEncoder], sets: dict[str, list[str]], burners: int) -> dict[str, object]:
    out: dict[str, object] = {"uptime_before": load_averages()}
    for name, sample in sets.items():
        out[f"quiet_{name}"] = latency(encoders, sample)
        print(f"quiet {name}:", out[f"quiet_{name}"], flush=True)
    if burners:
        processes = [multiprocessing.Process(target=burn, daemon=True) for _ in range(burners)]
        for process in processes:
            process.start()
        try:
            time.sleep(1.0)
            for name, sample in sets.items():
                out[f"loaded_{burners}_burners_{name}"] = latency(encoders, sample)
                print(f"loaded {name}:", out[f"loaded_{burners}_burners_{name}"], flush=True)
        finally:
            for process in processes:
                process.kill()
                process.join()
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
    heldout = [qid for qid in ids if half_of(qid) == "heldout"]
    print(f"{path.name}: {len(corpus)} documents indexed in {seconds:.1f} s; {len(ids)} queries", flush=True)
    vectors: dict[str, dict[str, np.ndarray]] = {}
    out: dict[str, object] = {"queries": len(ids), "heldout_queries": len(heldout)}
    original = embedder.query_encoder
    reference = next(iter(encoders))
    try:
        for variant, encoder in encoders.items():
            embedder.query_encoder = encoder
            index._query_vectors.clear()
            scores: dict[str, dict[str, float]] = {"dense": {}, "hybrid": {}}
            vectors[variant] = {}
            for qid in ids:
                vectors[variant][qid] = index._query_vector(queries[qid])  # cached: both modes use this one
                for mode, per_query in scores.items():
                    hits = index.search(queries[qid], None, per_page=100, mode=mode, depth=400, snippets=False).hits
                    per_query[qid] = ndcg_at([hit.document_id for hit in hits], qrels[qid])
            figures: dict[str, float] = {}
            for mode, per_query in scores.items():
                figures[mode] = round(float(np.mean([per_query[q] for q in ids])), 4)
                figures[f"{mode}_heldout"] = round(float(np.mean([per_query[q] for q in heldout])), 4)
            cosines = [float(np.dot(vectors[variant][q], vectors[reference][q])) for q in ids]
            figures[f"cosine_to_{reference}_min"] = round(min(cosines), 5)
            figures[f"cosine_to_{reference}_mean"] = round(float(np.mean(cosines)), 5)
            out[variant] = figures
            print(f"  {variant}: {figures}", flush=True)
    finally:
        embedder.query_encoder = original
        index.close()
    base = out[reference]
    assert isinstance(base, dict)
    for variant in encoders:
        mine = out[variant]
        assert isinstance(mine, dict)
        mine["ndcg@10_loss"] = {m: round(base[m] - mine[m], 4)
                                for m in ("dense", "dense_heldout", "hybrid", "hybrid_heldout")}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("datasets", type=Path, nargs="+")
    parser.add_argument("--queries", type=int, default=200, help="latency: the first N queries of each set")
    parser.add_argument("--burners", type=int, default=2, help="busy processes during the loaded pass (0: none)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--variants", default=DEFAULT_VARIANTS, help="comma-separated; the first is the reference")
    parser.add_argument("--quality-variants", default="", help="comma-separated subset (default: all)")
    parser.add_argument("--no-quality", action="store_true")
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--scratch", type=Path, default=None, help="keep the candidates' files here (reruns reuse)")
    parser.add_argument("--data-dir", type=Path, default=Path("data") / "bench-search")
    parser.add_argument("--max-docs", type=int, default=0, help="quality on the first N documents of each set")
    args = parser.parse_args()
    variants = args.variants.split(",")
    folder = Path(resolve_model(DEFAULT_MODEL))
    embedder = get_embedder(DEFAULT_MODEL)
    scratch = args.scratch or Path(tempfile.mkdtemp(prefix="ht-query-engines-"))
    scratch.mkdir(parents=True, exist_ok=True)
    figures: dict[str, object] = {"model": DEFAULT_MODEL, "cores": os.cpu_count(), "threads": args.threads}
    try:
        paths, figures["files"] = prepare(folder, scratch, variants)
        tokenize = embedder.query_encoder._tokenize if embedder.query_encoder else None  # the documents' tokenizer
        encoders = {v: QueryEncoder(folder, 512, args.threads, path=paths[v], tokenize=tokenize) for v in variants}
        sets = {path.name: [embedder.query_prompt + q["text"] for q in read_jsonl(path / "queries.jsonl")]
                [: args.queries] for path in args.datasets}
        figures["query_tokens_mean"] = {name: round(float(np.mean([len(tokenize(t)) for t in sample])), 1)
                                        for name, sample in sets.items()} if tokenize else {}
        for encoder in encoders.values():  # first runs allocate; not the rate
            for text in next(iter(sets.values()))[:5]:
                encoder.embed(text)
        if not args.no_latency:
            figures["latency"] = latency_passes(encoders, sets, args.burners)
        if not args.no_quality:
            chosen = args.quality_variants.split(",") if args.quality_variants else variants
            for path in args.datasets:
                suffix = f"-{args.max_docs}" if args.max_docs else ""
                data_dir = args.data_dir / f"{path.name}-{DEFAULT_MODEL}{suffix}"
                figures[path.name] = quality(path, embedder, {v: encoders[v] for v in chosen}, data_dir,
                                             args.max_docs)
        figures["uptime_after"] = load_averages()
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
