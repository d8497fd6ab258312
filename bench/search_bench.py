"""Search latency, ANN recall and index memory at 100k and 1M chunks, per permission selectivity.

Usage: python bench/search_bench.py [--scales 100000,1000000] [--shares 1,10,100] [--queries 200]
                                    [--base-texts 10000] [--noise 0.5] [--users 20] [--data-dir data/bench-search]
                                    [--allowed numbers|ids]

Embedding 1M real chunks takes ~10 hours here (~30 chunks/s), so the large corpora are a documented
PROXY built from real model output:

* base: ``--base-texts`` real passages (word windows over the shared Cranfield abstracts, a tenth
  character windows over the CMRC 2018 Chinese paragraphs), embedded once with the real model
  (the default model, multilingual-e5-small, with its document prompt) and cached under --data-dir;
* chunk i of a corpus of N: a base passage a_i drawn uniformly; its text is that passage (so the
  keyword index, BM25 statistics and snippets work on real text) and its vector is
  normalise(base_vector[a_i] + e_i), e_i Gaussian with expected norm ``--noise`` (0.5: cosine ~0.89
  to its base). Each passage thus has ~N/base noisy near-copies. ``--mix w`` adds w times the
  vector of a second random passage, so every chunk has its own direction (no tight clusters).
  How real is it? With 200 real queries and efConstruction 64, the 100k noise-only proxy gives HNSW
  recall@10 ~0.98 at efSearch 64 where real MiniLM vectors of 100k texts gave 0.96 (FIELD-NOTES):
  easier than real at 100k. At 1M each passage has ~100 near-copies whose order is set by the
  noise alone, which is hard for HNSW: treat the 1M recall of either variant as an estimate, not a
  measurement of real text;
* 10 chunks per document, document-level permission sets drawn at random.

The in-memory indexes are built from these arrays with the engine's own classes (VectorIndex,
KeywordIndex, Catalog), the chunk texts are bulk-written to a real ChunkStore (snippets are read
from it), and every timed search goes through ``SearchIndex.search``. ``allowed_document_ids`` is
what the web app passes: with ``--allowed numbers`` (default) the readable set is a bitmap of the
permission index's own document numbering (``graph.permissions``, documents numbered in another
order than the search catalog), turned into ``NumberedDocuments`` per search exactly as
``ingest.search.readable_numbers`` does (that conversion is timed and counted in "filter");
``--allowed ids`` passes a set of document ids instead (the older path). The query-vector cache is
cleared before each search, so "total" covers query embedding + permission filter + dense +
keyword + fusion + facets + snippets (the Cypher lookup of a person's principals, ~1 ms, is not). Dense recall@10
is measured against an exact scan of the allowed rows (numpy, independent of FAISS). Ends with one
JSON line.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from pyroaring import BitMap

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import SearchIndex
from embeddings.catalog import Catalog, NumberedDocuments
from embeddings.embedder import DEFAULT_MODEL, Embedder, get_embedder
from embeddings.keyword_index import KeywordIndex
from embeddings.snapshot import Snapshot
from embeddings.store import Watermark
from embeddings.text_tokens import configure_jieba, detect_lang, tokenize
from embeddings.vector_index import EF_CONSTRUCTION, EXACT_MAX_ROWS, HNSW_M, VectorIndex
from graph.permissions import cache as permissions

MODEL = DEFAULT_MODEL  # the model search serves by default (multilingual-e5-small)
CHUNKS_PER_DOC = 10
DEPTH = 200  # what SearchIndex.search asks each signal for on page 1 (MIN_DEPTH)
EF_SWEEP = (128, 256, 512, 1024)
BLOCK = 50_000  # rows generated / added / scanned at a time: bounds the temporary memory


def shared_data() -> Path:
    env = os.environ.get("HUITONG_SHARED_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def read_texts(path: Path) -> list[str]:
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line)["text"] for line in handle if line.strip()]


def windows(n: int) -> list[str]:
    """n distinct short passages: sliding word windows (English) and character windows (Chinese)."""
    retrieval = shared_data() / "retrieval"
    english = " ".join(read_texts(retrieval / "cranfield" / "corpus.jsonl")).split()
    chinese = "".join(re.sub(r"\s+", "", t) for t in read_texts(retrieval / "cmrc2018-trial-zh" / "corpus.jsonl"))
    out: list[str] = []
    seen: set[str] = set()
    zh_share = n // 10  # a tenth Chinese, like a mixed intranet
    for start in range(0, len(chinese) - 40, max(1, len(chinese) // zh_share)):
        text = chinese[start : start + 40]
        if text not in seen and len(out) < zh_share:
            seen.add(text)
            out.append(text)
    stride = max(1, len(english) // (n - len(out)))
    for width in (24, 18, 30, 14):  # several widths so the windows stay distinct at any n
        for start in range(0, len(english) - width, stride):
            text = " ".join(english[start : start + width])
            if text not in seen:
                seen.add(text)
                out.append(text)
            if len(out) >= n:
                return out
    return out


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def pct(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2)


def summary(values: list[float]) -> dict[str, float]:
    return {"p50": pct(values, 50), "p95": pct(values, 95)}


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# ---- the real base: passages embedded with the real model ---------------------------------------
def real_base(root: Path, n: int, embedder: Embedder) -> tuple[list[str], np.ndarray, float]:
    """(texts, vectors, chunks/s of the embedding or 0 when cached)."""
    texts = windows(n)
    cache = root / f"base-{MODEL}-{n}.npz"
    if cache.exists():
        with np.load(cache, allow_pickle=False) as data:
            if data["texts"].tolist() == texts:
                return texts, data["vectors"], 0.0
    start = time.perf_counter()
    vectors = embedder.embed(texts)
    rate = len(texts) / (time.perf_counter() - start)
    root.mkdir(parents=True, exist_ok=True)
    with open(cache, "wb") as handle:
        np.savez(handle, texts=np.array(texts, dtype=np.str_), vectors=vectors)
    return texts, vectors, rate


@dataclass(frozen=True)
class Proxy:
    noise: float  # norm of the Gaussian noise added to each chunk's base vector
    mix: float  # weight of a second, random base vector (0 = none)

    @property
    def tag(self) -> str:
        return f"noise{self.noise}-mix{self.mix}"


def proxy_blocks(base: np.ndarray, assign: np.ndarray, proxy: Proxy, seed: int) -> Iterator[np.ndarray]:
    """The proxy vectors of ``assign`` (base indexes), BLOCK rows at a time, deterministic for ``seed``."""
    rng = np.random.default_rng(seed)
    sigma = proxy.noise / np.sqrt(base.shape[1])  # per-dimension sd giving noise vectors of norm ~``noise``
    for start in range(0, len(assign), BLOCK):
        rows = len(assign[start : start + BLOCK])
        part = base[assign[start : start + BLOCK]] + rng.normal(0.0, sigma, (rows, base.shape[1])).astype(np.float32)
        if proxy.mix:  # a unique direction per chunk: no tight clusters of near-copies of one passage
            part += proxy.mix * base[rng.integers(0, len(base), rows)]
        part /= np.linalg.norm(part, axis=1, keepdims=True)
        yield np.ascontiguousarray(part, dtype=np.float32)


# ---- building one corpus ------------------------------------------------------------------------
def fill_store(index: SearchIndex, texts: list[str], assign: np.ndarray, doc_meta: list[dict]) -> float:
    """Bulk-write the chunk rows (ids 1..N) so snippets and the watermark check hit a real store."""

    n = len(assign)
    if index.store.chunk_count() == n:
        return 0.0
    start = time.perf_counter()
    langs = [detect_lang(t) for t in texts]
    hashes = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
    conn = index.store._conn  # bulk path for the bench only: one transaction, no per-document churn
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DELETE FROM chunks")
    conn.execute("DELETE FROM documents")
    conn.executemany(
        "INSERT INTO documents (document_id, version_id, metadata, updated_ms) VALUES (?, 'v1', ?, 0)",
        ((f"doc{d}", json.dumps(m)) for d, m in enumerate(doc_meta)),
    )
    conn.executemany(
        "INSERT INTO chunks (id, document_id, version_id, ordinal, ref, text, text_hash, lang) "
        "VALUES (?, ?, 'v1', ?, ?, ?, ?, ?)",
        (
            (
                i + 1,
                f"doc{i // CHUNKS_PER_DOC}",
                i % CHUNKS_PER_DOC,
                f"part {i % CHUNKS_PER_DOC}",
                texts[a],
                hashes[a],
                langs[a],
            )
            for i, a in enumerate(assign.tolist())
        ),
    )
    conn.execute("COMMIT")
    return time.perf_counter() - start


def build_vectors(
    path: Path, base: np.ndarray, assign: np.ndarray, proxy: Proxy, seed: int
) -> tuple[VectorIndex, float, bool]:
    """The HNSW index of the proxy vectors, loaded from ``path`` when an earlier run built it."""
    dim = base.shape[1]
    if path.exists():
        start = time.perf_counter()
        vectors = VectorIndex.load(path, dim)
        if vectors.rows == len(assign):
            return vectors, time.perf_counter() - start, True
    vectors = VectorIndex(dim)
    start = time.perf_counter()
    for block in proxy_blocks(base, assign, proxy, seed):
        vectors.add(block)
        done = vectors.rows
        elapsed = time.perf_counter() - start
        log(f"  HNSW {done}/{len(assign)} rows, {elapsed:.0f} s (eta {elapsed / done * (len(assign) - done):.0f} s)")
    build_s = time.perf_counter() - start
    tmp = path.with_suffix(".tmp")
    vectors.save(tmp)
    os.replace(tmp, path)
    return vectors, build_s, False


def build_corpus(
    index: SearchIndex, root: Path, n: int, texts: list[str], base: np.ndarray, proxy: Proxy, seed: int
) -> tuple[Snapshot, dict[str, object]]:
    rng = np.random.default_rng(seed)
    assign = rng.integers(0, len(texts), n)
    docs = (n + CHUNKS_PER_DOC - 1) // CHUNKS_PER_DOC
    doc_meta = [{"kind": detect_lang(texts[assign[d * CHUNKS_PER_DOC]])} for d in range(docs)]
    info: dict[str, object] = {"chunks": n, "documents": docs}
    info["store_fill_s"] = round(fill_store(index, texts, assign, doc_meta), 1)

    gc.collect()
    before = rss_mb()
    name = f"hnsw-{MODEL}-{n}-{seed}-{proxy.tag}-M{HNSW_M}-efc{EF_CONSTRUCTION}.faiss"
    vectors, vector_s, cached = build_vectors(root / name, base, assign, proxy, seed + 1)
    gc.collect()
    vector_mb = rss_mb() - before
    info["hnsw_load_s" if cached else "hnsw_build_s"] = round(vector_s, 1)

    before = rss_mb()
    start = time.perf_counter()
    base_tokens = [tokenize(t) for t in texts]  # a passage's tokens are the same wherever it is reused
    keywords = KeywordIndex()
    for s in range(0, n, BLOCK):
        keywords.add([base_tokens[a] for a in assign[s : s + BLOCK].tolist()])
    del base_tokens
    gc.collect()
    keyword_mb = rss_mb() - before
    info["keyword_build_s"] = round(time.perf_counter() - start, 1)

    before = rss_mb()
    catalog = Catalog()
    rows = np.arange(n)
    catalog.append(
        (rows + 1).tolist(),
        [f"doc{i // CHUNKS_PER_DOC}" for i in range(n)],
        [doc_meta[i // CHUNKS_PER_DOC] for i in range(n)],
    )
    gc.collect()
    catalog_mb = rss_mb() - before
    info["memory_bytes_per_chunk"] = {
        "dense_hnsw": round(vector_mb * 2**20 / n),  # the graph, float32 vectors and the 8-bit sketch
        "of_which_dense_sketch": round(vectors.sketch_bytes / n),
        "keyword": round(keyword_mb * 2**20 / n),
        "catalog": round(catalog_mb * 2**20 / n),
        "total": round((vector_mb + keyword_mb + catalog_mb) * 2**20 / n),
    }
    info["process_rss_mb"] = round(rss_mb())
    return Snapshot(Watermark(n, 0), catalog, vectors, keywords), info


# ---- measuring ----------------------------------------------------------------------------------
def exact_topk(
    matrix: np.ndarray, rows: np.ndarray | None, queries: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k (scores, rows) per query over ``rows`` of ``matrix`` (None = all), in blocks."""
    total = matrix.shape[0] if rows is None else len(rows)
    best_s = np.full((len(queries), 0), -np.inf, dtype=np.float32)
    best_r = np.zeros((len(queries), 0), dtype=np.int64)
    for start in range(0, total, BLOCK):
        ids = np.arange(start, min(total, start + BLOCK)) if rows is None else rows[start : start + BLOCK]
        block = matrix[start : start + len(ids)] if rows is None else matrix[ids]
        scores = np.concatenate([best_s, queries @ block.T], axis=1)
        cand = np.concatenate([best_r, np.broadcast_to(ids, (len(queries), len(ids)))], axis=1)
        keep = min(k, scores.shape[1])
        top = np.argpartition(-scores, keep - 1, axis=1)[:, :keep]
        best_s = np.take_along_axis(scores, top, axis=1)
        best_r = np.take_along_axis(cand, top, axis=1)
    order = np.argsort(-best_s, axis=1)
    return np.take_along_axis(best_s, order, axis=1), np.take_along_axis(best_r, order, axis=1)


