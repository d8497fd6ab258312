"""Use cases: one function per user-facing action, taking the acting person (:class:`graph.actor.Actor`).

Every door — web view, CLI command, ``/api/v1`` handler, Celery task — calls these and only translates:
arguments in, result or :class:`graph.errors.DomainError` (code + params) out. A use case

- decides access ONCE per request (:mod:`.access`, memoised on the actor) through the graph path query;
- reads only what the actor may read: a document they may not read is a missing one (``ObjectMissing``);
- writes (one statement, or one transaction where the engine allows), then records the audit event,
  announces the change on the live bus (:mod:`graph.live`) and bumps caches.

Use cases that need files, text or the search index live in :mod:`ingest.usecases` (ingest may import
graph and embeddings; graph imports nothing of ours but settings).
"""

from __future__ import annotations

from dataclasses import dataclass

from graph.store import GraphStore
from settings import Settings


@dataclass(frozen=True)
class Context:
    """What a use case runs against: the graph, and the settings of the live bus (None: announce nothing,
    e.g. a script without a broker)."""

    store: GraphStore
    settings: Settings | None = None
