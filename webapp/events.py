"""Live updates for the browser: publish events to people, and the SSE endpoint ``/events``.

Document events are published by the use cases themselves (:mod:`graph.live`), whatever the door.
Events travel over the broker server's pub/sub (:mod:`graph.live`);
``/events`` relays only the signed-in person's own channel, so nobody hears another person's events.
A browser reacts with the htmx SSE extension (``hx-trigger="sse:inbox"`` re-fetches a fragment): events
carry a name and a small JSON payload, never HTML, and the page fragment they trigger is authorised as usual.

Under the platform's web server (:mod:`webapp.asgi`) a stream is served on the event loop by
:mod:`webapp.live` and holds no request thread; elsewhere (the test client, a plain WSGI server)
it falls back to a generator that holds one. Either way a stream ends after ``SSE_MAX_SECONDS``
and the browser's EventSource reconnects by itself.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

import redis
from flask import Blueprint, Response, current_app, request, stream_with_context
from flask.typing import ResponseReturnValue

from graph import live as bus
from webapp import live, services
from webapp.auth import current_person, session_token

bp = Blueprint("events", __name__)

HEARTBEAT_SECONDS = 15.0
SSE_MAX_SECONDS = 300.0


def publish(person_ids: Iterable[str], event: str, payload: dict[str, Any] | None = None) -> int:
    """Tell these people's browsers that ``event`` happened; returns how many streams received it."""
    return bus.publish_to_people(services.settings(), person_ids, event, payload)


_frame = live.frame


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
                decoded = live.decode(message["data"])
                if decoded is None:
                    continue
                yield _frame(decoded[0], json.dumps(decoded[1], ensure_ascii=False))
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
    person, token = current_person(), session_token()
    if request.environ.get(live.ASYNC_FLAG) and person is not None and token:
        # The front streams it on its event loop (see webapp.live); this thread is free at once.
        request.environ[live.ENVIRON_KEY] = live.StreamRequest(
            person_id=person.id, token=token, channels=tuple(sorted(set(channels))), heartbeat=heartbeat,
            max_seconds=max_seconds)
        return Response("", mimetype="text/event-stream")
    body = stream_with_context(_stream(sorted(set(channels)), heartbeat, max_seconds))
    return Response(body, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/events")
def stream() -> ResponseReturnValue:
    person = current_person()
    assert person is not None  # the global login requirement refused anonymous callers
    return sse_response([bus.person_channel(person.id)])
