"""Live-update streams served on the event loop: no request thread is held while a browser listens.

The views that open a stream (``/events``, ``/documents/<id>/events``, ``/documents/live``) decide,
as any view does, who may watch which channels; :func:`webapp.events.sse_response` then hands the
decision to the front (:mod:`webapp.asgi`) instead of streaming from a thread. Here the stream runs
as a coroutine fed by ONE pub/sub connection per process (:class:`Hub`), so hundreds of open streams
cost neither request threads nor broker connections.

While a stream is open:
* every event is re-checked before it is sent: the session must still be alive (logout, deactivation
  and session end close the stream) and a document's events need the reader's read access now, not
  at opening time (a channel whose access was revoked is dropped);
* the session is re-checked every ``HUITONG_STREAM_RECHECK_SECONDS`` even when nothing happens;
* caps bound streams per person and on the whole site (:class:`Caps`, counted in the broker so every
  web process and machine shares them); a stream over a cap is answered 429.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import Enum
from typing import Any

import redis
import redis.asyncio as aioredis
from flask import Flask
from flask_babel import lazy_gettext as _l

from graph import accounts, permissions
from graph import live as bus
from graph.accounts import Person
from graph.store import GraphStore
from settings import Settings

log = logging.getLogger("huitong.live")

ENVIRON_KEY = "huitong.stream"  # set by events.sse_response: the front serves this stream itself
ASYNC_FLAG = "huitong.async_streams"  # set by the front: streams may be handed over
QUEUE_LIMIT = 256  # events waiting for one slow reader; beyond that they are dropped (the page is the truth)
RETRY_MS = 3000

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class StreamRequest:
    """What a view decided: this signed-in person (with this session) may watch these channels."""

    person_id: str
    token: str
    channels: tuple[str, ...]
    heartbeat: float
    max_seconds: float


def frame(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


def decode(raw: bytes | str) -> tuple[str, dict[str, Any]] | None:
    """A bus message as (event, payload), or None when it is not one of ours."""
    try:
        decoded = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
        return str(decoded["event"]), decoded.get("payload") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


# -- the two questions a stream asks, each through one adapter (the places to change when the rules move) ---

def session_person(store: GraphStore, token: str) -> Person | None:
    """The active person of a live session, read the way :mod:`webapp.auth` reads it."""
    return accounts.session_person(store, token)


def may_read(store: GraphStore, person_id: str, document_id: str) -> bool:
    """The platform's one read check (the same path query every document view uses)."""
    return permissions.can_read(store, person_id, document_id).allowed


class Verdict(Enum):
    SEND = "send"
    DROP = "drop"  # this channel is no longer allowed; the stream goes on with the others
    END = "end"  # the session is over


DOCUMENT_PREFIX = bus.document_channel("")


SESSION_MEMO_SECONDS = 1.0  # one session read serves every stream of that session within this time


class SessionMemo:
    """Many streams share one session (a person's tabs): their checks within a second share one read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[str, tuple[float, str | None]] = {}

    def forget(self, token: str) -> None:
        with self._lock:
            self._seen.pop(token, None)

    def person_id(self, store: GraphStore, token: str) -> str | None:
        now = time.monotonic()
        with self._lock:
            hit = self._seen.get(token)
            if hit is not None and hit[0] > now:
                return hit[1]
        person = session_person(store, token)
        found = person.id if person is not None else None
        with self._lock:
            if len(self._seen) > 10000:
                self._seen = {k: v for k, v in self._seen.items() if v[0] > now}
            self._seen[token] = (now + SESSION_MEMO_SECONDS, found)
        return found


def verdict(store: GraphStore, request: StreamRequest, channel: str | None, memo: SessionMemo) -> Verdict:
    person_id = memo.person_id(store, request.token)
    if person_id is None or person_id != request.person_id:
        return Verdict.END
    if channel and channel.startswith(DOCUMENT_PREFIX):
        return Verdict.SEND if may_read(store, person_id, channel[len(DOCUMENT_PREFIX):]) else Verdict.DROP
    return Verdict.SEND


# -- one pub/sub connection per process -------------------------------------------------------------------

_BROKEN = ("", b"")  # put in every queue when the bus connection fails: the streams end, browsers reconnect


class Hub:
    """Subscribes each channel once, however many streams watch it, and fans messages out to their queues."""

    def __init__(self, connect: Callable[[], aioredis.Redis]) -> None:
        self._connect = connect
        self._pubsub: Any = None
        self._reader: asyncio.Task[None] | None = None
        self._queues: dict[str, set[asyncio.Queue[tuple[str, bytes]]]] = {}
        self._lock = asyncio.Lock()

    async def join(self, channels: Iterable[str], queue: asyncio.Queue[tuple[str, bytes]]) -> None:
        async with self._lock:
            if self._pubsub is None:
                self._pubsub = self._connect().pubsub(ignore_subscribe_messages=True)
            new = [c for c in channels if c not in self._queues]
            for channel in channels:
                self._queues.setdefault(channel, set()).add(queue)
            if new:
                try:
                    await self._pubsub.subscribe(*new)
                except (redis.RedisError, OSError):
                    for channel in channels:
                        self._forget(channel, queue)
                    raise
            if self._reader is None or self._reader.done():
                self._reader = asyncio.create_task(self._read())

    def _forget(self, channel: str, queue: asyncio.Queue[tuple[str, bytes]]) -> bool:
        watchers = self._queues.get(channel)
        if watchers is None:
            return False
        watchers.discard(queue)
        if watchers:
            return False
        del self._queues[channel]
        return True

    async def leave(self, channels: Iterable[str], queue: asyncio.Queue[tuple[str, bytes]]) -> None:
        async with self._lock:
            gone = [channel for channel in channels if self._forget(channel, queue)]
            if gone and self._pubsub is not None:
                with contextlib.suppress(redis.RedisError, OSError):
                    await self._pubsub.unsubscribe(*gone)

    @property
    def watched(self) -> int:
        return len(self._queues)

    async def _read(self) -> None:
        try:
            while True:  # for the life of the process (or of the connection): channels come and go
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if not message or message.get("type") != "message":
                    continue
                channel = message["channel"].decode() if isinstance(message["channel"], bytes) else message["channel"]
                for queue in tuple(self._queues.get(channel, ())):
                    if queue.qsize() < QUEUE_LIMIT:
                        queue.put_nowait((channel, message["data"]))
        except (redis.RedisError, OSError) as error:
            log.warning("live-update bus lost (%s); open streams end and reconnect", error)
            await self._reset()

    async def _reset(self) -> None:
        async with self._lock:
            for watchers in self._queues.values():
                for queue in watchers:
                    queue.put_nowait(_BROKEN)
            self._queues.clear()
            pubsub, self._pubsub = self._pubsub, None
            if pubsub is not None:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()


# -- caps, counted in the broker so that all web processes share them --------------------------------------

_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[4]) then return 1 end
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then return 2 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 0
"""
CAPS_KEY = "huitong:streams"


