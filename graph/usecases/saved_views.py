"""Saved views of the documents list: a person names the filter and sort they are looking at and finds it
again in the navigation. A view belongs to its maker alone: anybody else asking for it gets the answer of a
missing object. Only the list's own query keys are kept, each value bounded."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from urllib.parse import urlencode

from graph import audit
from graph.actor import Actor
from graph.errors import InvalidInput, ObjectMissing
from graph.queries import saved_views as q
from graph.store import Row
from graph.usecases import Context

# The documents list's query keys (filters, tab, folder and sort); anything else is dropped.
KEYS = ("tab", "domain", "data_type", "access", "kind", "uploader", "since", "until", "q", "folder", "sort")
MAX_NAME = 60
MAX_VALUE = 100
MAX_VIEWS = 30
MISSING = "saved_view.missing"


def clean_query(values: Mapping[str, str]) -> str:
    """The query string of a view: the list's keys only, in a fixed order, empty values left out."""
    kept = {k: str(values.get(k) or "").strip()[:MAX_VALUE] for k in KEYS}
    return urlencode({k: v for k, v in kept.items() if v})


def memo_key(actor: Actor) -> tuple[str, str]:
    """Where the actor's views are memoised for the request (the page header reads them with its badge)."""
    return ("saved_views", actor.person_id)


def views(ctx: Context, actor: Actor) -> list[Row]:
    """The actor's own saved views, by name."""
    return actor.memo(memo_key(actor), lambda: ctx.store.run(q.LIST, {"person_id": actor.person_id}))


def view(ctx: Context, actor: Actor, view_id: str) -> Row:
    """One of the actor's saved views; anybody else's (or none) is a missing object."""
    rows = ctx.store.run(q.GET, {"id": str(view_id), "person_id": actor.person_id})
    if not rows:
        raise ObjectMissing(MISSING, id=str(view_id))
    return rows[0]


def save_view(ctx: Context, actor: Actor, name: str, values: Mapping[str, str]) -> Row:
    """Keep the list's current filter and sort under ``name`` for the actor; audited."""
    name = " ".join(str(name or "").split())
    if not name:
        raise InvalidInput("saved_view.name_required", field="name")
    if len(name) > MAX_NAME:
        raise InvalidInput("saved_view.name_too_long", field="name", max=MAX_NAME)
    if ctx.store.run(q.COUNT, {"person_id": actor.person_id})[0]["n"] >= MAX_VIEWS:
        raise InvalidInput("saved_view.too_many", field="name", max=MAX_VIEWS)
    made: Row = {"id": str(uuid.uuid4()), "name": name, "query": clean_query(values),
                 "created_at": int(time.time() * 1000)}
    ctx.store.run(q.SAVE, {"person_id": actor.person_id, "id": made["id"], "name": name, "query": made["query"],
                           "now": made["created_at"]})
    audit.record(ctx.store, action="saved_view.create", actor_id=actor.person_id, target_kind="saved_view",
                 target_id=made["id"], client=actor.address, detail={"name": name})
    return made


def delete_view(ctx: Context, actor: Actor, view_id: str) -> None:
    """Remove one of the actor's saved views (somebody else's is a missing object); audited."""
    if not ctx.store.run(q.DELETE, {"id": str(view_id), "person_id": actor.person_id}):
        raise ObjectMissing(MISSING, id=str(view_id))
    audit.record(ctx.store, action="saved_view.delete", actor_id=actor.person_id, target_kind="saved_view",
                 target_id=str(view_id), client=actor.address)
