"""The "rest" of a search at 1M rows / 100k documents: counting, faceting and ordering every match.

Usage: python bench/search_rest_bench.py

Synthetic matches (random keyword rows with random scores, 200 dense rows), through the engine's current path
(``embeddings.matches`` + ``catalog.top_k``) and through a reproduction of the path before it (keyword matches
sorted in full, the documents past the fused head walked in Python, facets counted with a Counter), interleaved
in one run; both must give the same totals and facets. Ends with one JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from embeddings import matches
from embeddings.catalog import Catalog, top_k
from embeddings.hybrid import facet_counts

ROWS, PER_DOC, DEPTH = 1_000_000, 10, 200
KINDS = ("pdf", "docx", "xlsx", "txt")


def catalog() -> Catalog:
    cat = Catalog()
    docs = [f"doc{i // PER_DOC}" for i in range(ROWS)]
    cat.append(list(range(1, ROWS + 1)), docs, [{"kind": KINDS[(i // PER_DOC) % 4]} for i in range(ROWS)])
    return cat


def before(cat: Catalog, kw: tuple[np.ndarray, np.ndarray], dense: np.ndarray) -> tuple[float, int, dict]:
    start = time.perf_counter()
    row_doc = cat.row_doc.view
    ranked = kw[0][np.lexsort((kw[0], -kw[1]))]  # keyword returned every match, sorted
    fused = [(cat.doc_ids[d], 1.0) for d in dict.fromkeys(row_doc[ranked[:DEPTH]].tolist())]
    seen = {d for d, _ in fused}
    for docs in (row_doc[dense], row_doc[ranked]):
        _, first = np.unique(docs, return_index=True)
        for number in docs[np.sort(first)].tolist():
            doc = cat.doc_ids[number]
            if doc not in seen:
                seen.add(doc)
                fused.append((doc, 0.0))
    metas = {doc: cat.doc_meta[cat.doc_index[doc]] for doc, _ in fused}
    facets = facet_counts((metas[d] for d, _ in fused), ["kind"])
    return (time.perf_counter() - start) * 1000, len(fused), dict(facets["kind"])


def now(cat: Catalog, kw: tuple[np.ndarray, np.ndarray], dense: np.ndarray) -> tuple[float, int, dict]:
    start = time.perf_counter()
    row_doc = cat.row_doc.view
    head, _ = top_k(kw[0], kw[1], DEPTH)
    _ = [(cat.doc_ids[d], 1.0) for d in dict.fromkeys(row_doc[head].tolist())]
    found = matches.matched_documents(row_doc, len(cat.doc_ids), [(dense, np.ones(len(dense))), kw])
    facets = matches.facets(cat.facet_columns(["kind"]), found, cat.doc_meta)
    return (time.perf_counter() - start) * 1000, len(found), dict(facets["kind"])


def main() -> None:
    rng = np.random.default_rng(1)
    cat = catalog()
    cat.facet_columns(["kind"])["kind"].sync(cat.doc_meta)  # codes are built once per document, not per query
    out: dict[str, object] = {}
    for hits in (1_000, 30_000, 300_000):
        old_ms, new_ms = [], []
        for _ in range(15):
            rows = np.sort(rng.choice(ROWS, hits, replace=False))
            kw = (rows, rng.random(hits).astype(np.float32))
            dense = rng.choice(ROWS, 200, replace=False)
            a, b = before(cat, kw, dense), now(cat, kw, dense)
            assert a[1:] == b[1:], "totals or facets differ"
            old_ms.append(a[0])
            new_ms.append(b[0])
        out[f"{hits}_keyword_rows"] = {
            name: {"p50": round(float(np.percentile(v, 50)), 1), "p95": round(float(np.percentile(v, 95)), 1)}
            for name, v in (("before_ms", old_ms), ("now_ms", new_ms))
        }
    out["load_average_1_5_15"] = [round(x, 2) for x in os.getloadavg()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
