"""Incremental BM25 whose statistics and scores cover only the allowed rows.

Postings are append-only compact arrays (rows only grow), so new chunks are added without a
rebuild. Document frequency, document count and average length are computed over the allowed
rows at query time: a user's ranking is exactly the one an index of only their documents would
give, so forbidden documents influence nothing, not even IDF.
"""

from __future__ import annotations

import itertools
import threading
from array import array
from collections import Counter, OrderedDict
from pathlib import Path

import numpy as np

from embeddings.catalog import AllowedRows, GrowArray, as_allowed_rows, top_k
from embeddings.compiled import kernels

K1 = 1.2
B = 0.75
_MAX_TF = 65535
# The scores of recently searched terms per row set: common words recur across one person's searches (live
# results while typing, paging) and across everyone's unrestricted ones, and a common word's postings at 1M
# chunks hold ~10^5 rows to filter, gather and score. Bounded in bytes for all row sets together.
TERM_CACHE_BYTES = 64 * 2**20
_SET_NUMBER = "keyword-row-set"
# Document frequencies over one partial row set kept with it (a few bytes each; the row set lives in the
# catalog's small cache of recent sets): enough for many searches' query and feedback terms.
DF_MEMO_TERMS = 4096
# Bitsets of long postings: counting a common word over a partial row set is then one AND and popcount over
# rows/64 words (~20 us at 1M rows) instead of a gather of its ~10^5 posting rows (0.4-1 ms). A posting of at
# least rows/32 entries is no smaller than its bitset. Built on a term's second count (a word counted once is
# cheaper to gather), bounded in bytes, built anew when the index has grown.
BITSET_BYTES = 32 * 2**20
_BITSET_MIN_SHARE = 32
# Postings at least this long are scored by a compiled kernel (embeddings/compiled.py)
COMPILED_POSTING = 20_000
_set_numbers = itertools.count()


