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
from typing import Any

from embeddings.term_index import TermIndex
from graph import decisions
from graph.actor import Actor
from graph.catch_up import PerStore, follow
from graph.queries import decision_terms as q
from graph.store import GraphStore

BATCH = 200  # matches checked for visibility per step
CATCH_UP = 5000  # decisions read from the graph per statement when catching up


class _Indexed:
    def __init__(self, store: GraphStore) -> None:
        self.store = store
        self.index = TermIndex()
        self.since = 0
        self.lock = threading.Lock()

    def _add(self, row: dict[str, Any]) -> None:
        self.index.add(row["id"], f"{row['title'] or ''}\n{row['text'] or ''}", row["at"] or 0)

    def caught_up(self) -> TermIndex:
        with self.lock:
            self.since = follow(self.store, q.SINCE, self.since, self._add, page=CATCH_UP)
            return self.index


_indexes = PerStore(_Indexed)


def _index(store: GraphStore) -> TermIndex:
    return _indexes(store).caught_up()


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
