"""Live document events, published from wherever a document changes: web views and workers alike.

Nothing here imports the web app (workers must not), so both sides share these helpers. An event
carries only ids and a word for what changed (``version``, ``status``, ``metadata``, ``share``,
``comment``); a browser that hears it re-fetches the affected fragment, which is authorised as
usual. Events go to the document's channel, which only streams opened by people allowed to read
the document subscribe to; a brand-new document is announced on its readers' own channels so
that listings can show it. Delivery is best effort (see :mod:`workers.bus`).
"""

from __future__ import annotations

import logging
from typing import Any

from graph import permissions
from graph.store import GraphStore
from settings import Settings
from workers import bus

log = logging.getLogger("huitong.events")

DOCUMENT_EVENT = "document"
NEW_DOCUMENT_EVENT = "documents"
CHANGES = ("version", "status", "metadata", "share", "comment")
MAX_FANOUT = 5000  # readers told personally about a new document; beyond that, listings learn on reload


def document_changed(settings: Settings, document_id: str, what: str, **details: Any) -> int:
    """Tell every stream watching ``document_id``; returns how many received it."""
    if what not in CHANGES:
        raise ValueError(f"unknown document change {what!r}; expected one of {', '.join(CHANGES)}")
    payload = {"id": document_id, "what": what, **{k: v for k, v in details.items() if v is not None}}
    return bus.publish(settings, [bus.document_channel(document_id)], DOCUMENT_EVENT, payload)


def document_created(store: GraphStore, settings: Settings, document_id: str) -> int:
    """Tell the people who may read a new document (their listings may now include it)."""
    try:
        readers = permissions.who_can_read(store, document_id, 1, min(MAX_FANOUT, 1000))
        people = [r.person_id for r in readers.readers]
        page = 2
        while len(people) < min(readers.total, MAX_FANOUT):
            more = permissions.who_can_read(store, document_id, page, 1000).readers
            if not more:
                break
            people += [r.person_id for r in more]
            page += 1
    except permissions.NotFound:
        return 0
    return bus.publish_to_people(settings, people[:MAX_FANOUT], NEW_DOCUMENT_EVENT, {"id": document_id})


def process_and_announce(store: GraphStore, settings: Settings, version_id: str, *, index: bool = True) -> Any:
    """Run the background step of an upload here, then tell the document's watchers its new status."""
    from ingest.pipeline import process_version_now

    done = process_version_now(store, settings, version_id, index=index)
    document_changed(settings, done.document_id, "status", version_id=done.version_id, status=done.status,
                     current=done.current)
    return done
