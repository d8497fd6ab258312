"""Everything a query matched, as arrays: exact result counts and facets without a Python pass per match.

At 1M chunks a common word matches hundreds of thousands of rows. Counting them, faceting them and ordering
the documents past the fused head used to walk every match in Python (a dict per document, a Counter per
facet), which was most of the search time's tail. Here the matched documents are one bool scatter, facets one
``bincount`` over per-document value codes, and the order past the head is computed only for a page that
reaches it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from embeddings.catalog import FacetColumn
from embeddings.store import Metadata

# (rows, scores) of every match of one signal, in no particular order
SignalMatches = tuple[np.ndarray, np.ndarray]


def matched_documents(row_doc: np.ndarray, n_docs: int, matches: Sequence[SignalMatches]) -> np.ndarray:
    """Document indexes (ascending) holding at least one matched row of any signal."""
    hit = np.zeros(n_docs, dtype=np.bool_)
    for rows, _ in matches:
        hit[row_doc[rows]] = True
    return np.flatnonzero(hit)


def counted_only(fused: Sequence[tuple[int, float]], matched: np.ndarray) -> list[tuple[int, float]]:
    """The fused head (document numbers) without the documents no signal counts: the dense head ranks rows below
    the similarity floor too (so a keyword match is also ranked by its meaning), but a document only there is not
    a result. ``matched``: the counted document numbers, ascending."""
    if not len(matched):
        return []
    docs = np.fromiter((doc for doc, _ in fused), dtype=np.int64, count=len(fused))
    at = np.minimum(np.searchsorted(matched, docs), len(matched) - 1)
    return [pair for pair, counted in zip(fused, (matched[at] == docs).tolist(), strict=True) if counted]


def facets(
    columns: Mapping[str, FacetColumn], docs: np.ndarray, doc_meta: Sequence[Metadata]
) -> dict[str, list[tuple[str, int]]]:
    return {name: column.counts(docs, doc_meta) for name, column in columns.items()}


def beyond_head(
    head: Sequence[tuple[int, float]], matches: Sequence[SignalMatches], row_doc: np.ndarray, wanted: int,
) -> list[tuple[int, float]]:
    """Up to ``wanted`` matched documents (numbers) past the fused head (score 0), signal by signal, each
    signal's in the order it ranks them (score, then row): paging reaches every counted document. Only a page
    past the head (rare: the head holds a few hundred documents) pays for this sort."""
    seen = {doc for doc, _ in head}
    extra: list[tuple[int, float]] = []
    for rows, scores in matches:
        if len(extra) >= wanted:
            break
        docs = row_doc[rows[np.lexsort((rows, -scores))]]
        _, first = np.unique(docs, return_index=True)
        for doc in docs[np.sort(first)].tolist():
            if doc not in seen:
                seen.add(doc)
                extra.append((doc, 0.0))
                if len(extra) >= wanted:
                    break
    return extra