def recall(found: np.ndarray, matrix: np.ndarray, qvec: np.ndarray, exact_scores: np.ndarray, k: int = 10) -> float:
    """Share of the exact top-k found; a row scoring as well as the k-th exact one counts (ties)."""
    want = min(k, len(exact_scores))
    if want == 0:
        return 1.0
    got = found[:k]
    true_scores = matrix[got] @ qvec if len(got) else np.zeros(0)
    return min(want, int((true_scores >= exact_scores[want - 1] - 1e-5).sum())) / want


def ef_sweep(
    vectors: VectorIndex, mask: np.ndarray, qmat: np.ndarray, exact_s: np.ndarray
) -> dict[str, dict[str, object]]:
    """Recall@10 and latency of the engine's HNSW call (bitmap selector, k=10) at other efSearch values."""
    matrix = vectors._matrix()
    bits = np.packbits(mask, bitorder="little")
    selector = faiss.IDSelectorBitmap(vectors.rows, faiss.swig_ptr(bits))
    out: dict[str, dict[str, object]] = {}
    for ef in EF_SWEEP:
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=ef)
        ms, found = [], []
        for qvec, ex in zip(qmat, exact_s, strict=True):
            start = time.perf_counter()
            _, rows = vectors._index.search(qvec.reshape(1, -1), 10, params=params)
            ms.append((time.perf_counter() - start) * 1000)
            found.append(recall(rows[0][rows[0] >= 0], matrix, qvec, ex))
        out[str(ef)] = {"recall@10": round(float(np.mean(found)), 4), "ms": summary(ms)}
    return out


