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
from functools import cached_property

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


def _expansion(bags: Sequence[Counter], query_terms: set[str], keywords: KeywordIndex, allowed: AllowedRows,
               count: int) -> dict[str, float]:
    """The ``count`` terms most typical of the feedback texts (length-normalised tf times idf over the allowed
    rows), weights summing to 1; the query's own terms, numbers and one-letter terms are left out.

    A term's weight is its share of the texts times its idf, and an exact idf over a partial row set costs a
    walk of the term's posting. So the idf is bounded first (from posting lengths, free): only terms whose
    highest possible weight reaches the ``count``-th best lowest possible weight are counted exactly, and the
    rest too if any of them could still beat the chosen ones. The choice is the exact one."""
    share: dict[str, float] = {}
    for bag in bags:
        total = sum(bag.values()) or 1
        for term, tf in bag.items():
            if term not in query_terms and len(term) > 1 and not term.isdigit():
                share[term] = share.get(term, 0.0) + tf / total
    bounds = keywords.idf_bounds(list(share), allowed)
    lows = sorted((share[t] * low for t, (low, _) in bounds.items()), reverse=True)
    floor = lows[count - 1] if len(lows) >= count else 0.0
    hopeful = [t for t, (_, high) in bounds.items() if share[t] * high >= floor]
    weights = {t: share[t] * idf for t, idf in keywords.idf(hopeful, allowed).items()}
    best = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:count]
    cut = best[-1][1] if len(best) == count else 0.0
    rest = [t for t, (_, high) in bounds.items() if t not in weights and share[t] * high >= cut]
    if rest:  # a bound was too loose to decide: count those terms too
        weights.update((t, share[t] * idf) for t, idf in keywords.idf(rest, allowed).items())
        best = sorted(weights.items(), key=lambda item: (-item[1], item[0]))[:count]
    mass = sum(w for _, w in best)
    return {term: w / mass for term, w in best} if mass > 0 else {}


class Pool:
    """The rows every feedback round re-scores (the union of the first pass's heads) and what the rounds share of
    them: the candidates' vectors, each term's BM25 on them, the tokens of the chunks read. Rounds re-score the
    same first pass, so a second round pays only for what is new to it."""

    def __init__(self, ranked: Ranked, vectors: VectorIndex, keywords: KeywordIndex, allowed: AllowedRows,
                 query: str) -> None:
        self.ranked, self.keywords, self.allowed = ranked, keywords, allowed
        self.vector_index = vectors
        heads = [head[0] for head, _ in ranked.values()]
        self.rows = np.unique(np.concatenate(heads)) if heads else np.zeros(0, dtype=np.int64)
        self.query_counts = Counter(tokenize(query)) if query else Counter()
        self._term_scores: dict[str, np.ndarray | None] = {}
        self._bags: dict[int, Counter] = {}

    @cached_property
    def vectors(self) -> np.ndarray:
        return self.vector_index.vectors(self.rows)

    def scores(self, weights: dict[str, float]) -> np.ndarray:
        """Weighted BM25 of terms on the candidate rows."""
        return self.keywords.row_scores(weights, self.rows, self.allowed, memo=self._term_scores)

    def bags(self, rows: list[int], chunk_text: Callable[[list[int]], list[str]]) -> list[Counter]:
        """Term counts of these rows' chunks (read and tokenised once per search)."""
        new = [row for row in rows if row not in self._bags]
        for row, text in zip(new, chunk_text(new) if new else [], strict=True):
            self._bags[row] = Counter(tokenize(text))
        return [self._bags[row] for row in rows]


def rerank(
    config: Feedback, pool: Pool, first: Sequence[int], qvec: np.ndarray | None, row_doc: np.ndarray,
    chunk_text: Callable[[list[int]], list[str]],
) -> Ranked:
    """The signals' heads re-scored on their union after feedback from ``first`` (the first fused ranking's
    document numbers, best first). Every signal keeps its matches (what counts is unchanged)."""
    ranked, candidates = pool.ranked, pool.rows
    if not first or not ranked:
        return ranked
    out = dict(ranked)
    if "dense" in ranked and qvec is not None and config.docs and config.dense_weight:
        rows = _best_rows(ranked, row_doc, first[: config.docs])
        if rows:
            best = pool.vector_index.vectors(np.asarray(rows, dtype=np.int64))
            moved = qvec + config.dense_weight * best.mean(axis=0)
            moved /= np.linalg.norm(moved)
            out["dense"] = (_order(candidates, pool.vectors @ moved), ranked["dense"][1])
    counts = pool.query_counts
    if "keyword" in ranked and config.terms and config.term_weight and counts:
        rows = _best_rows(ranked, row_doc, first[: config.term_docs])
        added = _expansion(pool.bags(rows, chunk_text), set(counts), pool.keywords, pool.allowed, config.terms)
        if added:
            scores = pool.scores({t: float(c) for t, c in counts.items()})
            scores += config.term_weight * len(counts) * pool.scores(added)
            hit = scores > 0
            out["keyword"] = (_order(candidates[hit], scores[hit]), ranked["keyword"][1])
    return out
