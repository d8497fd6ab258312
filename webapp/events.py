"""Live updates for the browser: publish events to people or documents, and the SSE endpoint ``/events``.

Events travel over the broker server's pub/sub (:mod:`workers.bus`); ``/events`` relays only the
signed-in person's own channel, so nobody hears another person's events. A browser reacts with
the htmx SSE extension (``hx-trigger="sse:inbox"`` re-fetches a fragment): events carry a name
and a small JSON payload, never HTML, and the page fragment they trigger is authorised as usual.

Each open stream holds one web thread (gunicorn runs gthread workers), so a stream ends after
``SSE_MAX_SECONDS``; the browser's EventSource reconnects by itself.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import redis
from flask import Blueprint, Response, current_app, stream_with_context
from flask.typing import ResponseReturnValue

from webapp import services
from webapp.auth import current_person
from workers import bus

bp = Blueprint("events", __name__)

HEARTBEAT_SECONDS = 15.0
SSE_MAX_SECONDS = 300.0


def publish(person_ids: Iterable[str], event: str, payload: dict[str, Any] | None = None) -> int:
    """Tell these people's browsers that ``event`` happened; returns how many streams received it."""
    return bus.publish_to_people(services.settings(), person_ids, event, payload)


def publish_document(document_id: str, event: str, payload: dict[str, Any] | None = None) -> int:
    """Tell every stream watching ``document_id`` (see :func:`sse_response`)."""
    return bus.publish(services.settings(), [bus.document_channel(document_id)], event, payload)


def _frame(event: str, data: str) -> str:
    lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
    return f"event: {event}\n{lines}\n"


def _stream(channels: list[str], heartbeat: float, max_seconds: float) -> Iterator[str]:
    connection = bus.client(services.settings())
    pubsub = connection.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(*channels)
        # The subscription is live before the first byte: whoever sees "ready" may publish and be heard.
        yield "retry: 3000\n" + _frame("ready", "{}")
        deadline = time.monotonic() + max_seconds
        last_beat = time.monotonic()
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=min(heartbeat, 1.0))
            if message and message.get("type") == "message":
                raw = message["data"].decode() if isinstance(message["data"], bytes) else message["data"]
                try:
                    decoded = json.loads(raw)
                    event, payload = str(decoded["event"]), decoded.get("payload") or {}
                except (ValueError, KeyError, TypeError):
                    continue
                yield _frame(event, json.dumps(payload, ensure_ascii=False))
                last_beat = time.monotonic()
            elif time.monotonic() - last_beat >= heartbeat:
                yield ": keep-alive\n\n"  # a comment: keeps proxies from closing an idle stream
                last_beat = time.monotonic()
    except redis.RedisError:
        yield _frame("error", '{"reason": "bus unavailable"}')
    finally:
        with contextlib.suppress(redis.RedisError):
            pubsub.close()


def sse_response(channels: Iterable[str]) -> Response:
    """An SSE stream of ``channels`` (the caller has checked the person may watch them)."""
    config = current_app.config
    heartbeat = float(config.get("HUITONG_SSE_HEARTBEAT", HEARTBEAT_SECONDS))
    max_seconds = float(config.get("HUITONG_SSE_MAX_SECONDS", SSE_MAX_SECONDS))
    body = stream_with_context(_stream(sorted(set(channels)), heartbeat, max_seconds))
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/events")
def stream() -> ResponseReturnValue:
    person = current_person()
    assert person is not None  # the global login requirement refused anonymous callers
    return sse_response([bus.person_channel(person.id)])
