"""In-memory map of index rows to chunk ids and documents, shared by the dense and keyword indexes.

Rows are dense positions 0..n-1 in the order chunks were indexed; chunk ids only grow, so the
row of a chunk id is a binary search. Removed chunks stay as dead rows (HNSW cannot delete) and
are masked out of every search.
"""

from __future__ import annotations

import numpy as np

from embeddings.store import Metadata


class GrowArray:
    """An append-only numpy array with amortised O(1) appends."""

    def __init__(self, dtype: type | np.dtype, data: np.ndarray | None = None) -> None:
        self._data = np.zeros(16, dtype=dtype) if data is None else np.array(data, dtype=dtype)
        self.size = 0 if data is None else len(data)
        if len(self._data) == 0:
            self._data = np.zeros(16, dtype=dtype)

    def extend(self, values: np.ndarray | list) -> None:
        values = np.asarray(values, dtype=self._data.dtype)
        need = self.size + len(values)
        if need > len(self._data):
            grown = np.zeros(max(need, 2 * len(self._data)), dtype=self._data.dtype)
            grown[: self.size] = self._data[: self.size]
            self._data = grown
        self._data[self.size : need] = values
        self.size = need

    @property
    def view(self) -> np.ndarray:
        return self._data[: self.size]


class Catalog:
    def __init__(self) -> None:
        self.chunk_ids = GrowArray(np.int64)
        self.row_doc = GrowArray(np.int32)
        self.alive = GrowArray(np.bool_)
        self.doc_ids: list[str] = []
        self.doc_index: dict[str, int] = {}
        self.doc_meta: list[Metadata] = []
        self.live_rows = 0

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
        return index

    def append(self, chunk_ids: list[int], document_ids: list[str], metadata: list[Metadata]) -> None:
        if chunk_ids and self.rows and chunk_ids[0] <= self.chunk_ids.view[-1]:
            raise ValueError("chunk ids must be appended in increasing order")
        docs = [self._doc(d, m) for d, m in zip(document_ids, metadata, strict=True)]
        self.chunk_ids.extend(chunk_ids)
        self.row_doc.extend(docs)
        self.alive.extend(np.ones(len(chunk_ids), dtype=np.bool_))
        self.live_rows += len(chunk_ids)

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

    def allowed_rows_mask(self, allowed_docs: np.ndarray | None) -> np.ndarray:
        """Live rows whose document is in ``allowed_docs`` (a bool mask over document indexes)."""
        if allowed_docs is None:
            return self.alive.view.copy()
        return allowed_docs[self.row_doc.view] & self.alive.view

    def doc_mask(self, document_ids: set[str] | None) -> np.ndarray | None:
        if document_ids is None:
            return None
        mask = np.zeros(len(self.doc_ids), dtype=np.bool_)
        index = self.doc_index
        hits = [index[d] for d in document_ids if d in index]
        mask[hits] = True
        return mask
