"""A real task goes through the real broker to a real worker process and back."""

from __future__ import annotations

import subprocess

from graph import EmbeddedServer


def test_task_round_trip(celery_worker: subprocess.Popen[bytes], graph_server: EmbeddedServer) -> None:
    from workers.tasks import ping

    result = ping.delay("你好")
    reply = result.get(timeout=60)
    assert reply["pong"] == "你好"
    worker_pid = int(reply["worker"].rsplit(":", 1)[1])
    assert worker_pid != celery_worker.pid  # a pool process of the worker, not this test process
    assert celery_worker.poll() is None


def test_broker_is_the_bundled_server(graph_server: EmbeddedServer) -> None:
    from workers.celery_app import app

    assert str(graph_server.socket) in app.conf.broker_url
