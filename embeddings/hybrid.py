"""Fusion of ranked chunk lists into ranked documents, facets and highlighted snippets."""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from embeddings.catalog import Catalog
from embeddings.matches import SignalMatches
from embeddings.store import Metadata
from embeddings.text_tokens import token_spans

SNIPPET_CHARS = 240


@dataclass
class DocRank:
    """A document's best chunk and 1-based rank in one signal."""

    rank: int
    chunk_id: int
    score: float


def collapse(chunk_ids: Sequence[int], scores: Sequence[float], doc_of: dict[int, str]) -> dict[str, DocRank]:
    """Per document, its best chunk; documents ranked by their best chunk."""
    out: dict[str, DocRank] = {}
    for chunk_id, score in zip(chunk_ids, scores, strict=True):
        doc = doc_of[chunk_id]
        if doc not in out:
            out[doc] = DocRank(len(out) + 1, chunk_id, float(score))
    return out


def fuse(
    signals: dict[str, dict[str, DocRank]], weights: dict[str, float], zero_floor: frozenset[str] = frozenset()
) -> list[tuple[str, float]]:
    """Convex combination of max-normalised scores: sum over signals of weight * score / that signal's best.

    Unlike rank fusion, a signal that cannot tell documents apart (flat scores, e.g. an English-only model
    on Chinese text) moves the order little. A document a signal did not return gets the lowest score that
    signal returned, since it ranked below all of them, or 0 for the signals in ``zero_floor`` (keyword: a
    document it did not return usually holds none of the terms). Ties are broken by document id.
    """
    normalised: dict[str, tuple[float, dict[str, float]]] = {}
    for name, ranking in signals.items():
        if not ranking:
            continue
        best = max(entry.score for entry in ranking.values())
        scale = 1.0 / best if best > 0 else 1.0
        scores = {doc: entry.score * scale for doc, entry in ranking.items()}
        normalised[name] = (0.0 if name in zero_floor else min(scores.values()), scores)
    fused: dict[str, float] = {}
    for doc in {doc for _, scores in normalised.values() for doc in scores}:
        fused[doc] = sum(
            weights.get(name, 1.0) * scores.get(doc, floor) for name, (floor, scores) in normalised.items()
        )
    return sorted(fused.items(), key=lambda item: (-item[1], item[0]))


def fuse_heads(
    ranked: Mapping[str, tuple[SignalMatches, SignalMatches]], catalog: Catalog, weights: Mapping[str, float]
) -> tuple[dict[str, dict[str, DocRank]], list[tuple[str, float]]]:
    """Each signal's head (rows best first) collapsed to documents, and their fusion (keyword: zero floor)."""
    chunk_ids, row_doc = catalog.chunk_ids.view, catalog.row_doc.view
    signals: dict[str, dict[str, DocRank]] = {}
    for name, ((rows, scores), _) in ranked.items():  # fusion ranks the head of each list
        ids = [int(c) for c in chunk_ids[rows]]
        doc_of = {c: catalog.doc_ids[d] for c, d in zip(ids, row_doc[rows].tolist(), strict=True)}
        signals[name] = collapse(ids, scores.tolist(), doc_of)
    return signals, fuse(signals, dict(weights), zero_floor=frozenset({"keyword"}))


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
