"""Per-process application services: the graph store and health checks."""

from __future__ import annotations

import os
import threading

from flask import current_app, g

from graph import GraphStore, GraphUnavailable, open_store
from graph.actor import Actor
from graph.usecases import Context
from settings import Settings

_lock = threading.Lock()
STORES = "huitong.stores"


def settings() -> Settings:
    return current_app.config["HUITONG"]


def store() -> GraphStore:
    """This app's store in this process (one per pid: gunicorn forks workers after the app is built)."""
    stores: dict[int, GraphStore] = current_app.extensions.setdefault(STORES, {})
    pid = os.getpid()
    with _lock:
        if pid not in stores:
            # The web process attaches to the graph server; it never starts one.
            stores[pid] = open_store(settings(), start_embedded=False)
        return stores[pid]


def context() -> Context:
    """What the use cases run against in this request: the store and the settings of the live bus."""
    return Context(store(), settings())


def actor() -> Actor:
    """The signed-in person of this request as the use cases' actor (one per request: access decisions
    are memoised on it, so a page asks the graph once per document)."""
    if "huitong_actor" not in g:
        from webapp.auth import client_address, current_person
        from webapp.i18n import current_language

        person = current_person()
        assert person is not None  # the global login requirement refused anonymous callers
        g.huitong_actor = Actor(person.id, person.username, person.name, frozenset(person.roles), door="web",
                                lang="en" if current_language() == "en" else "zh", address=client_address())
    return g.huitong_actor


def graph_health(store: GraphStore) -> tuple[bool, str]:
    try:
        store.ping()
    except GraphUnavailable as error:
        return False, str(error)
    return True, "ok"