def unrestricted(index: SearchIndex, queries: list[str]) -> dict[str, object]:
    """The same searches with ``allowed_document_ids=None``: what the permission set itself costs at 100%."""
    excl, filt = [], []
    for q in queries:
        index._query_vectors.clear()
        tm = index.search(q, None, per_page=10, facet_fields=["kind"]).timings_ms
        excl.append(tm["total"] - tm["query_embedding"])
        filt.append(tm["filter"])
    return {"search_excl_embedding_ms": summary(excl), "filter_ms": summary(filt)}


def permission_numbering(doc_ids: list[str], seed: int) -> tuple[object, np.ndarray]:
    """The permission index's numbering of the documents (registered in another order than indexed),
    and catalog document index -> permission number."""
    numbering = permissions._Index()
    order = np.random.default_rng(seed).permutation(len(doc_ids))
    for doc in order.tolist():
        numbering.put({"id": doc_ids[doc], "level": "internal", "owners": [], "targets": []})
    number_of = np.empty(len(doc_ids), dtype=np.int64)
    number_of[order] = np.arange(len(doc_ids))
    return numbering, number_of


def measure_share(
    index: SearchIndex,
    state: Snapshot,
    queries: list[str],
    share: float,
    users: int,
    rng: np.random.Generator,
    numbering: tuple[object, np.ndarray] | None,
) -> dict[str, object]:
    catalog, vectors = state.catalog, state.vectors
    matrix = vectors._matrix()  # the index's own flat storage (a view, no copy): the exact reference
    doc_ids = catalog.doc_ids
    n_users = users if share < 1 else 1
    t: dict[str, list[float]] = {
        k: []
        for k in ("total", "excl_embedding", "embedding", "filter", "dense", "keyword", "signals", "rest", "feedback")
    }
    dense10_ms, recall10, recall_depth, strategies, hits_per_page = [], [], [], set(), []
    extra: dict[str, object] = {}
    for user in range(n_users):
        mine = queries[user::n_users]
        count = max(1, round(share * len(doc_ids)))
        picked = rng.choice(len(doc_ids), count, replace=False) if share < 1 else np.arange(len(doc_ids))
        allowed = {doc_ids[i] for i in picked.tolist()}
        bitmap = BitMap(numbering[1][picked].tolist()) if numbering else None
        mask = catalog.allowed_rows_mask(catalog.doc_mask(allowed))
        allowed_rows = np.flatnonzero(mask) if share < 1 else None
        qvecs = []
        for q in mine:
            index._query_vectors.clear()  # every search pays for its query embedding
            start = time.perf_counter()
            if numbering:  # what ingest.search.readable_numbers does with the permission cache's bitmap
                readable = permissions.ReadableSet(BitMap(bitmap), numbering[0])  # type: ignore[arg-type]
                given: object = NumberedDocuments(readable.numbering, readable.numbers())
            else:
                given = allowed
            convert_ms = (time.perf_counter() - start) * 1000
            res = index.search(q, given, per_page=10, facet_fields=["kind"])  # type: ignore[arg-type]
            tm = res.timings_ms
            t["total"].append(tm["total"] + convert_ms)
            t["embedding"].append(tm["query_embedding"])
            t["excl_embedding"].append(tm["total"] + convert_ms - tm["query_embedding"])
            t["filter"].append(tm["filter"] + convert_ms)
            t["dense"].append(tm.get("dense", 0.0))
            t["keyword"].append(tm.get("keyword", 0.0))
            both = tm.get("signals", tm.get("dense", 0) + tm.get("keyword", 0))  # they overlap: their wall time
            t["signals"].append(both)
            t["rest"].append(tm["total"] - tm["query_embedding"] - tm["filter"] - both)
            t["feedback"].append(tm.get("feedback", 0.0))  # inside "rest"; 0 where a query gets none (Chinese)
            hits_per_page.append(len(res.hits))
            if any(h.document_id not in allowed for h in res.hits):
                raise AssertionError("a search returned a document outside the allowed set")
            qvecs.append(index._query_vectors[(index.embedder.model_name, q)])
        qmat = np.stack(qvecs)
        exact_s, _ = exact_topk(matrix, allowed_rows, qmat, 10)
        for qvec, ex in zip(qmat, exact_s, strict=True):
            start = time.perf_counter()
            rows10, _ = vectors.search(qvec, mask, 10)
            dense10_ms.append((time.perf_counter() - start) * 1000)
            strategies.add(vectors.last_strategy)
            rows_depth, _ = vectors.search(qvec, mask, DEPTH)
            recall10.append(recall(rows10, matrix, qvec, ex))
            recall_depth.append(recall(rows_depth, matrix, qvec, ex))
        if share == 1.0 and vectors.rows > EXACT_MAX_ROWS:
            extra["hnsw_ef_sweep"] = ef_sweep(vectors, mask, qmat, exact_s)
            extra["unrestricted_allowed_none"] = unrestricted(index, mine)
    return extra | {
        "allowed_documents": count,
        "allowed_chunks": int(mask.sum()),
        "searches": len(t["total"]),
        "search_total_ms": summary(t["total"]),
        "search_excl_embedding_ms": summary(t["excl_embedding"]),
        "parts_ms": {
            name: summary(t[name])
            for name in ("embedding", "filter", "dense", "keyword", "signals", "rest", "feedback")
        },
        "dense_strategy": "/".join(sorted(strategies)),
        "dense_k10_ms": summary(dense10_ms),
        "dense_recall@10_k10": round(float(np.mean(recall10)), 4),
        f"dense_recall@10_depth{DEPTH}": round(float(np.mean(recall_depth)), 4),
        "mean_hits_on_page": round(float(np.mean(hits_per_page)), 2),
    }


