"""Per-process application services: the graph store and health checks."""

from __future__ import annotations

import os
import threading

from flask import current_app

from graph import GraphStore, GraphUnavailable, open_store
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



def graph_health(store: GraphStore) -> tuple[bool, str]:
    try:
        store.ping()
    except GraphUnavailable as error:
        return False, str(error)
    return True, "ok"
