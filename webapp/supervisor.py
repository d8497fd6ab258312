"""``huitong serve``: the embedded all-in-one platform as supervised child processes.

The supervisor owns the bundled graph/broker server (if it started it), a Celery worker, Celery
beat and the web server (``huitong web``: the event-loop front of :mod:`webapp.front`). A child
that dies is restarted; the graph server is checked by pinging its socket, so a ``kill -9`` of it
is noticed and repaired within a second or two.
SIGINT/SIGTERM stop the web server first, then the workers, then the graph server.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from graph import EmbeddedServer, embedded_server
from settings import Settings

log = logging.getLogger("huitong.serve")

STOP_GRACE_SECONDS = 20.0
RESTART_BACKOFF_SECONDS = (1.0, 2.0, 5.0, 10.0, 30.0)


@dataclass
class Child:
    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = 0.0
    next_start: float = 0.0

    def start(self, env: dict[str, str]) -> None:
        log.info("starting %s", self.name)
        self.process = subprocess.Popen(self.argv, env=env)  # noqa: S603 - our own fixed command lines
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            log.warning("%s did not stop in %.0fs, killing it", self.name, grace)
            self.process.kill()
            self.process.wait()


def child_commands() -> list[Child]:
    python = sys.executable
    return [
        Child("worker", [python, "-m", "webapp", "worker"]),
        Child("beat", [python, "-m", "webapp", "beat"]),
        Child("web", [python, "-m", "webapp", "web"]),
    ]


@dataclass
class Supervisor:
    settings: Settings
    children: list[Child] = field(default_factory=list)
    server: EmbeddedServer | None = None
    owns_server: bool = False
    stopping: bool = False

    def run(self, env: dict[str, str], prepare: Callable[[], None] | None = None) -> int:
        signal.signal(signal.SIGTERM, self._request_stop)
        signal.signal(signal.SIGINT, self._request_stop)
        if self.settings.graph == "embedded":
            self.server = embedded_server(self.settings)
            self.owns_server = self.server.ensure_running()
        if prepare is not None:
            prepare()
        self.children = child_commands()
        for child in self.children:
            child.start(env)
        try:
            while not self.stopping:
                self._watch(env)
                time.sleep(0.5)
        finally:
            self.shutdown()
        return 0

    def _request_stop(self, signum: int, _frame: object) -> None:
        log.info("received %s, stopping", signal.Signals(signum).name)
        self.stopping = True

    def _watch(self, env: dict[str, str]) -> None:
        if self.server is not None and not self.server.status().running:
            log.error("graph server is down; restarting it")
            self.owns_server = self.server.ensure_running() or self.owns_server
        now = time.monotonic()
        for child in self.children:
            if child.alive():
                if now - child.started_at > 60:
                    child.restarts = 0  # it has been healthy for a while
                continue
            if child.next_start == 0.0:
                code = child.process.returncode if child.process else None
                delay = RESTART_BACKOFF_SECONDS[min(child.restarts, len(RESTART_BACKOFF_SECONDS) - 1)]
                log.error("%s exited (code %s); restarting in %.0fs", child.name, code, delay)
                child.next_start = now + delay
            elif now >= child.next_start:
                child.restarts += 1
                child.next_start = 0.0
                child.start(env)

    def shutdown(self) -> None:
        for child in reversed(self.children):  # web first, then beat, then worker
            child.stop()
        if self.server is not None and self.owns_server:
            log.info("stopping graph server")
            self.server.stop()


def serve(settings: Settings, prepare: Callable[[], None] | None = None) -> int:
    env = dict(os.environ)
    env["HUITONG_PORT"] = str(settings.port)
    env["HUITONG_HOST"] = settings.host
    env["HUITONG_DATA_DIR"] = str(Path(settings.data_dir).resolve())
    return Supervisor(settings).run(env, prepare)
