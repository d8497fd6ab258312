"""Broker health checks shared by the CLI and the web app."""

from __future__ import annotations

from kombu import Connection

from settings import Settings


def broker_ok(settings: Settings, timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the Celery broker accepts a connection."""
    try:
        with Connection(settings.effective_broker_url, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as error:  # kombu surfaces transport-specific error types
        return False, str(error) or type(error).__name__
    return True, "ok"
