"""Broker health checks shared by the CLI and the web app."""

from __future__ import annotations

import json
import time
from typing import Any

import redis
from kombu import Connection

from settings import Settings

SENT_AT_HEADER = "huitong_sent_at"  # epoch seconds at publish, stamped by workers.celery_app
HEARTBEAT_PREFIX = "huitong:worker:"  # one key per live worker, refreshed by workers.celery_app


def broker_ok(settings: Settings, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the Celery broker accepts a connection."""
    try:
        with Connection(settings.effective_broker_url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # kombu surfaces transport-specific error types
        return False, str(error) or type(error).__name__
    return True, "ok"


# -- workers: who is alive, how much waits, and for how long --------------------------------------------

_SEP = "\x06\x16"  # kombu's separator in binding records and priority queue names
_PRIORITY_STEPS = (0, 3, 6, 9)  # kombu's default: a queue is one Redis list per step


def _queue_names(connection: redis.Redis) -> set[str]:
    names = {"celery"}
    for member in connection.smembers("_kombu.binding.celery"):
        text = member.decode() if isinstance(member, bytes) else str(member)
        names.add(text.split(_SEP)[-1])
    return {name for name in names if name}


def _sent_at(raw: bytes | str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = json.loads(raw).get("headers", {}).get(SENT_AT_HEADER)
    except (ValueError, AttributeError):
        return None
    return float(value) if isinstance(value, int | float) else None


def worker_report(settings: Settings) -> dict[str, Any]:
    """``alive``: workers whose heartbeat is fresh; ``queue_depth``: tasks waiting for a worker;
    ``oldest_waiting_seconds``: how long the oldest of them has waited (None when none waits)."""
    from graph import live as bus

    connection = bus.client(settings)
    alive = sum(1 for _ in connection.scan_iter(match=f"{HEARTBEAT_PREFIX}*", count=500))
    keys = [name if step == 0 else f"{name}{_SEP}{step}" for name in sorted(_queue_names(connection))
            for step in _PRIORITY_STEPS]
    pipe = connection.pipeline(transaction=False)
    for key in keys:
        pipe.llen(key)
        pipe.lindex(key, -1)  # kombu pushes on the left and takes from the right: the right end waited longest
    replies = pipe.execute()
    depth = sum(int(n) for n in replies[0::2])
    stamps = [t for t in (_sent_at(raw) for raw in replies[1::2]) if t is not None]
    oldest = round(max(0.0, time.time() - min(stamps)), 1) if stamps else None
    return {"alive": alive, "queue_depth": depth, "oldest_waiting_seconds": oldest}
