"""Feedback's fast statistics change nothing: its keyword re-ranking equals a straightforward BM25 computed
from the texts themselves, for a reader of everything and for partial readers, on repeated searches (counts
kept with the row set) and after the index grows (nothing stale is reused)."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from embeddings.catalog import AllowedRows
from embeddings.feedback import Feedback, Pool, rerank
from embeddings.keyword_index import K1, B, KeywordIndex
from embeddings.text_tokens import tokenize

WORDS = ["boundary", "layer", "heat", "flux", "plate", "cone", "wing", "shock", "wave", "pressure", "nozzle",
         "turbulent", "laminar", "flow", "skin", "friction", "buckling", "shell", "panel", "flutter", "mach",
         "subsonic", "supersonic", "vortex", "wake", "jet", "inlet", "blade", "stress", "creep"]
CONFIG = Feedback(docs=0, dense_weight=0.0, term_docs=3, terms=8, term_weight=1.0)


def texts(rng: np.random.Generator, n: int) -> list[str]:
    weights = 1.0 / np.arange(1, len(WORDS) + 1)  # skewed: a few words in most rows
    return [" ".join(rng.choice(WORDS, rng.integers(3, 25), p=weights / weights.sum())) for _ in range(n)]


def plain_bm25(bags: list[Counter], mask: np.ndarray, weights: dict[str, float], rows: list[int]) -> list[float]:
    allowed = [i for i in range(len(bags)) if mask[i]]
    n, avgdl = len(allowed), sum(sum(bags[i].values()) for i in allowed) / len(allowed)
    out = []
    for row in rows:
        score, length = 0.0, sum(bags[row].values())
        for term, weight in weights.items():
            df = sum(1 for i in allowed if term in bags[i])
            tf = bags[row][term]
            if df and tf:
                idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
                score += weight * idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * length / max(avgdl, 1.0)))
        out.append(score)
    return out


def plain_expansion(bags: list[Counter], mask: np.ndarray, rows: list[int], query: set[str]) -> dict[str, float]:
    allowed = [i for i in range(len(bags)) if mask[i]]
    n, weights = len(allowed), {}
    for row in rows:
        total = sum(bags[row].values())
        for term, tf in bags[row].items():
            if term in query or len(term) < 2 or term.isdigit():
                continue
            df = sum(1 for i in allowed if term in bags[i])
            weights[term] = weights.get(term, 0.0) + tf / total * math.log(1.0 + (n - df + 0.5) / (df + 0.5))
    best = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[: CONFIG.terms]
    mass = sum(w for _, w in best)
    return {t: w / mass for t, w in best}


def check(index: KeywordIndex, corpus: list[str], allowed: AllowedRows, query: str, rng: np.random.Generator) -> None:
    bags = [Counter(tokenize(t)) for t in corpus]
    terms = tokenize(query)
    head = index.search(terms, allowed, 40)
    every = index.matches(terms, allowed)
    if not len(head[0]):
        return
    first = [int(r) for r in head[0][: CONFIG.term_docs]]  # one chunk per document here: row = document
    ranked = {"keyword": (head, every)}
    pool = Pool(ranked, None, index, allowed, query)  # type: ignore[arg-type]
    out = rerank(CONFIG, pool, first, None, np.arange(len(corpus)), lambda rows: [corpus[r] for r in rows])
    rows, scores = out["keyword"][0]
    counts = Counter(terms)
    added = plain_expansion(bags, allowed.mask, first, set(counts))
    candidates = sorted(head[0].tolist())
    want = np.array(plain_bm25(bags, allowed.mask, {t: float(c) for t, c in counts.items()}, candidates))
    want += CONFIG.term_weight * len(counts) * np.array(plain_bm25(bags, allowed.mask, added, candidates))
    order = sorted((i for i in range(len(candidates)) if want[i] > 0), key=lambda i: (-want[i], candidates[i]))
    np.testing.assert_allclose(scores, want[order], rtol=1e-5)
    gaps = np.abs(np.diff(want[order]))  # the order itself wherever two scores are not (nearly) tied
    clear = np.concatenate([[True], gaps > 1e-4]) & np.concatenate([gaps > 1e-4, [True]])
    assert np.array_equal(rows[clear], np.array(candidates)[order][clear])


def test_feedback_keyword_reranking_equals_plain_bm25_for_every_reader() -> None:
    rng = np.random.default_rng(5)
    corpus = texts(rng, 400)
    index = KeywordIndex()
    index.add([tokenize(t) for t in corpus])
    readers = [AllowedRows(np.ones(400, bool))] + [AllowedRows(rng.random(400) < s) for s in (0.05, 0.3)]
    queries = [" ".join(rng.choice(WORDS, rng.integers(1, 4))) for _ in range(12)]
    for _ in range(2):  # the second round reads the counts kept with each row set
        for allowed in readers:
            for query in queries:
                check(index, corpus, allowed, query, rng)
    more = texts(rng, 100)
    index.add([tokenize(t) for t in more])
    corpus += more
    grown = [AllowedRows(np.concatenate([r.mask, np.ones(100, bool)])) for r in readers]
    readers[1].mask = np.concatenate([readers[1].mask, np.zeros(100, bool)])  # same object, index grown
    for allowed in [*grown, readers[1]]:
        for query in queries:
            check(index, corpus, allowed, query, rng)
