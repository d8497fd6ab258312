"""The readable-set index: per-principal bitmaps of the documents each share reaches, kept exact across
processes by following the permission version and change log kept in the graph."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np
from pyroaring import BitMap

from graph.catch_up import PerStore
from graph.classification import (
    COUNTING_SHARES,
    AccessLevel,
    effective_level,
)
from graph.permissions.writes import record_change
from graph.queries import permissions as q
from graph.queries import workflow_access as runs_q
from graph.store import GraphStore, Row

_OWNER = "owner"
# The policy table by graph label, for the index's inner loop.
_COUNTING_LABELS = {level: frozenset(kind.value for kind in kinds) for level, kinds in COUNTING_SHARES.items()}
_PUBLIC = ("public", "")
_RUN = "WorkflowRun"


@dataclass(slots=True)
class _Principals:
    active: bool
    admin: bool
    keys: list[tuple[str, str]]


class _Index:
    """Per-principal bitmaps of the documents whose share with that principal counts under the policy.

    Also the document numbering of those bitmaps: ``ids`` (number -> id) and ``numbers`` (id -> number)
    only grow and a number never changes meaning; a rebuild makes a new index, hence a new numbering.
    """

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.numbers: dict[str, int] = {}
        self.all_docs = BitMap()
        self.bitmaps: dict[tuple[str, str], BitMap] = {}
        self.keys_of: dict[int, list[tuple[str, str]]] = {}

    def put(self, row: Row) -> None:
        number = self.numbers.get(row["id"])
        if number is None:
            number = self.numbers[row["id"]] = len(self.ids)
            self.ids.append(row["id"])
        self.drop(number)
        level = effective_level(row["level"])
        counting = _COUNTING_LABELS[level]
        keys = [(_OWNER, owner) for owner in row["owners"] if owner]
        # A run's attachments count at every level: attaching a file to a run shares it with its participants.
        keys += [(label, target) for label, target in row["targets"] if label in counting or label == _RUN]
        if level is AccessLevel.PUBLIC:
            keys.append(_PUBLIC)
        for key in keys:
            bitmap = self.bitmaps.get(key)
            if bitmap is None:
                bitmap = self.bitmaps[key] = BitMap()
            bitmap.add(number)
        self.keys_of[number] = keys
        self.all_docs.add(number)

    def drop(self, number: int) -> None:
        for key in self.keys_of.pop(number, ()):
            self.bitmaps[key].discard(number)
        self.all_docs.discard(number)


@dataclass(frozen=True, slots=True)
class ReadableSet:
    """A person's readable documents as a bitmap of ``numbering``'s document numbers.

    ``numbering`` (``ids``: number -> id, ``numbers``: id -> number) belongs to the cache: read it, do
    not change it. Consumers that keep a map per numbering (the search catalog) may key it on the
    object: a rebuilt index is a new object.
    """

    bitmap: BitMap
    numbering: _Index

    def numbers(self) -> np.ndarray:
        """The bitmap's numbers as a uint32 array (what a search filter gathers with)."""
        raw = self.bitmap.to_array()  # array('I'); np.asarray(raw, dtype=np.int64) was ~20x slower than a view
        if raw.itemsize == 4:
            return np.frombuffer(raw, dtype=np.uint32)
        return np.fromiter(self.bitmap, dtype=np.int64, count=len(self.bitmap))

    def document_ids(self) -> set[str]:
        ids = self.numbering.ids
        return {ids[n] for n in self.bitmap}


