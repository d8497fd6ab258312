"""Keeping a process-local copy of one graph up to date: one copy per store, caught up from a cursor.

Three in-process structures follow the graph this way (the decision search index, the near-duplicate
index, the permission cache): each keeps one copy per store for the life of the process, and before
use reads what was written after its cursor, applies it and moves the cursor. The bookkeeping lives
here once; each structure says only what to read and how to apply a row.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from graph.cypher import Statement
from graph.store import GraphStore, Row

T = TypeVar("T")


class PerStore(Generic[T]):
    """One ``T`` per store, made on first use and dropped with the store (so tests' stores do not pile up)."""

    def __init__(self, make: Callable[[GraphStore], T]) -> None:
        self._make = make
        self._copies: weakref.WeakKeyDictionary[GraphStore, T] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def __call__(self, store: GraphStore) -> T:
        with self._lock:
            copy = self._copies.get(store)
            if copy is None:
                copy = self._copies[store] = self._make(store)
            return copy


def follow(store: GraphStore, statement: Statement, since: int, apply: Callable[[Row], Any], *,
             page: int | None = None) -> int:
    """Apply, in order, the rows ``statement`` finds written after ``since`` (``$since``; each row has ``at``);
    returns the new cursor (the newest ``at`` seen). With ``page``, reads ``$limit`` rows at a time until a
    short page; a full page that does not move the cursor ends the round (the rest waits for the next one)."""
    while True:
        rows = store.run(statement, {"since": since} if page is None else {"since": since, "limit": page})
        for row in rows:
            apply(row)
        newest = max((int(r["at"] or 0) for r in rows), default=since)
        moved, since = newest > since, max(since, newest)
        if page is None or len(rows) < page or not moved:
            return since
