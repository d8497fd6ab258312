"""Pseudo-relevance feedback: the first fused ranking's best documents re-rank the candidates already retrieved.

Short English queries ("heat conduction in composite slabs") and a small multilingual model agree weakly: on
Cranfield the dense signal alone is far below BM25. The documents that BOTH signals put first are usually on the
topic, and they say it in the corpus's own words. So, after a first fusion:

- dense: the query vector moves towards those documents' best chunks (Rocchio: q + beta * their mean,
  normalised) and the candidate rows are scored again with it;
- keyword: the terms most typical of those documents (term frequency in the chunk times idf) are added to the
  query with a small weight, again only on the candidate rows (BM25 statistics over the allowed rows).

The candidates are the union of the two signals' heads: no index walk is repeated, the cost is a few hundred dot
products and a binary search per candidate row and expansion term. Feedback only re-orders that head: what counts
as a result (a keyword match or a chunk above the similarity floor), the total and the facets stay those of the
first pass.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.catalog import AllowedRows
from embeddings.keyword_index import KeywordIndex
from embeddings.matches import SignalMatches
from embeddings.text_tokens import tokenize
from embeddings.vector_index import VectorIndex

# per signal: (its head best first, every row it matched); as embeddings.signals.Ranked
Ranked = dict[str, tuple[SignalMatches, SignalMatches]]


@dataclass(frozen=True)
class Feedback:
    """``docs`` best fused documents move the query vector by ``dense_weight`` times their mean; the ``terms``
    most typical terms of the best ``term_docs`` documents join the keyword query, together weighing
    ``term_weight`` times one query term. ``then``: one more round, whose documents are the best of this
    round's ranking; it re-scores the first pass's signals again (the rounds do not compound)."""

    docs: int = 2
    dense_weight: float = 1.0
    term_docs: int = 3
    terms: int = 20
    term_weight: float = 1.0
    then: Feedback | None = None

    def rounds(self) -> list[Feedback]:
        out: list[Feedback] = []
        config: Feedback | None = self
        while config is not None:
            out.append(config)
            config = config.then
        return out


def _order(rows: np.ndarray, scores: np.ndarray) -> SignalMatches:
    keep = np.lexsort((rows, -scores))  # best first; ties: earlier row first, as everywhere else
    return rows[keep].astype(np.int64), scores[keep].astype(np.float32)


def _best_rows(ranked: Ranked, row_doc: np.ndarray, docs: Sequence[int]) -> list[int]:
    """Each document's best chunk row: its first row in the dense head, else in the keyword head."""
    wanted, found = set(docs), {}
    for name in ("dense", "keyword"):
        if name not in ranked:
            continue
        rows = ranked[name][0][0]
        for row, doc in zip(rows.tolist(), row_doc[rows].tolist(), strict=True):
            if doc in wanted and doc not in found:
                found[doc] = row
    return [found[doc] for doc in docs if doc in found]


def _expansion(texts: Sequence[str], query_terms: set[str], idf: Callable[[list[str]], dict[str, float]],
               count: int) -> dict[str, float]:
    """The ``count`` terms most typical of the feedback texts (length-normalised tf times idf), weights summing
    to 1; the query's own terms, numbers and one-letter terms are left out."""
    weights: dict[str, float] = {}
    bags = [Counter(tokenize(text)) for text in texts]
    known = idf([t for bag in bags for t in bag if t not in query_terms and len(t) > 1 and not t.isdigit()])
    for bag in bags:
        total = sum(bag.values()) or 1
        for term, tf in bag.items():
            if term in known:
                weights[term] = weights.get(term, 0.0) + tf / total * known[term]
    best = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:count]
    mass = sum(w for _, w in best)
    return {term: w / mass for term, w in best} if mass > 0 else {}


def rerank(
    config: Feedback, ranked: Ranked, first: Sequence[int], qvec: np.ndarray | None, query: str,
    vectors: VectorIndex, keywords: KeywordIndex, rows_mask: AllowedRows, row_doc: np.ndarray,
    chunk_text: Callable[[list[int]], list[str]],
) -> Ranked:
    """The signals' heads re-scored on their union after feedback from ``first`` (the first fused ranking's
    document numbers, best first). Every signal keeps its matches (what counts is unchanged)."""
    if not first or not ranked:
        return ranked
    candidates = np.unique(np.concatenate([head[0] for head, _ in ranked.values()]))
    out = dict(ranked)
    if "dense" in ranked and qvec is not None and config.docs and config.dense_weight:
        rows = _best_rows(ranked, row_doc, first[: config.docs])
        if rows:
            moved = qvec + config.dense_weight * vectors.vectors(np.asarray(rows, dtype=np.int64)).mean(axis=0)
            moved /= np.linalg.norm(moved)
            scores = vectors.vectors(candidates) @ moved
            out["dense"] = (_order(candidates, scores), ranked["dense"][1])
    if "keyword" in ranked and config.terms and config.term_weight and query:
        counts = Counter(tokenize(query))
        rows = _best_rows(ranked, row_doc, first[: config.term_docs])
        added = _expansion(chunk_text(rows), set(counts), lambda terms: keywords.idf(terms, rows_mask), config.terms)
        if added:
            scores = keywords.row_scores({t: float(c) for t, c in counts.items()}, candidates, rows_mask)
            scores += config.term_weight * len(counts) * keywords.row_scores(added, candidates, rows_mask)
            hit = scores > 0
            out["keyword"] = (_order(candidates[hit], scores[hit]), ranked["keyword"][1])
    return out
