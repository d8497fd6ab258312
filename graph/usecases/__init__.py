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

from graph.actor import Actor
from graph.store import GraphStore
from settings import Settings


@dataclass(frozen=True)
class Context:
    """What a use case runs against: the graph, and the settings of the live bus (None: announce nothing,
    e.g. a script without a broker)."""

    store: GraphStore
    settings: Settings | None = None


def actor_by_username(store: GraphStore, username: str, *, door: str = "cli") -> Actor | None:
    """The actor a command runs as (``--as USER``); None when there is no such person. Looked up without
    touching any secret; a deactivated person is returned (their actions are refused as usual)."""
    from graph.queries.documents import PERSON_REF_BY_USERNAME

    rows = store.run(PERSON_REF_BY_USERNAME, {"username": username.strip().lower()})
    if not rows or not rows[0]["id"]:
        return None
    row = rows[0]
    return Actor(row["id"], row["username"] or "", row["name"] or "", door=door,
                 address=door if door != "web" else None)


def is_active(store: GraphStore, actor: Actor) -> bool:
    from graph.queries.documents import PERSON_REF_BY_USERNAME

    rows = store.run(PERSON_REF_BY_USERNAME, {"username": actor.username})
    return bool(rows and rows[0]["active"])


def active_actor(store: GraphStore, username: str, *, door: str = "cli") -> Actor:
    """The actor a command runs as, with their roles; a missing or deactivated person is ``person.missing``."""
    from graph import accounts
    from graph.errors import ObjectMissing

    found = actor_by_username(store, username, door=door)
    person = accounts.person_by_id(store, found.person_id) if found is not None else None
    if person is None or not person.active:
        raise ObjectMissing("person.missing", username=username)
    return Actor(person.id, person.username, person.name, person.roles, door=door,
                 address=door if door != "web" else None)
