"""Near-duplicate detection (ingest/dedupe.py): precision and recall on a constructed set, cost at 100k documents.

The set is built from real text: Chinese Wikipedia paragraphs (CMRC 2018 trial) and English abstracts
(Cranfield), from ``$HUITONG_SHARED_DATA`` (default /work/shared/data). Every base document is one
company template (header, numbered sections, footer) around its own paragraphs. For each base:
copies with 1 %, 5 % and 20 % of the tokens edited (replaced, deleted or inserted), one with its
sections shuffled, and one under a different template header; all of them (and each other) must match.
Unrelated documents from the same template, including short ones where the template is a large part
of the text, must NOT match. Predicted pairs come from the real MinHash LSH query followed by the
signature similarity threshold, exactly as ingestion does.

Cost: the signature of a document (mean size of the set), LSH insert and query with 100k signatures
in the index (random signatures: buckets stay realistic because real documents rarely collide).

    python bench/dedupe_bench.py [--bases 180] [--index 100000]

The last line printed is one JSON object with the figures.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import re
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from datasketch import MinHashLSH

from ingest import dedupe

DATA = Path(os.environ.get("HUITONG_SHARED_DATA", "/work/shared/data")) / "retrieval"
HEADER_A = ("汇通科技有限公司 内部文件\n文件编号：HT-{n:04d}  密级：内部  版本：1.0\n"
            "编制部门：{dept}  审核：综合管理部\n")
HEADER_B = "Huitong Technology Co., Ltd. — Internal document\nRef. HT/{n:04d} · Classification: internal · Rev. A\n"
FOOTER = ("\n本文件由汇通科技有限公司编制，仅供内部使用，未经许可不得复制或向第三方披露。"
          "如有疑问请联系综合管理部。This document is for internal use only.\n")
DEPARTMENTS = ["财务部", "人力资源部", "研发中心", "市场部", "法务部"]
VARIANTS = ("edit_1", "edit_5", "edit_20", "shuffled", "other_header")


def passages() -> tuple[list[str], list[str]]:
    def load(name: str) -> list[str]:
        with (DATA / name / "corpus.jsonl").open(encoding="utf-8") as handle:
            return [json.loads(line)["text"].strip() for line in handle if line.strip()]

    return load("cmrc2018-trial-zh"), load("cranfield")


def units(text: str, chinese: bool) -> list[str]:
    return list(text) if chinese else text.split()


def join(parts: list[str], chinese: bool) -> str:
    return "".join(parts) if chinese else " ".join(parts)


def edited(section: str, rate: float, rng: random.Random, vocabulary: list[str], chinese: bool) -> str:
    out: list[str] = []
    for unit in units(section, chinese):
        if rng.random() >= rate:
            out.append(unit)
            continue
        action = rng.choice(("replace", "delete", "insert"))
        if action == "replace":
            out.append(rng.choice(vocabulary))
        elif action == "insert":
            out += [unit, rng.choice(vocabulary)]
    return join(out, chinese)


def reordered(sections: list[str]) -> list[str]:
    """Sections in another order; a single section has its sentences reordered instead."""
    if len(sections) > 1:
        return sections[1:] + sections[:1]
    sentences = [x for x in re.split(r"(?<=[。！？.!?])\s*", sections[0]) if x]
    return [" ".join(sentences[len(sentences) // 2:] + sentences[:len(sentences) // 2])]


def document(n: int, sections: list[str], header: str = HEADER_A) -> str:
    body = "\n\n".join(f"{i + 1}. {text}" for i, text in enumerate(sections))
    return header.format(n=n, dept=DEPARTMENTS[n % len(DEPARTMENTS)]) + "\n" + body + FOOTER


def build(bases: int, rng: random.Random) -> tuple[dict[str, str], set[tuple[str, str]], dict[str, str]]:
    """Documents by name, the pairs that must match, and each document's variant kind."""
    zh, en = passages()
    rng.shuffle(zh)
    rng.shuffle(en)
    vocab = {True: sorted({c for p in zh for c in p if "\u4e00" <= c <= "\u9fff"}),
             False: sorted({w for p in en for w in p.split()})}
    docs: dict[str, str] = {}
    kinds: dict[str, str] = {}
    positives: set[tuple[str, str]] = set()
    zh_pool, en_pool = iter(zh), iter(en)
    for n in range(bases):
        chinese = n % 2 == 0
        pool = zh_pool if chinese else en_pool
        count = 1 if n % 6 in (0, 1) else 3  # a third are short: the template is a large share of their text
        sections = [next(pool) for _ in range(count)]
        family = {f"b{n}": document(n, sections)}
        for rate, name in ((0.01, "edit_1"), (0.05, "edit_5"), (0.20, "edit_20")):
            family[f"b{n}.{name}"] = document(n, [edited(s, rate, rng, vocab[chinese], chinese) for s in sections])
        family[f"b{n}.shuffled"] = document(n, reordered(sections))
        family[f"b{n}.other_header"] = document(n, sections, HEADER_B)
        for name in family:
            kinds[name] = name.split(".", 1)[1] if "." in name else "base"
        docs.update(family)
        positives.update(tuple(sorted(p)) for p in itertools.combinations(family, 2))
    return docs, positives, kinds


