"""Decision search: a full-text index of every recorded decision (title and text), with the visibility policy of
:mod:`graph.decisions` applied to the ranked matches.

Replaces the substring scan over the newest matches: every decision is indexed (kept in memory per process
and per graph, caught up from the graph before each search by the decisions written since the last one),
ranked by BM25 (:class:`embeddings.term_index.TermIndex`), then filtered batch by batch through
``graph.decisions.visible`` until ``limit`` visible ones are found. A decision the person may not see is never
returned, counted or hinted at.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from embeddings.term_index import TermIndex
from graph import decisions
from graph.actor import Actor
from graph.queries import decision_terms as q
from graph.store import GraphStore

BATCH = 200  # matches checked for visibility per step
CATCH_UP = 5000  # decisions read from the graph per statement when catching up


class _Indexed:
    def __init__(self) -> None:
        self.index = TermIndex()
        self.since = 0
        self.lock = threading.Lock()


_INDEXES: weakref.WeakKeyDictionary[GraphStore, _Indexed] = weakref.WeakKeyDictionary()
_INDEXES_LOCK = threading.Lock()


def _index(store: GraphStore) -> TermIndex:
    with _INDEXES_LOCK:
        indexed = _INDEXES.get(store)
        if indexed is None:
            indexed = _INDEXES[store] = _Indexed()
    with indexed.lock:
        while True:
            rows = store.run(q.SINCE, {"since": indexed.since, "limit": CATCH_UP})
            for row in rows:
                indexed.index.add(row["id"], f"{row['title'] or ''}\n{row['text'] or ''}", row["at"] or 0)
            if rows:
                indexed.since = max(indexed.since, max(int(r["at"] or 0) for r in rows))
            if len(rows) < CATCH_UP:
                return indexed.index


def search(store: GraphStore, actor: Actor, text: str, *, limit: int = 10) -> list[dict[str, Any]]:
    """Decisions the actor may see matching ``text``, best first (at most ``limit``)."""
    if not (text or "").strip():
        return []
    ranked = _index(store).search(text.strip())
    found: list[dict[str, Any]] = []
    for start in range(0, len(ranked), BATCH):
        batch = ranked[start:start + BATCH]
        order = {decision_id: i for i, decision_id in enumerate(batch)}
        seen = decisions.visible(store, actor, batch)
        found.extend(sorted(seen, key=lambda d: order[d["id"]]))
        if len(found) >= limit:
            break
    return found[:limit]
