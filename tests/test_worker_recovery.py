"""A worker killed with ``kill -9`` in the middle of a task: the task runs again, to the end, on another
worker, once the broker's visibility timeout has passed (short here, configurable for exactly this)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
from helpers import ROOT, run_cli, wait_until

from graph import EmbeddedServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # up to 5 minutes for the redelivery

VISIBILITY = 20  # seconds, above the probe task's 8 s (production: 2 hours, above the 1-hour task bound)


def _worker(name: str, queue: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "HUITONG_TASK_VISIBILITY_SECONDS": str(VISIBILITY), "PROBE_WORKER": name,
           "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "tests")])}
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker", "-I", "worker_probe",
         "--hostname", f"{name}-{queue}@%h", "--queues", queue, "--concurrency", "1", "--loglevel", "INFO",
         "--without-mingle", "--without-gossip"],
        cwd=ROOT, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True,
    )


def _lines(path: Path) -> list[str]:
    return path.read_text().split() if path.exists() else []


def test_task_of_a_killed_worker_finishes_on_another(graph_server: EmbeddedServer) -> None:
    from workers.celery_app import app

    folder = Path(tempfile.mkdtemp(prefix="ht-probe-"))
    queue = f"probe-{uuid.uuid4().hex[:8]}"
    first = _worker("first", queue, folder / "first.log")
    second: subprocess.Popen[bytes] | None = None
    try:
        app.send_task("huitong.test_probe", args=[str(folder), 8.0], queue=queue)
        assert wait_until(lambda: _lines(folder / "started"), timeout=90), "the first worker never took the task"
        assert _lines(folder / "started")[0].startswith("first:")
        os.kill(first.pid, signal.SIGKILL)  # the main process only: its pool child must not finish the task
        first.wait(timeout=10)
        killed_at = time.monotonic()
        second = _worker("second", queue, folder / "second.log")
        finished = wait_until(lambda: _lines(folder / "finished"), timeout=300, interval=0.5)
        log = (folder / "second.log").read_text()[-2000:]
        assert finished, f"the task did not finish within 5 minutes; second worker's log: {log}"
        assert [line.split(":")[0] for line in finished] == ["second"]  # once, elsewhere
        assert time.monotonic() - killed_at < 300
        assert [line.split(":")[0] for line in _lines(folder / "started")] == ["first", "second"]
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def test_check_reports_workers(graph_server: EmbeddedServer, celery_worker: subprocess.Popen[bytes]) -> None:
    """``huitong check --json`` names the live workers, the queue depth and the oldest waiting task's age."""

    def report() -> dict[str, object]:
        return json.loads(run_cli("check", "--json").stdout)["workers"]

    workers = wait_until(lambda: (r := report())["alive"] >= 1 and r, timeout=60)
    assert workers, "no live worker reported"
    assert isinstance(workers["queue_depth"], int) and workers["queue_depth"] >= 0
    assert set(workers) == {"alive", "queue_depth", "oldest_waiting_seconds"}