class KeywordIndex:
    def __init__(self) -> None:
        self._postings: dict[str, tuple[array, array]] = {}
        self.doc_len = GrowArray(np.int32)
        self._accumulator = _Accumulator()
        self.term_cache_bytes = TERM_CACHE_BYTES
        self._term_cache = _TermCache(TERM_CACHE_BYTES)
        self._bitsets = _Bitsets(BITSET_BYTES)

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

    def _avgdl(self, allowed: AllowedRows) -> float:
        # kept with the row set: one user's consecutive searches (or everyone's, unrestricted) share it
        key = (id(self), self.rows)
        avgdl = allowed.memo.get(key)
        if avgdl is None:
            lengths = self.doc_len.view
            if allowed.count < len(lengths) // 4:
                total = lengths[allowed.rows].sum(dtype=np.int64)
            else:  # int64: a sum over 10M long chunks overflows int32
                total = np.dot(lengths.astype(np.int64), allowed.mask)
            avgdl = allowed.memo[key] = max(float(total) / allowed.count, 1.0)
        return float(avgdl)  # type: ignore[arg-type]

    def search(self, terms: list[str], allowed: AllowedRows | np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (rows, scores) among allowed rows matching at least one term, best first."""
        return top_k(*self.matches(terms, allowed), k)

    def matches(self, terms: list[str], allowed: AllowedRows | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Every allowed row matching at least one term, with its BM25 score: (rows ascending, scores).

        Unsorted by score: a result count and facets need the set, only the head needs an order."""
        query = Counter(t for t in terms if t in self._postings)
        reused = isinstance(allowed, AllowedRows)  # a bare mask is a new row set on every call: not cached
        allowed = as_allowed_rows(allowed)
        if not query or allowed.count == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        hit_rows: list[np.ndarray] = []
        hit_scores: list[np.ndarray] = []
        for term, qtf in query.items():
            key = self._cache_key(allowed, term, qtf) if reused else None
            found = self._term_cache.get(key) if key is not None else None
            if found is None:
                found = self._term_scores(term, qtf, allowed)
                if key is not None:
                    self._term_cache.put(key, found)
            if len(found[0]):
                hit_rows.append(found[0])
                hit_scores.append(found[1])
        if not hit_rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return _sum_by_row(hit_rows, hit_scores, self.rows, self._accumulator)

    def _cache_key(self, allowed: AllowedRows, term: str, qtf: int) -> tuple[int, int, str, int] | None:
        if self.term_cache_bytes <= 0:
            return None
        token = allowed.memo.get(_SET_NUMBER)
        if not isinstance(token, int):  # a number for this row set, never reused (an id() would be once freed)
            token = allowed.memo[_SET_NUMBER] = next(_set_numbers)
        return token, self.rows, term, qtf  # rows only grow: new rows, new keys

    def _term_scores(self, term: str, qtf: int, allowed: AllowedRows) -> tuple[np.ndarray, np.ndarray]:
        """(allowed posting rows ascending, BM25 contribution float64) of one query term."""
        n = allowed.count
        rows_arr, tf_arr = self._postings[term]
        rows = np.frombuffer(rows_arr, dtype=np.int32)
        tf = np.frombuffer(tf_arr, dtype=np.uint16)
        if n != len(allowed.mask):  # everything allowed: no per-posting filter
            keep = allowed.mask[rows]
            rows, tf = rows[keep], tf[keep]
            memo = self._df_memo(allowed)
            if len(memo) < DF_MEMO_TERMS:
                memo[term] = len(rows)
        if not len(rows):
            return rows, np.zeros(0, dtype=np.float64)
        df = len(rows)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        # qtf * idf * tf * (K1 + 1) / (tf + K1 * (1 - B + B * len / avgdl)): a common word's postings hold ~10^5
        # rows at 1M chunks, scored in one compiled pass (166k rows: 0.34 ms against 0.95), short ones in a few
        # in-place numpy passes; both the same operations in the same order, so the same scores
        per_length, base, weight = K1 * B / self._avgdl(allowed), K1 * (1.0 - B), qtf * idf * (K1 + 1.0)
        if len(rows) >= COMPILED_POSTING:
            score = np.empty(len(rows), dtype=np.float64)
            kernels().bm25(rows, tf, self.doc_len.view, per_length, base, weight, score)
            return rows, score
        denom = self.doc_len.view[rows] * per_length
        denom += base
        denom += tf
        score = tf * weight
        score /= denom
        return rows, score

    def row_scores(self, term_weights: dict[str, float], rows: np.ndarray, allowed: AllowedRows,
                   memo: dict[str, np.ndarray | None] | None = None) -> np.ndarray:
        """BM25 of weighted terms on the given ``rows`` only (statistics over the allowed rows, as ``matches``):
        a search's feedback re-scores its few hundred candidates without walking whole postings by row.
        Terms no allowed row holds are skipped. ``memo``: each term's scores on these same rows and allowed
        rows, filled as terms are met (feedback rounds score the same candidates again)."""
        memo = {} if memo is None else memo
        out = np.zeros(len(rows), dtype=np.float64)
        for term, weight in term_weights.items():
            if term not in memo:
                memo[term] = self._term_row_scores(term, rows, allowed)
            part = memo[term]
            if part is not None:
                out += weight * part
        return out

    def _term_row_scores(self, term: str, rows: np.ndarray, allowed: AllowedRows) -> np.ndarray | None:
        """One term's BM25 (weight 1) on the given ``rows``; None when no allowed row holds it (or no rows)."""
        stats = self._stats({term: 1.0}, allowed) if len(rows) and allowed.count else []
        if not stats:
            return None
        _, idf, (term_rows, tfs) = stats[0]
        norm = self.doc_len.view[rows] * (K1 * B / self._avgdl(allowed)) + K1 * (1.0 - B)
        # the postings' own dtype: a binary search in an int32 posting for int64 rows first copies the whole
        # posting to int64 (a common word's ~10^5 rows, per term and search)
        wanted = rows.astype(np.int32)
        pos = np.minimum(np.searchsorted(term_rows, wanted), len(term_rows) - 1)
        tf = np.where(term_rows[pos] == wanted, tfs[pos], 0).astype(np.float64)
        return idf * tf * (K1 + 1.0) / (tf + norm)

    def idf(self, terms: list[str], allowed: AllowedRows) -> dict[str, float]:
        """BM25's idf of each term over the allowed rows (terms no allowed row holds are left out)."""
        return {term: idf for term, idf, _ in self._stats(dict.fromkeys(terms, 1.0), allowed)}

    def idf_bounds(self, terms: list[str], allowed: AllowedRows) -> dict[str, tuple[float, float]]:
        """(lowest, highest) idf each term can have over the allowed rows, from its posting's length alone:
        counting a word over a partial row set walks its posting, bounding it costs nothing. At least one
        allowed row holds a term that has an idf at all, at most its whole posting does."""
        n, out = allowed.count, {}
        everything = n == len(allowed.mask)
        for term in terms:
            entry = self._postings.get(term)
            if entry is None or n == 0:
                continue
            most = min(len(entry[0]), n)
            out[term] = (_idf(n, most), _idf(n, most if everything else 1))
        return out

    def _stats(self, terms: dict[str, float], allowed: AllowedRows) -> list[tuple[str, float, tuple]]:
        n = allowed.count
        out = []
        for term in terms:
            entry = self._postings.get(term)
            if entry is None:
                continue
            rows = np.frombuffer(entry[0], dtype=np.int32)
            df = self._df(term, rows, allowed)
            if df:
                idf = _idf(n, df)
                out.append((term, idf, (rows, np.frombuffer(entry[1], dtype=np.uint16))))
        return out

    def _df(self, term: str, rows: np.ndarray, allowed: AllowedRows) -> int:
        """How many allowed rows hold ``term`` (``rows``: its posting). Counting a common word over a partial
        row set walks its whole posting, so each count is kept with the row set: a search's first pass
        (``_term_scores``) and its feedback (the expansion's idf, then the re-scoring) count each term once."""
        if allowed.count == len(allowed.mask):
            return len(rows)
        memo = self._df_memo(allowed)
        df = memo.get(term)
        if df is None:
            bits = self._bitsets.get(term, rows, self.rows) if len(rows) * _BITSET_MIN_SHARE >= self.rows else None
            if bits is not None and len(allowed.mask) == self.rows:
                df = int(np.bitwise_count(bits & _allowed_words(allowed)).sum())
            else:
                df = int(np.count_nonzero(allowed.mask[rows]))
            if len(memo) < DF_MEMO_TERMS:
                memo[term] = df
        return df

    def _df_memo(self, allowed: AllowedRows) -> dict[str, int]:
        key = ("df", id(self), self.rows)  # rows only grow: new rows, new counts
        memo = allowed.memo.get(key)
        if not isinstance(memo, dict):
            memo = allowed.memo[key] = {}
        return memo

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


def _idf(n: int, df: int) -> float:
    return float(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))


