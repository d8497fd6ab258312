"""Fusion of ranked chunk lists into ranked documents, facets and highlighted snippets."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from embeddings.catalog import Catalog
from embeddings.matches import SignalMatches
from embeddings.store import Metadata
from embeddings.text_tokens import token_spans

SNIPPET_CHARS = 240


@dataclass(frozen=True)
class DocHead:
    """One signal's head collapsed to documents: document numbers best first, each once, with its best chunk's
    row and score (arrays: fusion runs three times per English search, over a few hundred documents)."""

    docs: np.ndarray
    rows: np.ndarray
    scores: np.ndarray

    @classmethod
    def of_rows(cls, rows: np.ndarray, scores: np.ndarray, row_doc: np.ndarray) -> DocHead:
        """From a head of rows best first: each document's first (best) row."""
        docs = row_doc[rows]
        _, first = np.unique(docs, return_index=True)
        keep = np.sort(first)
        return cls(docs[keep].astype(np.int64), rows[keep].astype(np.int64), scores[keep].astype(np.float64))

    def find(self, doc: int) -> tuple[int, int] | None:
        """(1-based rank, best row) of document number ``doc`` in this head, or None."""
        at = np.flatnonzero(self.docs == doc)
        return (int(at[0]) + 1, int(self.rows[at[0]])) if len(at) else None


def fuse(heads: Mapping[str, DocHead], weights: Mapping[str, float], doc_ids: Sequence[str],
         zero_floor: frozenset[str] = frozenset()) -> list[tuple[int, float]]:
    """Convex combination of max-normalised scores: sum over signals of weight * score / that signal's best.

    Unlike rank fusion, a signal that cannot tell documents apart (flat scores, e.g. an English-only model
    on Chinese text) moves the order little. A document a signal did not return gets the lowest score that
    signal returned, since it ranked below all of them, or 0 for the signals in ``zero_floor`` (keyword: a
    document it did not return usually holds none of the terms). (document number, score) best first; ties are
    broken by document id (``doc_ids``: id per number).
    """
    present = {name: head for name, head in heads.items() if len(head.docs)}
    if not present:
        return []
    union = np.unique(np.concatenate([head.docs for head in present.values()]))
    fused = np.zeros(len(union), dtype=np.float64)
    for name, head in present.items():
        best = float(head.scores.max())
        normalised = head.scores * (1.0 / best if best > 0 else 1.0)
        values = np.full(len(union), 0.0 if name in zero_floor else float(normalised.min()))
        values[np.searchsorted(union, head.docs)] = normalised
        fused += weights.get(name, 1.0) * values
    order = np.argsort(-fused, kind="stable")
    if np.any(np.diff(fused[order]) == 0):  # equal scores (copies of one text): those go by id
        order = np.lexsort((np.array([doc_ids[doc] for doc in union.tolist()]), -fused))
    return list(zip(union[order].tolist(), fused[order].tolist(), strict=True))


def fuse_heads(
    ranked: Mapping[str, tuple[SignalMatches, SignalMatches]], catalog: Catalog, weights: Mapping[str, float]
) -> tuple[dict[str, DocHead], list[tuple[int, float]]]:
    """Each signal's head (rows best first) collapsed to documents, and their fusion (keyword: zero floor)."""
    row_doc = catalog.row_doc.view
    heads = {name: DocHead.of_rows(rows, scores, row_doc) for name, ((rows, scores), _) in ranked.items()}
    return heads, fuse(heads, weights, catalog.doc_ids, zero_floor=frozenset({"keyword"}))


def facet_counts(metas: Iterable[Metadata], fields: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
    counters: dict[str, Counter[str]] = {field: Counter() for field in fields}
    for meta in metas:
        for field in fields:
            value = meta.get(field)
            if value is not None and value != "":
                counters[field][str(value)] += 1
    return {field: counter.most_common() for field, counter in counters.items()}


def snippet(text: str, query_terms: set[str], width: int = SNIPPET_CHARS) -> str:
    """HTML-escaped window of ``text`` with the query's terms wrapped in <mark>."""
    spans = [s for s in token_spans(text) if s.term in query_terms] if query_terms else []
    start = 0
    if spans:
        best = 0
        for anchor in spans:  # the window holding the most matches, anchored a little before one
            lo = max(0, anchor.start - width // 6)
            count = sum(1 for s in spans if s.start >= lo and s.end <= lo + width)
            if count > best:
                best, start = count, lo
    end = min(len(text), start + width)
    if end - start < width:
        start = max(0, end - width)
    parts: list[str] = ["…" if start > 0 else ""]
    pos = start
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):  # overlapping sub-words: keep the longest
        if span.start < max(start, pos) or span.end > end:
            continue
        parts.append(html.escape(text[pos : span.start]))
        parts.append(f"<mark>{html.escape(text[span.start : span.end])}</mark>")
        pos = span.end
    parts.append(html.escape(text[pos:end]))
    parts.append("…" if end < len(text) else "")
    return "".join(parts)
