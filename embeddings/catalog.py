"""In-memory map of index rows to chunk ids and documents, shared by the dense and keyword indexes.

Rows are dense positions 0..n-1 in the order chunks were indexed; chunk ids only grow, so the
row of a chunk id is a binary search. Removed chunks stay as dead rows (HNSW cannot delete) and
are masked out of every search.

An allowed set of documents reaches the catalog either as a set of ids or, on the fast path, as
numbers of another component's document numbering (the permission index's bitmaps). The catalog
keeps one number -> document index map per numbering, extended as either side learns documents,
so turning a permission bitmap into a mask is one numpy gather instead of a hash per id.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Protocol

import numpy as np

from embeddings.store import Metadata

# Row sets of recent document masks, kept per catalog state: one person's consecutive searches (live
# results while typing, paging) reuse the row mask, its bitmap and BM25 statistics (1M rows: ~2 ms).
ROW_SET_CACHE = 16


class GrowArray:
    """An append-only numpy array with amortised O(1) appends (of rows of ``width`` values, if given)."""

    def __init__(self, dtype: type | np.dtype, data: np.ndarray | None = None, width: int | None = None) -> None:
        self._row = () if width is None else (width,)
        self._data = np.zeros((16, *self._row), dtype=dtype) if data is None else np.array(data, dtype=dtype)
        self.size = 0 if data is None else len(data)
        if len(self._data) == 0:
            self._data = np.zeros((16, *self._row), dtype=dtype)

    def extend(self, values: np.ndarray | list) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        self.grow(len(values))[:] = values

    def grow(self, count: int) -> np.ndarray:
        """Appends ``count`` zeros and returns them as a view, to be filled in place."""
        need = self.size + count
        if need > len(self._data):
            grown = np.zeros((max(need, 2 * len(self._data)), *self._row), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        start, self.size = self.size, need
        return self._data[start:need]

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


class FacetColumn:
    """One metadata field of every catalog document as an integer code (-1: no value), values as facets name
    them (``str(value)``; None and "" are no value). Extended lazily; a document's new metadata is re-coded."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.values: list[str] = []
        self._codes_of: dict[str, int] = {}
        self.codes = GrowArray(np.int32)

    def _code(self, meta: Metadata) -> int:
        value = meta.get(self.name)
        if value is None or value == "":
            return -1
        text = str(value)
        code = self._codes_of.get(text)
        if code is None:
            code = self._codes_of[text] = len(self.values)
            self.values.append(text)
        return code

    def sync(self, doc_meta: Sequence[Metadata]) -> np.ndarray:
        """Codes of every document (new documents coded now)."""
        known = self.codes.size
        if known < len(doc_meta):
            self.codes.extend(np.fromiter((self._code(doc_meta[d]) for d in range(known, len(doc_meta))),
                                          np.int32, count=len(doc_meta) - known))
        return self.codes.view

    def update(self, doc: int, meta: Metadata) -> None:
        if doc < self.codes.size:
            self.codes.view[doc] = self._code(meta)

    def counts(self, docs: np.ndarray, doc_meta: Sequence[Metadata]) -> list[tuple[str, int]]:
        """(value, documents) among ``docs``, most frequent first; ties in the order values were first seen."""
        codes = self.sync(doc_meta)[docs]
        counted = np.bincount(codes[codes >= 0], minlength=len(self.values))
        present = np.flatnonzero(counted)
        order = present[np.argsort(-counted[present], kind="stable")]
        values = self.values
        return [(values[c], int(n)) for c, n in zip(order.tolist(), counted[order].tolist(), strict=True)]


class DocumentNumbering(Protocol):
    """Another component's numbering of document ids: a number never changes meaning, ``ids`` only grows."""

    @property
    def ids(self) -> Sequence[str]: ...  # number -> document id

    @property
    def numbers(self) -> Mapping[str, int]: ...  # document id -> number


@dataclass(frozen=True)
class NumberedDocuments:
    """An allowed set of documents given as numbers of a :class:`DocumentNumbering`.

    ``numbering`` must support weak references (the catalog caches its map per numbering object and
    forgets it with the object); ``numbers`` are non-negative integers below ``len(numbering.ids)``.
    """

    numbering: DocumentNumbering
    numbers: np.ndarray

    def __post_init__(self) -> None:
        numbers = np.asarray(self.numbers)
        if numbers.ndim != 1 or (numbers.size and numbers.dtype.kind not in "iu"):
            raise TypeError("numbers must be a one-dimensional integer array")
        object.__setattr__(self, "numbers", numbers)

    def __len__(self) -> int:
        return len(self.numbers)

    def document_ids(self) -> set[str]:
        """The same set as plain ids (slow on large sets: for callers that need ids, not for search)."""
        ids = self.numbering.ids
        return {ids[n] for n in self.numbers.tolist()}


AllowedDocuments = set[str] | frozenset[str] | NumberedDocuments


