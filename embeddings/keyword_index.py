"""Incremental BM25 whose statistics and scores cover only the allowed rows.

Postings are append-only compact arrays (rows only grow), so new chunks are added without a
rebuild. Document frequency, document count and average length are computed over the allowed
rows at query time: a user's ranking is exactly the one an index of only their documents would
give, so forbidden documents influence nothing, not even IDF.
"""

from __future__ import annotations

from array import array
from collections import Counter
from pathlib import Path

import numpy as np

from embeddings.catalog import GrowArray

K1 = 1.2
B = 0.75
_MAX_TF = 65535


class KeywordIndex:
    def __init__(self) -> None:
        self._postings: dict[str, tuple[array, array]] = {}
        self.doc_len = GrowArray(np.int32)

    @property
    def rows(self) -> int:
        return self.doc_len.size

    def add(self, token_lists: list[list[str]]) -> None:
        row = self.rows
        for tokens in token_lists:
            for term, tf in Counter(tokens).items():
                entry = self._postings.get(term)
                if entry is None:
                    entry = self._postings[term] = (array("i"), array("H"))
                entry[0].append(row)
                entry[1].append(min(tf, _MAX_TF))
            row += 1
        self.doc_len.extend([len(t) for t in token_lists])

    def search(self, terms: list[str], allowed: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, scores) among allowed rows matching at least one term, best first."""
        query = Counter(t for t in terms if t in self._postings)
        n = int(allowed.sum())
        if not query or n == 0 or k <= 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        lengths = self.doc_len.view
        avgdl = max(float(lengths[allowed].mean()), 1.0)
        hit_rows: list[np.ndarray] = []
        hit_scores: list[np.ndarray] = []
        for term, qtf in query.items():
            rows_arr, tf_arr = self._postings[term]
            rows = np.frombuffer(rows_arr, dtype=np.int32)
            keep = allowed[rows]
            rows = rows[keep]
            if not len(rows):
                continue
            tf = np.frombuffer(tf_arr, dtype=np.uint16)[keep].astype(np.float32)
            df = len(rows)
            idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
            norm = K1 * (1.0 - B + B * lengths[rows] / avgdl)
            hit_rows.append(rows)
            hit_scores.append(qtf * idf * tf * (K1 + 1.0) / (tf + norm))
        if not hit_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        unique, inverse = np.unique(np.concatenate(hit_rows), return_inverse=True)
        scores = np.bincount(inverse, weights=np.concatenate(hit_scores)).astype(np.float32)
        k = min(k, len(unique))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(unique) else np.arange(len(unique))
        top = top[np.lexsort((unique[top], -scores[top]))]  # ties: earlier row first, deterministic
        return unique[top].astype(np.int64), scores[top]

    # ---- persistence: one flat array per field, offsets per term ----------------------------
    def save(self, path: Path) -> None:
        terms = list(self._postings)
        sizes = np.fromiter((len(self._postings[t][0]) for t in terms), dtype=np.int64, count=len(terms))
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        rows = np.concatenate([np.frombuffer(self._postings[t][0], dtype=np.int32) for t in terms] or [[]])
        tfs = np.concatenate([np.frombuffer(self._postings[t][1], dtype=np.uint16) for t in terms] or [[]])
        with open(path, "wb") as handle:
            np.savez(
                handle,
                terms=np.array(terms, dtype=np.str_),
                offsets=offsets,
                rows=rows.astype(np.int32),
                tfs=tfs.astype(np.uint16),
                doc_len=self.doc_len.view,
            )

    @classmethod
    def load(cls, path: Path) -> KeywordIndex:
        index = cls()
        with np.load(path, allow_pickle=False) as data:
            offsets = data["offsets"]
            rows, tfs = data["rows"], data["tfs"]
            for i, term in enumerate(data["terms"].tolist()):
                a, b = offsets[i], offsets[i + 1]
                index._postings[term] = (array("i", rows[a:b].tobytes()), array("H", tfs[a:b].tobytes()))
            index.doc_len = GrowArray(np.int32, data["doc_len"])
        return index
