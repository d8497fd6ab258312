"""A small in-memory full-text index (BM25 over the keyword index's terms plus CJK character bigrams) for short
records that are not documents, e.g. decisions (ingest.decision_search). Thread-safe; records only grow.

Terms are those of :func:`embeddings.text_tokens.tokenize` (jieba search mode for Chinese, stemmed English),
plus every pair of adjacent CJK characters, so a two-character query matches inside a longer compound the
segmenter kept whole (口径 in 统计口径) — what the former substring scan found.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter, defaultdict

from embeddings.text_tokens import tokenize

_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]{2,}")
K1, B = 1.2, 0.75


def terms(text: str) -> list[str]:
    out = tokenize(text)
    for run in _CJK_RUN.findall(text):
        out.extend(run[i:i + 2] for i in range(len(run) - 1))
    return out


class TermIndex:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._postings: dict[str, dict[str, int]] = defaultdict(dict)  # term -> record id -> term frequency
        self._length: dict[str, int] = {}
        self._at: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._length)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._length

    def add(self, record_id: str, text: str, at: int = 0) -> None:
        counts = Counter(terms(text))
        with self._lock:
            if record_id in self._length:
                return
            for term, n in counts.items():
                self._postings[term][record_id] = n
            self._length[record_id] = sum(counts.values())
            self._at[record_id] = int(at or 0)

    def search(self, query: str) -> list[str]:
        """Every record holding at least one query term, best BM25 score first (newer first on ties)."""
        wanted = set(terms(query))
        with self._lock:
            total = len(self._length)
            if not total or not wanted:
                return []
            average = sum(self._length.values()) / total
            scores: dict[str, float] = defaultdict(float)
            for term in wanted:
                posting = self._postings.get(term)
                if not posting:
                    continue
                idf = math.log(1 + (total - len(posting) + 0.5) / (len(posting) + 0.5))
                for record_id, tf in posting.items():
                    norm = K1 * (1 - B + B * self._length[record_id] / average)
                    scores[record_id] += idf * tf * (K1 + 1) / (tf + norm)
            return sorted(scores, key=lambda r: (-scores[r], -self._at[r], r))