class Caps:
    """Leases with an expiry (renewed at every heartbeat): a web process that dies frees its streams' places."""

    def __init__(self, connect: Callable[[], aioredis.Redis], settings: Settings) -> None:
        self._connect = connect
        self._total = settings.stream_max
        self._per_person = settings.stream_per_person
        self._client: aioredis.Redis | None = None
        self._script: Any = None

    def _redis(self) -> aioredis.Redis:
        if self._client is None:
            self._client = self._connect()
            self._script = self._client.register_script(_ACQUIRE)
        return self._client

    @staticmethod
    def _person_key(person_id: str) -> str:
        return f"{CAPS_KEY}:{person_id}"

    async def acquire(self, person_id: str, lease: str, seconds: float) -> str | None:
        """None when the stream may open, else which cap refused it (``site`` or ``person``)."""
        self._redis()
        now = time.time()
        refused = await self._script(keys=[CAPS_KEY, self._person_key(person_id)],
                                     args=[now, now + seconds, lease, self._total, self._per_person, int(seconds) + 1])
        return {0: None, 1: "site", 2: "person"}.get(int(refused), "site")

    async def renew(self, person_id: str, lease: str, seconds: float) -> None:
        until = time.time() + seconds
        pipe = self._redis().pipeline(transaction=False)
        pipe.zadd(CAPS_KEY, {lease: until}, xx=True)
        pipe.zadd(self._person_key(person_id), {lease: until}, xx=True)
        pipe.expire(self._person_key(person_id), int(seconds) + 1)
        await pipe.execute()

    async def release(self, person_id: str, lease: str) -> None:
        pipe = self._redis().pipeline(transaction=False)
        pipe.zrem(CAPS_KEY, lease)
        pipe.zrem(self._person_key(person_id), lease)
        await pipe.execute()


# -- the service -------------------------------------------------------------------------------------------