def query_set(count: int, rng: np.random.Generator) -> list[str]:
    """Real queries, four English (Cranfield) to one Chinese (CMRC 2018), like the corpus mix."""
    retrieval = shared_data() / "retrieval"
    english = [q.strip() for q in read_texts(retrieval / "cranfield" / "queries.jsonl") if q.strip()]
    chinese = [q.strip() for q in read_texts(retrieval / "cmrc2018-trial-zh" / "queries.jsonl") if q.strip()]
    n_zh = count // 5
    picked = [english[i] for i in rng.permutation(len(english))[: count - n_zh]]
    picked += [chinese[i] for i in rng.permutation(len(chinese))[:n_zh]]
    return [picked[i] for i in rng.permutation(len(picked))]


def query_embedding_ms(embedder: Embedder) -> dict[str, object]:
    """One short query at a time, on ``QUERY_THREADS`` torch threads (what search uses) and on torch's
    default thread count, interleaved.

    On a shared 2-core machine a second torch thread often waits for a busy core; the comparison
    shows how much of the query-embedding tail that costs.
    """
    import torch

    from embeddings import embedder as embedder_module

    configured, default = embedder_module.QUERY_THREADS, torch.get_num_threads()
    times: dict[str, list[float]] = {f"query_threads_{configured}": [], f"torch_default_threads_{default}": []}
    try:
        for q in query_set(100, np.random.default_rng(3)):
            for label, threads in zip(times, (configured, default), strict=True):
                embedder_module.QUERY_THREADS = threads
                start = time.perf_counter()
                embedder.embed_query(q)
                times[label].append((time.perf_counter() - start) * 1000)
    finally:
        embedder_module.QUERY_THREADS = configured
    return {label: summary(v) for label, v in times.items()}