class PermissionCache:
    """The readable sets of one graph, kept exact by following the graph's permission version.

    Before each use one indexed lookup reads the version; when another process (or this one) has
    changed permissions since, the change log tells which documents to reload and which people's
    principals to forget. A gap in the log, or a bulk change, rebuilds everything.
    """

    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._index: _Index | None = None
        self._version = -1
        self._principals: dict[str, _Principals] = {}
        self.rebuilds = 0

    # hooks for writers: they record the change in the graph; every process catches up on next use
    def invalidate_person(self, person_id: str) -> None:
        record_change(self.store, people=[person_id])

    def invalidate_document(self, document_id: str) -> None:
        record_change(self.store, documents=[document_id])

    def invalidate_all(self) -> None:
        record_change(self.store, everything=True)

    def warm(self) -> None:
        """Build the index now (a worker calls this at start so the first search does not pay for it)."""
        with self._lock:
            self._sync()

    def readable_set(self, person_id: str) -> ReadableSet:
        """The readable documents as a fresh bitmap (the caller may change it) of the index's numbering."""
        with self._lock:
            self._sync()
            index = self._index
            assert index is not None
            principals = self._principals.get(person_id)
            if principals is None:
                principals = self._principals[person_id] = self._load_principals(person_id)
            if not principals.active:
                return ReadableSet(BitMap(), index)
            if principals.admin:
                return ReadableSet(BitMap(index.all_docs), index)
            maps = [index.bitmaps[k] for k in principals.keys if k in index.bitmaps]
            return ReadableSet(BitMap.union(*maps) if maps else BitMap(), index)  # union makes a new bitmap

    def readable_document_ids(self, person_id: str) -> set[str]:
        return self.readable_set(person_id).document_ids()

    def _load_principals(self, person_id: str) -> _Principals:
        rows = self.store.run(q.PRINCIPALS, {"person_id": person_id})
        if not rows:
            return _Principals(False, False, [])
        row = rows[0]
        keys = [("Person", person_id), (_OWNER, person_id), _PUBLIC]
        keys += [("Department", d) for d in row["departments"]]
        keys += [("Project", j) for j in row["projects"]]
        keys += [("Position", s) for s in row["positions"]]
        keys += [(_RUN, r["run_id"]) for r in self.store.run(runs_q.RUNS_OF_PERSON, {"person_id": person_id})]
        return _Principals(row["active"] is True, bool(row["admin"]), keys)

    def _sync(self) -> None:
        rows = self.store.run(q.PERMISSIONS_VERSION)
        version = int(rows[0]["version"]) if rows and rows[0]["version"] is not None else 0
        if self._index is not None and version == self._version:
            return
        if self._index is None or version < self._version:  # never built, or the graph was replaced
            self._rebuild(version)
            return
        self._catch_up()

    def _catch_up(self) -> None:
        rows = self.store.run(q.PERMISSIONS_LOG)
        if not rows:  # the graph was emptied meanwhile
            self._rebuild(0)
            return
        version, log = int(rows[0]["version"]), list(rows[0]["log"] or [])
        entries = [(int(v), change) for v, _, change in (e.partition("|") for e in log)]
        complete = len(log) < q.LOG_LENGTH or (entries and entries[0][0] <= self._version)
        news = [change for v, change in entries if v > self._version]
        if not complete or "all" in news:
            self._rebuild(version)
            return
        documents = {c[4:] for c in news if c.startswith("doc:")}
        if "principals" in news:
            self._principals.clear()
        for change in news:
            if change.startswith("person:"):
                self._principals.pop(change[7:], None)
        self._reload_documents(documents)
        self._version = version

    def _reload_documents(self, documents: set[str]) -> None:
        assert self._index is not None
        found = self.store.run(q.DOCUMENT_GRANTS, {"ids": sorted(documents)}) if documents else []
        for row in found:
            self._index.put(row)
        for gone in documents - {row["id"] for row in found}:
            number = self._index.numbers.get(gone)
            if number is not None:
                self._index.drop(number)

    def _rebuild(self, version: int) -> None:
        # The version was read before the data: a change racing the scan bumps it again and is caught next time.
        documents = {row["id"]: {**row, "owners": [], "targets": []} for row in self.store.run(q.ALL_DOCUMENTS)}
        # Rows of documents created after the first scan are skipped: their creation bumped the
        # version past the one read above, so the next use reloads them from the log.
        for row in self.store.run(q.ALL_OWNERSHIPS):
            if row["id"] in documents:
                documents[row["id"]]["owners"].append(row["owner"])
        for row in self.store.run(q.ALL_SHARES):
            if row["id"] in documents:
                documents[row["id"]]["targets"].append((row["label"], row["target"]))
        for row in self.store.run(runs_q.ALL_ATTACHMENTS):
            if row["id"] in documents:
                documents[row["id"]]["targets"].append((_RUN, row["run"]))
        index = _Index()
        for document in documents.values():
            index.put(document)
        self._index, self._version = index, version
        self._principals.clear()
        self.rebuilds += 1


# The process-wide cache of one store.
cache_for = PerStore(PermissionCache)


def readable_set(store: GraphStore, person_id: str) -> ReadableSet:
    """Like :func:`readable_document_ids`, as a bitmap of the process's document numbering (fast to filter on)."""
    return cache_for(store).readable_set(person_id)


def readable_document_ids(store: GraphStore, person_id: str) -> set[str]:
    """Every document the person may read under the policy (exact; search filters on it)."""
    return cache_for(store).readable_document_ids(person_id)