def _words(mask: np.ndarray) -> np.ndarray:
    """A bool mask as 64-bit words, bit i of the bitset = row i (zero-padded to whole words)."""
    padded = np.zeros(-(-len(mask) // 64) * 64, dtype=np.bool_)
    padded[: len(mask)] = mask
    return np.packbits(padded, bitorder="little").view(np.uint64)


def _allowed_words(allowed: AllowedRows) -> np.ndarray:
    words = allowed.memo.get("keyword-words")
    if not isinstance(words, np.ndarray) or len(words) * 64 < len(allowed.mask):
        words = allowed.memo["keyword-words"] = _words(allowed.mask)
    return words


class _Bitsets:
    """Bitsets of long postings per (term, rows indexed), least recently used first out; thread-safe."""

    def __init__(self, capacity: int) -> None:
        self._entries: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._seen: OrderedDict[tuple[str, int], None] = OrderedDict()  # counted once, no bitset yet
        self._capacity = capacity
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, term: str, posting: np.ndarray, n_rows: int) -> np.ndarray | None:
        key = (term, n_rows)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                return found
            if key not in self._seen:
                self._seen[key] = None
                if len(self._seen) > 4096:
                    self._seen.popitem(last=False)
                return None
            del self._seen[key]
        mask = np.zeros(n_rows, dtype=np.bool_)
        mask[posting] = True
        bits = _words(mask)
        if bits.nbytes > self._capacity // 4:
            return bits
        with self._lock:
            if key not in self._entries:
                self._entries[key] = bits
                self._bytes += bits.nbytes
                while self._bytes > self._capacity:
                    _, old = self._entries.popitem(last=False)
                    self._bytes -= old.nbytes
        return bits


class _TermCache:
    """Least recently used (rows, scores) per (row set, rows indexed, term, query frequency), bounded in bytes;
    thread-safe. Entries are private copies: a view of a posting array would block its growth."""

    def __init__(self, capacity: int) -> None:
        self._entries: OrderedDict[tuple[int, int, str, int], tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._capacity = capacity
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int, str, int]) -> tuple[np.ndarray, np.ndarray] | None:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
            return found

    def put(self, key: tuple[int, int, str, int], value: tuple[np.ndarray, np.ndarray]) -> None:
        size = value[0].nbytes + value[1].nbytes
        if size > self._capacity // 4:  # one huge list would evict everything else
            return
        value = (np.array(value[0]), value[1])  # posting rows may be a view of the growing array
        value[0].flags.writeable = value[1].flags.writeable = False  # shared by later searches
        with self._lock:
            if key in self._entries:
                return
            self._entries[key] = value
            self._bytes += size
            while self._bytes > self._capacity:
                _, (rows, scores) = self._entries.popitem(last=False)
                self._bytes -= rows.nbytes + scores.nbytes