def run_scale(
    n: int, root: Path, texts: list[str], base: np.ndarray, embedder: Embedder, args: argparse.Namespace
) -> dict[str, object]:
    folder = root / f"proxy-{n}"
    index = SearchIndex(folder, MODEL, embedder=embedder)
    state, info = build_corpus(index, folder, n, texts, base, Proxy(args.noise, args.mix), seed=n)
    index._state = state  # the bulk-built indexes, at the store's watermark: search() sees nothing new to apply
    if index.refresh() != 0:
        raise AssertionError("store and bulk-built indexes disagree")
    log(f"{n}: built {json.dumps(info)}")
    rng = np.random.default_rng(7)
    queries = query_set(args.queries, rng)
    for q in queries[:3]:  # warm-up: first calls fault pages in
        index.search(q, None)
    numbering = permission_numbering(state.catalog.doc_ids, seed=n + 2) if args.allowed == "numbers" else None
    info["hnsw_efSearch"] = state.vectors.ef_search()
    for share in (float(x) / 100 for x in args.shares.split(",")):
        label = f"{round(share * 100)}%"
        info[label] = measure_share(index, state, queries, share, args.users, rng, numbering)
        log(f"{n} {label}: {json.dumps(info[label])}")
    index.close()
    info["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]  # the machine is shared: context
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="100000,1000000", help="comma-separated corpus sizes in chunks")
    parser.add_argument("--shares", default="1,10,100", help="comma-separated readable shares, in percent")
    parser.add_argument("--queries", type=int, default=200, help="searches per scale and permission share")
    parser.add_argument("--users", type=int, default=20, help="distinct permission sets per share below 100%%")
    parser.add_argument("--base-texts", type=int, default=10_000, help="real passages embedded with the model")
    parser.add_argument("--noise", type=float, default=0.5, help="norm of the noise added to each base vector")
    parser.add_argument("--mix", type=float, default=0.0, help="weight of a second random base vector per chunk")
    parser.add_argument("--data-dir", type=Path, default=Path("data") / "bench-search")
    parser.add_argument("--allowed", choices=("numbers", "ids"), default="numbers",
                        help="readable set as the permission bitmap's numbers (the web app's path) or a set of ids")
    args = parser.parse_args()
    if not (shared_data() / "retrieval").exists():
        sys.exit(f"shared data not found under {shared_data()} (set HUITONG_SHARED_DATA)")
    root: Path = args.data_dir
    configure_jieba(root / "jieba")

    embedder = get_embedder(MODEL)
    texts, base, rate = real_base(root, args.base_texts, embedder)
    log(f"{len(texts)} real base passages" + (f" embedded at {rate:.0f}/s" if rate else " (cached)"))
    figures: dict[str, object] = {
        "proxy": (
            f"{len(texts)} real passages (Cranfield word windows, 10% CMRC character windows) embedded with {MODEL}; "
            f"chunk i = passage a_i (uniform), vector normalise(v[a_i] + {args.mix} v[b_i] (b_i uniform) "
            f"+ gaussian noise of norm {args.noise}); "
            f"{CHUNKS_PER_DOC} chunks per document; permission sets = random documents"
        ),
        "hnsw": {"M": HNSW_M, "efConstruction": EF_CONSTRUCTION},
        "allowed_as": args.allowed,
        "queries": f"{args.queries} real queries per share (4:1 Cranfield:CMRC), {args.users} users per share < 100%",
    }
    if rate:
        figures["base_embedding_chunks_per_s"] = round(rate, 1)
    figures["query_embedding_ms"] = query_embedding_ms(embedder)
    for n in (int(s) for s in args.scales.split(",")):
        figures[str(n)] = run_scale(n, root, texts, base, embedder, args)
        gc.collect()
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
