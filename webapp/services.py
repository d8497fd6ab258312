"""Per-process application services: the graph store and health checks."""

from __future__ import annotations

import os
import threading

from flask import current_app

from graph import GraphStore, GraphUnavailable, open_store
from settings import Settings

_lock = threading.Lock()
_stores: dict[int, GraphStore] = {}


def settings() -> Settings:
    return current_app.config["HUITONG"]


def store() -> GraphStore:
    """This process's store (one per pid: gunicorn forks workers after import)."""
    pid = os.getpid()
    with _lock:
        if pid not in _stores:
            # The web process attaches to the graph server; it never starts one.
            _stores[pid] = open_store(settings(), start_embedded=False)
        return _stores[pid]


def graph_health(store: GraphStore) -> tuple[bool, str]:
    try:
        store.ping()
    except GraphUnavailable as error:
        return False, str(error)
    return True, "ok"