class _Accumulator:
    """A reusable dense buffer of per-row sums: allocating and page-faulting it per search cost ms."""

    def __init__(self) -> None:
        self._scores = np.zeros(0, dtype=np.float64)
        self._lock = threading.Lock()

    def sum(
        self, hit_rows: list[np.ndarray], hit_scores: list[np.ndarray], n_rows: int, hits: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """(rows, float32 sums) over the terms' hits (``hits``: how many there are, all terms together)."""
        # a concurrent caller (the engine serialises searches; direct callers may not) gets a buffer of its own
        mine = self._lock.acquire(blocking=False)
        try:
            if not mine:
                scores = np.zeros(n_rows, dtype=np.float64)
            else:
                if len(self._scores) < n_rows:
                    self._scores = np.zeros(max(n_rows, 2 * len(self._scores)), dtype=np.float64)
                scores = self._scores[:n_rows]
            compiled = hits >= COMPILED_POSTING
            for rows, term_scores in zip(hit_rows, hit_scores, strict=True):
                # one pass where `scores[rows] += s` gathers, adds and scatters (~2x faster at 1M rows), the same
                # sums in the same order: compiled for many hits, else numpy's ufunc.at
                if compiled and rows.dtype == np.int32 and term_scores.dtype == np.float64:
                    kernels().scatter_add(scores, rows, term_scores)
                else:
                    np.add.at(scores, rows, term_scores)
            # a term's BM25 on a row holding it is > 0 (idf > 0, tf >= 1), so the rows hit are the nonzero sums.
            # Comparing, then finding the flags, is ~3x cheaper than flatnonzero on the floats, and a memset
            # resets the buffer faster than a scatter over the hits (1M rows, 250k hits: 2.3 ms against 4.3 ms
            # with a separate array of hit flags; a compiled single pass was slower still, its branch on each
            # row mispredicted)
            unique = np.flatnonzero(scores != 0.0)
            summed = scores[unique].astype(np.float32)
            scores.fill(0.0)
            return unique, summed
        finally:
            if mine:
                self._lock.release()


def _sum_by_row(
    hit_rows: list[np.ndarray], hit_scores: list[np.ndarray], n_rows: int, dense: _Accumulator | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(rows, summed scores) over the terms' hits, rows ascending; per row the terms are added in the same
    order on every path, so the sums are identical."""
    if len(hit_rows) == 1:  # one term: its posting rows are already unique and ascending
        return hit_rows[0], hit_scores[0].astype(np.float32)
    total = sum(len(rows) for rows in hit_rows)
    if total * 64 > n_rows:
        # many hits (common words at 1M rows): a dense buffer instead of sorting them all. At 1M rows, np.unique
        # + bincount against the buffer: 42k hits 1.9 ms / 1.1 ms, 140k 7.6 / 1.2, 14k 0.54 / 0.59
        return (dense or _Accumulator()).sum(hit_rows, hit_scores, n_rows, total)
    unique, inverse = np.unique(np.concatenate(hit_rows), return_inverse=True)
    return unique, np.bincount(inverse, weights=np.concatenate(hit_scores)).astype(np.float32)
