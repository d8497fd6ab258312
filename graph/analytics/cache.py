"""Results cached against the graph's task change counter, so repeated reads are instant.

The counter is the ``Meta`` node :data:`graph.queries.analytics.CHANGES_KEY`; every statement that
creates or changes tasks must bump it (see :func:`bump`). The number of tasks is part of the key too,
so tasks created by code that forgot to bump still invalidate the cache.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from graph.queries import analytics as q
from graph.store import GraphStore

T = TypeVar("T")
_MAX_ENTRIES = 64
_lock = threading.Lock()
_entries: dict[Hashable, tuple[tuple[Any, ...], Any]] = {}


def version(store: GraphStore) -> tuple[Any, ...]:
    """The current (change counter, task count) of the store's graph."""
    rows = store.run(q.ANALYTICS_VERSION, {"key": q.CHANGES_KEY})
    row = rows[0] if rows else {"changes": None, "tasks": 0}
    return (row["changes"] or 0, row["tasks"])


def bump(store: GraphStore) -> int:
    """Record that tasks changed (cached figures become stale)."""
    rows = store.run(q.BUMP_CHANGES, {"key": q.CHANGES_KEY})
    return int(rows[0]["value"])


def _store_identity(store: GraphStore) -> Hashable:
    # Several graphs can live on one server: the graph name tells them apart.
    server = getattr(store, "server", None)
    return (type(store).__name__, str(getattr(server, "socket", "")),
            getattr(store, "graph_name", None) or getattr(store, "database", None))


def cached(store: GraphStore, key: Hashable, compute: Callable[[], T]) -> T:
    """``compute()``'s result, reused while the graph's version is unchanged."""
    current = version(store)
    full_key = (_store_identity(store), key)
    with _lock:
        hit = _entries.get(full_key)
    if hit is not None and hit[0] == current:
        return hit[1]  # type: ignore[no-any-return]
    value = compute()
    with _lock:
        if len(_entries) >= _MAX_ENTRIES:
            _entries.pop(next(iter(_entries)))
        _entries[full_key] = (current, value)
    return value


def clear() -> None:
    with _lock:
        _entries.clear()
