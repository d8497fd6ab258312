"""``huitong web``: the web front (:mod:`webapp.asgi`) under uvicorn, hardened against slow clients.

uvicorn keeps every connection on an event loop, so an idle or slow client costs a socket and a few
kilobytes, never a thread. Two bounds it lacks are added here: a connection must deliver its whole
request head within ``HUITONG_HEADER_TIMEOUT_SECONDS`` (a slowloris client is cut off instead of
holding its socket forever), and a request head may be up to :data:`MAX_HEAD_BYTES` long, so long
Chinese search queries (nine URL bytes per character) fit in the request line instead of hitting 414.

This works on a fresh machine through ``scripts/run.sh`` with nothing but the Python requirements (no
system proxy, no root); docker-compose puts nginx in front as well (``deploy/nginx.conf.template``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from settings import Settings, get_settings

MAX_HEAD_BYTES = 64 * 1024  # request line + headers; nginx in compose allows the same (large_client_header_buffers)
KEEP_ALIVE_SECONDS = 5
GRACEFUL_SECONDS = 10


class GuardedH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with a deadline for each request head."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timeout = float(get_settings().header_timeout_seconds)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        self._arm_head_timer()

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self._head_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()  # a head that is not complete by now never will be

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._disarm_head_timer()  # the head is complete; the body has its own bound

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_head_timer()  # the next request on this connection gets the same deadline

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)


def config_kwargs(settings: Settings) -> dict[str, Any]:
    return {
        "host": settings.host,
        "port": settings.port,
        "factory": True,
        "workers": settings.web_workers,
        "http": GuardedH11Protocol,
        "loop": "uvloop",
        "lifespan": "on",
        # The app trusts X-Forwarded-* only as configured (HUITONG_PROXY_HOPS, in webapp.auth).
        "proxy_headers": False,
        "server_header": False,
        "timeout_keep_alive": KEEP_ALIVE_SECONDS,
        "timeout_graceful_shutdown": GRACEFUL_SECONDS,
        "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
        "backlog": 2048,
        "log_level": "info",
    }


def run(settings: Settings) -> None:
    uvicorn.run("webapp.asgi:create_front", **config_kwargs(settings))
