"""Celery tasks. Each task is a thin shell around domain code in graph/, ingest/, embeddings/."""

from __future__ import annotations

import os
import socket

from workers.celery_app import app


@app.task(name="huitong.ping")
def ping(payload: str = "") -> dict[str, object]:
    """Round-trip check: proves a worker consumed the broker's message and wrote a result."""
    return {"pong": payload, "worker": f"{socket.gethostname()}:{os.getpid()}"}