class AllowedRows:
    """The rows a search may score, with the forms the indexes need computed at most once."""

    def __init__(self, mask: np.ndarray) -> None:
        self.mask = mask
        self.memo: dict[object, object] = {}  # per-consumer derived values (e.g. BM25 average length)

    @cached_property
    def count(self) -> int:
        return int(np.count_nonzero(self.mask))

    @cached_property
    def bits(self) -> np.ndarray:
        """The mask as a little-endian bitmap (what FAISS's IDSelectorBitmap reads)."""
        return np.packbits(self.mask, bitorder="little")

    @cached_property
    def rows(self) -> np.ndarray:
        return np.flatnonzero(self.mask)


# top_k of at least this many scores first keeps those reaching a threshold taken from a sample
SAMPLED_TOP_K = 20_000
SAMPLE_SIZE = 1024
SAMPLE_MARGIN = 8


def top_k(rows: np.ndarray, scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` best (rows, scores), best first; ties: earlier row first (deterministic)."""
    k = min(k, len(rows))
    if k <= 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    if len(scores) >= SAMPLED_TOP_K and k * SAMPLE_MARGIN < len(scores):
        # Most scores are far from the head (a common word's 10^5 matches): a threshold read off a strided
        # sample keeps only the scores reaching it (~SAMPLE_MARGIN * k expected), and the head is taken among
        # them. When at least k reach it, every score reaching the k-th best is among them, so the head is the
        # same; otherwise all of them go on. At 300k scores: 0.15 ms against 2.7 for a partition of them all.
        sample = np.sort(scores[:: max(1, len(scores) // SAMPLE_SIZE)])
        threshold = sample[max(0, len(sample) - 1 - len(sample) * SAMPLE_MARGIN * k // len(scores))]
        reach = np.flatnonzero(scores >= threshold)
        if len(reach) >= k:
            rows, scores = rows[reach], scores[reach]
    if k < len(rows):
        # the k-th best value from a partition of the values (at 10^5-10^6 scores ~1.6x cheaper than an
        # argpartition), then every row reaching it
        kth = np.partition(scores, len(scores) - k)[len(scores) - k]
        if np.isnan(kth):  # NaN sorts last: no value to compare with
            top = np.argpartition(-scores, k - 1)[:k]
        else:
            top = np.flatnonzero(scores >= kth)
            if len(top) > k:  # more rows hold the k-th score than fit: the earliest of them are taken
                above, tied = top[scores[top] > kth], top[scores[top] == kth]
                need = k - len(above)
                tied = tied[np.argpartition(rows[tied], need - 1)[:need]] if need < len(tied) else tied
                top = np.concatenate((above, tied))
    else:
        top = np.arange(len(rows))
    top = top[np.lexsort((rows[top], -scores[top]))]
    return rows[top].astype(np.int64), scores[top].astype(np.float32)


def as_allowed_rows(allowed: AllowedRows | np.ndarray) -> AllowedRows:
    return allowed if isinstance(allowed, AllowedRows) else AllowedRows(np.asarray(allowed, dtype=np.bool_))


class _NumberMap:
    """number of one numbering -> catalog document index (-1: not in the catalog, yet)."""

    def __init__(self) -> None:
        self.to_doc = GrowArray(np.int32)
        self.docs_seen = 0


class Catalog:
    def __init__(self) -> None:
        self.chunk_ids = GrowArray(np.int64)
        self.row_doc = GrowArray(np.int32)
        self.alive = GrowArray(np.bool_)
        self.doc_ids: list[str] = []
        self.doc_index: dict[str, int] = {}
        self.doc_meta: list[Metadata] = []
        self.live_rows = 0
        # Derived, rebuilt lazily after a change (the snapshot loader sets the fields above directly).
        self._changes = 0
        self._derived_at = -1
        self._live_docs: np.ndarray | None = None
        self._all_rows: AllowedRows | None = None
        self._row_sets: OrderedDict[int, tuple[np.ndarray, AllowedRows]] = OrderedDict()
        self._row_sets_lock = threading.Lock()
        self._number_maps: weakref.WeakKeyDictionary[object, _NumberMap] = weakref.WeakKeyDictionary()
        self._facet_columns: dict[str, FacetColumn] = {}

    @property
    def rows(self) -> int:
        return self.chunk_ids.size

    def _doc(self, document_id: str, metadata: Metadata) -> int:
        index = self.doc_index.get(document_id)
        if index is None:
            index = self.doc_index[document_id] = len(self.doc_ids)
            self.doc_ids.append(document_id)
            self.doc_meta.append(metadata)
        else:
            self.doc_meta[index] = metadata  # a newer version's rows carry the current metadata
            for column in self._facet_columns.values():
                column.update(index, metadata)
        return index

    def append(self, chunk_ids: list[int], document_ids: list[str], metadata: list[Metadata]) -> None:
        if chunk_ids and self.rows and chunk_ids[0] <= self.chunk_ids.view[-1]:
            raise ValueError("chunk ids must be appended in increasing order")
        docs = [self._doc(d, m) for d, m in zip(document_ids, metadata, strict=True)]
        self.chunk_ids.extend(chunk_ids)
        self.row_doc.extend(docs)
        self.alive.extend(np.ones(len(chunk_ids), dtype=np.bool_))
        self.live_rows += len(chunk_ids)
        self._changes += 1

    def remove(self, chunk_ids: list[int]) -> None:
        if not chunk_ids or not self.rows:
            return
        ids = self.chunk_ids.view
        wanted = np.asarray(chunk_ids, dtype=np.int64)
        pos = np.searchsorted(ids, wanted)
        inside = pos < len(ids)
        pos, wanted = pos[inside], wanted[inside]
        pos = pos[ids[pos] == wanted]  # ids never indexed here (added and removed in between) are skipped
        alive = self.alive.view
        self.live_rows -= int(alive[pos].sum())
        alive[pos] = False
        self._changes += 1

    def facet_columns(self, names: Sequence[str]) -> dict[str, FacetColumn]:
        """Per field, every document's value as a code (kept in step with the documents' metadata)."""
        for name in names:
            if name not in self._facet_columns:
                self._facet_columns[name] = FacetColumn(name)
        return {name: self._facet_columns[name] for name in names}

    def _refresh_derived(self) -> None:
        if self._derived_at != self._changes:
            self._live_docs = None
            self._all_rows = None
            self._row_sets.clear()
            self._derived_at = self._changes

    def live_docs(self) -> np.ndarray:
        """Bool mask over document indexes: documents with at least one live row."""
        self._refresh_derived()
        if self._live_docs is None or len(self._live_docs) != len(self.doc_ids):
            counts = np.bincount(self.row_doc.view[self.alive.view], minlength=len(self.doc_ids))
            self._live_docs = counts > 0
        return self._live_docs

    def allowed_rows_mask(self, allowed_docs: np.ndarray | None) -> np.ndarray:
        """Live rows whose document is in ``allowed_docs`` (a bool mask over document indexes)."""
        if allowed_docs is None:
            return self.alive.view.copy()
        return allowed_docs[self.row_doc.view] & self.alive.view

    def allowed_rows(self, allowed_docs: np.ndarray | None) -> AllowedRows:
        """Like :meth:`allowed_rows_mask`; recent results are reused until the catalog changes."""
        self._refresh_derived()
        if allowed_docs is None:
            if self._all_rows is None:
                self._all_rows = AllowedRows(self.alive.view.copy())
            return self._all_rows
        key = hash(allowed_docs.tobytes())
        with self._row_sets_lock:
            found = self._row_sets.get(key)
            if found is not None and np.array_equal(found[0], allowed_docs):  # a hash is never trusted alone
                self._row_sets.move_to_end(key)
                return found[1]
        rows = AllowedRows(self.allowed_rows_mask(allowed_docs))
        with self._row_sets_lock:
            self._row_sets[key] = (allowed_docs.copy(), rows)
            while len(self._row_sets) > ROW_SET_CACHE:
                self._row_sets.popitem(last=False)
        return rows

    def doc_mask(self, allowed: AllowedDocuments | None) -> np.ndarray | None:
        """Bool mask over document indexes of ``allowed``; None when it leaves out no document with live rows."""
        if allowed is None:
            return None
        if isinstance(allowed, NumberedDocuments):
            mask = self._numbered_mask(allowed)
        else:
            mask = np.zeros(len(self.doc_ids), dtype=np.bool_)
            index = self.doc_index
            hits = [index[d] for d in allowed if d in index]
            mask[hits] = True
        # someone who may read every indexed document (an administrator) skips the row masking entirely
        return None if not np.any(self.live_docs() & ~mask) else mask

    def _numbered_mask(self, allowed: NumberedDocuments) -> np.ndarray:
        to_doc = self._number_map(allowed.numbering)
        numbers = allowed.numbers
        if numbers.size and int(numbers.max()) >= len(to_doc):
            raise ValueError("numbers outside the numbering's ids")
        docs = to_doc[numbers]
        mask = np.zeros(len(self.doc_ids), dtype=np.bool_)
        mask[docs[docs >= 0]] = True
        return mask

    def _number_map(self, numbering: DocumentNumbering) -> np.ndarray:
        entry = self._number_maps.get(numbering)
        if entry is None:
            entry = self._number_maps[numbering] = _NumberMap()
        known = entry.to_doc.size
        if known and entry.docs_seen < len(self.doc_ids):  # documents indexed since: numbers now resolve
            numbers, to_doc = numbering.numbers, entry.to_doc.view
            for doc in range(entry.docs_seen, len(self.doc_ids)):
                number = numbers.get(self.doc_ids[doc])
                if number is not None and number < known:
                    to_doc[number] = doc
        entry.docs_seen = len(self.doc_ids)
        ids = numbering.ids
        total = len(ids)  # read once: the numbering may grow meanwhile, the rest is picked up next time
        if total > known:
            index = self.doc_index
            entry.to_doc.extend(np.fromiter((index.get(ids[n], -1) for n in range(known, total)), np.int32))
        return entry.to_doc.view
