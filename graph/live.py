"""Live updates: small JSON events on pub/sub channels of the broker's server (the bundled one in embedded
mode), published by the use cases whatever the door (web, CLI, API, worker, bulk ingest).

Events go to per-person or per-document channels; the web app's SSE endpoints relay them to browsers,
which re-fetch the affected fragment (authorised as usual). An event carries ids and a word for what
changed, never content. Delivery is best effort: a live update that cannot be sent is logged and dropped,
never allowed to fail the action behind it (the page is always the truth; events only say "look again").

It lives in ``graph`` because every layer that changes documents may announce (ingest must not import
workers); it needs nothing of ours but the settings.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import redis
import redis.asyncio as aioredis

from graph import permissions
from graph.store import GraphStore
from settings import Settings

log = logging.getLogger("huitong.bus")

PREFIX = "huitong:live:"
_lock = threading.Lock()
_clients: dict[tuple[int, str], redis.Redis] = {}


def person_channel(person_id: str) -> str:
    return f"{PREFIX}person:{person_id}"


def document_channel(document_id: str) -> str:
    return f"{PREFIX}document:{document_id}"


def sessions_channel(person_id: str) -> str:
    """Where the end of any of the person's login sessions is announced (every open stream of theirs listens)."""
    return f"{PREFIX}sessions:{person_id}"


SESSION_ENDED_EVENT = "session-ended"


def sessions_ended(settings: Settings, person_ids: Iterable[str]) -> int:
    """Logout, deactivation, role removal or a password change ended sessions of these people: their open
    streams check their own session now (it carries no token: each stream asks whether IT is still alive)."""
    return publish(settings, (sessions_channel(p) for p in person_ids if p), SESSION_ENDED_EVENT)


def client(settings: Settings) -> redis.Redis:
    """One connection pool per process and broker URL (pools do not survive a fork)."""
    url = settings.effective_broker_url
    key = (os.getpid(), url)
    with _lock:
        if key not in _clients:
            _clients[key] = _connect(url)
        return _clients[key]


def _connect(url: str) -> redis.Redis:
    parts = urlsplit(url)
    if parts.scheme == "redis+socket":
        # kombu's spelling of a unix socket; redis-py wants the path itself.
        return redis.Redis(unix_socket_path=parts.path, socket_timeout=30, health_check_interval=30)
    return redis.Redis.from_url(url, socket_timeout=30, health_check_interval=30)


def async_connector(settings: Settings) -> Callable[[], aioredis.Redis]:
    """A factory of asyncio clients of the bus (for the web front's event loop; one per call)."""
    url = settings.effective_broker_url
    parts = urlsplit(url)

    def connect() -> aioredis.Redis:
        if parts.scheme == "redis+socket":
            return aioredis.Redis(unix_socket_path=parts.path, health_check_interval=30)
        return aioredis.Redis.from_url(url, health_check_interval=30)

    return connect


def encode(event: str, payload: dict[str, Any] | None) -> str:
    return json.dumps({"event": event, "payload": payload or {}}, ensure_ascii=False, separators=(",", ":"))


def publish(settings: Settings, channels: Iterable[str], event: str, payload: dict[str, Any] | None = None) -> int:
    """Send ``event`` to every channel; returns how many subscribers received it (0 when the bus is down)."""
    names = sorted(set(channels))
    if not names:
        return 0
    message = encode(event, payload)
    try:
        pipe = client(settings).pipeline(transaction=False)
        for name in names:
            pipe.publish(name, message)
        return sum(int(n) for n in pipe.execute())
    except redis.RedisError as error:
        log.warning("live update %s to %d channel(s) not sent: %s", event, len(names), error)
        return 0


def publish_to_people(settings: Settings, person_ids: Iterable[str], event: str,
                      payload: dict[str, Any] | None = None) -> int:
    return publish(settings, (person_channel(p) for p in person_ids if p), event, payload)


# -- document events -----------------------------------------------------------------------------

DOCUMENT_EVENT = "document"
NEW_DOCUMENT_EVENT = "documents"
CHANGES = ("version", "status", "metadata", "share", "comment")  # see change_event
MAX_FANOUT = 5000  # readers told personally about a new document; beyond that, listings learn on reload


def change_event(what: str) -> str:
    """The event name of one kind of change (``document-share``...): each part of a document page listens to
    the kinds that change it, so a comment does not make seven fragments reload."""
    return f"{DOCUMENT_EVENT}-{what}"


def document_changed(settings: Settings, document_id: str, what: str, **details: Any) -> int:
    """Tell every stream watching ``document_id``; returns how many received it."""
    if what not in CHANGES:
        raise ValueError(f"unknown document change {what!r}; expected one of {', '.join(CHANGES)}")
    payload = {"id": document_id, "what": what, **{k: v for k, v in details.items() if v is not None}}
    return publish(settings, [document_channel(document_id)], change_event(what), payload)


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
    return publish_to_people(settings, people[:MAX_FANOUT], NEW_DOCUMENT_EVENT, {"id": document_id})