class LiveService:
    def __init__(self, app: Flask, settings: Settings) -> None:
        self._app = app
        self._settings = settings
        self._checks = ThreadPoolExecutor(max_workers=4, thread_name_prefix="huitong-live")
        self._memo = SessionMemo()
        connect = bus.async_connector(settings)
        self.hub = Hub(connect)
        self.caps = Caps(connect, settings)

    def _verdict_now(self, request: StreamRequest, channel: str | None) -> Verdict:
        from webapp import services

        with self._app.app_context():
            return verdict(services.store(), request, channel, self._memo)

    async def _verdict(self, request: StreamRequest, channel: str | None) -> Verdict:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._checks, self._verdict_now, request, channel)
        except Exception as error:  # graph unreachable: end the stream rather than send unchecked events
            log.warning("live-update check failed (%s); stream ends", error)
            return Verdict.END

    async def serve(self, request: StreamRequest, receive: Receive, send: Send, scope: Scope | None = None) -> None:
        scope = scope if scope is not None else {}
        lease, lease_seconds = uuid.uuid4().hex, max(60.0, 3 * request.heartbeat)
        try:
            refused = await self.caps.acquire(request.person_id, lease, lease_seconds)
        except (redis.RedisError, OSError):
            await plain(send, 503, front_text(self._app, scope, "live_unavailable"), {"retry-after": "5"})
            return
        if refused:
            log.info("live stream refused by the %s cap", refused)
            await plain(send, 429, front_text(self._app, scope, "too_many_streams"), {"retry-after": "30"})
            return
        queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        # The person's session channel too: a logout or deactivation closes the stream at once.
        channels = {*request.channels, bus.sessions_channel(request.person_id)}
        try:
            await self.hub.join(channels, queue)
        except (redis.RedisError, OSError):
            await self.caps.release(request.person_id, lease)
            await plain(send, 503, front_text(self._app, scope, "live_unavailable"), {"retry-after": "5"})
            return
        watcher = asyncio.create_task(_until_disconnect(receive, queue))
        try:
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no")]})
            await _body(send, f"retry: {RETRY_MS}\n" + frame("ready", "{}"))
            await self._relay(request, channels, queue, send, lease, lease_seconds)
        finally:
            watcher.cancel()
            await self.hub.leave(channels, queue)
            with contextlib.suppress(redis.RedisError, OSError):
                await self.caps.release(request.person_id, lease)
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _relay(self, request: StreamRequest, channels: set[str], queue: asyncio.Queue[tuple[str, bytes]],
                     send: Send, lease: str, lease_seconds: float) -> None:
        recheck = float(self._settings.stream_recheck_seconds)
        now = time.monotonic()
        deadline, next_check, last_beat = now + request.max_seconds, now + recheck, now
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            if now >= next_check:
                if await self._verdict(request, None) is Verdict.END:
                    await _body(send, frame("end", '{"reason": "session"}'))
                    return
                next_check = now + recheck
            if now - last_beat >= request.heartbeat:
                await _body(send, ": keep-alive\n\n")  # a comment: keeps proxies from closing an idle stream
                with contextlib.suppress(redis.RedisError, OSError):
                    await self.caps.renew(request.person_id, lease, lease_seconds)
                last_beat = now
            wait = max(0.01, min(deadline, next_check, last_beat + request.heartbeat) - now)
            try:
                channel, raw = await asyncio.wait_for(queue.get(), wait)
            except TimeoutError:
                continue
            if (channel, raw) == _BROKEN:
                await _body(send, frame("error", '{"reason": "bus unavailable"}'))
                return
            if channel == _DISCONNECTED:
                return
            message = decode(raw)
            if message is None:
                continue
            if message[0] == bus.SESSION_ENDED_EVENT:
                # Some session of this person ended: is it this one? Asked afresh, not from the memo.
                self._memo.forget(request.token)
                if await self._verdict(request, None) is Verdict.END:
                    await _body(send, frame("end", '{"reason": "session"}'))
                    return
                continue
            decision = await self._verdict(request, channel)
            if decision is Verdict.END:
                await _body(send, frame("end", '{"reason": "session"}'))
                return
            if decision is Verdict.DROP:
                channels.discard(channel)
                await self.hub.leave([channel], queue)
                if not channels:
                    return
                continue
            await _body(send, frame(message[0], json.dumps(message[1], ensure_ascii=False)))
            last_beat = time.monotonic()


_DISCONNECTED = "\x00disconnected"


async def _until_disconnect(receive: Receive, queue: asyncio.Queue[tuple[str, bytes]]) -> None:
    while True:
        message = await receive()
        if message.get("type") == "http.disconnect":
            queue.put_nowait((_DISCONNECTED, b""))
            return


async def _body(send: Send, text: str) -> None:
    await send({"type": "http.response.body", "body": text.encode(), "more_body": True})


# The front's own answers (it answers before or instead of the app): worded like the app's pages.
FRONT_TEXTS: dict[str, Any] = {
    "body_too_slow": _l("The request arrived too slowly and was cut off; please try again."),
    "live_unavailable": _l("Live updates are unavailable right now; the page reconnects by itself."),
    "too_many_streams": _l("Too many live-update streams are open; close a few tabs or try again later."),
}


def front_text(app: Flask, scope: Scope, key: str) -> str:
    """One of :data:`FRONT_TEXTS` in the reader's language, chosen as the app chooses it (the language kept in
    their session cookie, else Accept-Language, else Chinese) from the request head alone."""
    from werkzeug.test import EnvironBuilder

    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
    try:
        environ = EnvironBuilder(path="/", headers=[h for h in headers if h[0].lower() != "content-length"]
                                 ).get_environ()
        with app.request_context(environ):
            return str(FRONT_TEXTS[key])
    except Exception:  # an unreadable head still gets an answer, in the source language
        log.debug("front answer without the reader's language", exc_info=True)
        return str(FRONT_TEXTS[key]._args[0])


async def plain(send: Send, status: int, text: str, headers: dict[str, str] | None = None) -> None:
    """A short text answer from the front itself."""
    body = text.encode()
    extra = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode()), *extra]})
    await send({"type": "http.response.body", "body": body, "more_body": False})