def evaluate(signatures: dict[str, np.ndarray], positives: set[tuple[str, str]], kinds: dict[str, str],
             threshold: float) -> dict[str, object]:
    lsh = MinHashLSH(threshold=threshold, num_perm=dedupe.NUM_PERM)
    for name, values in signatures.items():
        lsh.insert(name, dedupe._lean(values), check_duplication=False)
    predicted: set[tuple[str, str]] = set()
    for name, values in signatures.items():
        for other in lsh.query(dedupe._lean(values)):
            if other != name and dedupe.similarity(values, signatures[other]) >= threshold:
                predicted.add(tuple(sorted((name, other))))
    hits = predicted & positives
    recall_by = {}
    for variant in VARIANTS:
        wanted = {p for p in positives if any(kinds[x] == variant for x in p) and any(kinds[x] == "base" for x in p)}
        recall_by[variant] = round(len(wanted & predicted) / len(wanted), 4) if wanted else None
    false = predicted - positives
    return {"threshold": threshold, "precision": round(len(hits) / len(predicted), 4) if predicted else 1.0,
            "recall": round(len(hits) / len(positives), 4), "false_pairs": len(false),
            "recall_vs_base": recall_by}


def cost(texts: list[str], index_size: int, rng: np.random.Generator) -> dict[str, float]:
    timings = []
    for text in texts:
        start = time.perf_counter()
        dedupe.signature(text)
        timings.append((time.perf_counter() - start) * 1000)
    lsh = MinHashLSH(threshold=dedupe.NEAR_THRESHOLD, num_perm=dedupe.NUM_PERM)
    randoms = rng.integers(0, 2**32 - 1, size=(index_size, dedupe.NUM_PERM), dtype=np.uint64).astype(np.uint32)
    start = time.perf_counter()
    for i in range(index_size):
        lsh.insert(f"d{i}", dedupe._lean(randoms[i]), check_duplication=False)
    insert_us = (time.perf_counter() - start) * 1e6 / index_size
    queries = [dedupe._lean(randoms[rng.integers(0, index_size)]) for _ in range(2000)]
    start = time.perf_counter()
    for query in queries:
        lsh.query(query)
    query_us = (time.perf_counter() - start) * 1e6 / len(queries)
    return {"signature_ms_p50": round(statistics.median(timings), 3),
            "signature_ms_mean": round(statistics.fmean(timings), 3),
            "mean_chars": round(statistics.fmean(len(t) for t in texts)),
            "lsh_insert_us": round(insert_us, 1), "lsh_query_us_at_index": round(query_us, 1),
            "per_document_ms": round(statistics.fmean(timings) + (insert_us + query_us) / 1000, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bases", type=int, default=180)
    parser.add_argument("--index", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--shingle", type=int, default=dedupe.SHINGLE, help="tokens per shingle (to compare)")
    parser.add_argument("--costs", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    dedupe.SHINGLE = args.shingle
    docs, positives, kinds = build(args.bases, random.Random(args.seed))
    signatures = {name: dedupe.signature(text) for name, text in docs.items()}
    signatures = {name: values for name, values in signatures.items() if values is not None}
    print(f"{len(docs)} documents ({args.bases} bases x {len(VARIANTS)} variants), {len(positives)} true pairs, "
          f"{len(docs) * (len(docs) - 1) // 2 - len(positives)} pairs that must not match")
    thresholds = sorted({0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, dedupe.NEAR_THRESHOLD})
    sweep = [evaluate(signatures, positives, kinds, t) for t in thresholds]
    for row in sweep:
        print(f"threshold {row['threshold']:.2f}: precision {row['precision']:.4f} recall {row['recall']:.4f} "
              f"false pairs {row['false_pairs']} recall vs base {row['recall_vs_base']}")
    chosen = next(row for row in sweep if row["threshold"] == dedupe.NEAR_THRESHOLD)
    if not args.costs:
        return
    figures = cost(list(docs.values()), args.index, np.random.default_rng(args.seed))
    print(f"cost: signature {figures['signature_ms_p50']} ms p50 ({figures['mean_chars']} chars mean), "
          f"LSH insert {figures['lsh_insert_us']} us, query {figures['lsh_query_us_at_index']} us "
          f"with {args.index} signatures indexed")
    print(json.dumps({"documents": len(docs), "true_pairs": len(positives), "threshold": dedupe.NEAR_THRESHOLD,
                      "precision": chosen["precision"], "recall": chosen["recall"],
                      "false_pairs": chosen["false_pairs"], "recall_vs_base": chosen["recall_vs_base"],
                      "sweep": {str(r["threshold"]): [r["precision"], r["recall"]] for r in sweep},
                      "index_size": args.index, **figures}, ensure_ascii=False))


if __name__ == "__main__":
    main()
