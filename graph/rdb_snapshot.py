"""Point-in-time snapshots of the embedded graph server, for backup and restore.

A snapshot is one RDB file written by ``BGSAVE``: Redis forks, and the child serialises the
memory of the fork instant, so the file is consistent however many writes arrive meanwhile
(FalkorDB prepares its graphs for the fork so no half-applied query is caught). It holds every
key of the server: all graphs and the Celery queues, so tasks queued at that instant (e.g. an
extraction not yet run) are queued again after a restore.

``BGSAVE SCHEDULE`` is used because the server may be rewriting its AOF at that moment (it does
so on its own as the AOF grows): a plain BGSAVE would then be refused. Inside MULTI a BGSAVE is
only scheduled too (measured: the file then held writes made after EXEC), so counting "at the same
instant" is done on the file itself: :func:`inspect` loads it into a throwaway server without
persistence and counts what it holds. That also proves the file loads before anyone relies on it.

Restoring is laying the file down as the *base* of the AOF (Redis's multi-part AOF accepts an
RDB-format base); the platform's server then loads it at its next start and appends to it. An RDB
dropped beside an AOF would be ignored at start (appendonly wins), which is why the manifest of
the AOF directory is written here too.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from graph.embedded_server import EmbeddedServer, _binaries
from graph.errors import GraphUnavailable

AOF_DIR = "appendonlydir"  # Redis's defaults, which EmbeddedServer keeps
AOF_BASE = "appendonly.aof.1.base.rdb"
AOF_MANIFEST = "appendonly.aof.manifest"
SNAPSHOT_TIMEOUT = 3600.0


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """One snapshot at a time per data directory (they would share the server's dump file)."""
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise GraphUnavailable("another backup of this data directory is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def take(server: EmbeddedServer, target: Path, *, timeout: float = SNAPSHOT_TIMEOUT) -> int:
    """Write a consistent snapshot of the running server to ``target``; returns when it was asked for (epoch ms)."""
    with _exclusive(server.directory / "backup.lock"), contextlib.closing(server.client(timeout=30)) as client:
        directory = Path(str(client.config_get("dir")["dir"]))
        dump = directory / str(client.config_get("dbfilename")["dbfilename"])
        before = int(client.info("persistence").get("rdb_saves", 0))
        started = int(time.time() * 1000)
        client.execute_command("BGSAVE", "SCHEDULE")
        deadline = time.monotonic() + timeout
        while True:
            info = client.info("persistence")
            if int(info.get("rdb_saves", 0)) > before and not info.get("rdb_bgsave_in_progress"):
                break
            if time.monotonic() > deadline:
                raise GraphUnavailable(f"graph snapshot not finished after {timeout:.0f}s")
            time.sleep(0.05)
        if info.get("rdb_last_bgsave_status") != "ok":
            raise GraphUnavailable(f"the graph server could not write its snapshot; see {server.logfile}")
        target.parent.mkdir(parents=True, exist_ok=True)
        # Move the dump out of the server's directory: it is ours, and must not linger as a second copy.
        shutil.move(str(dump), str(target))
        os.chmod(target, 0o600)
    return started


@dataclass
class SnapshotFacts:
    """What one snapshot holds: node counts per label of each graph, and the blob hashes versions point at."""

    graphs: dict[str, dict[str, int]] = field(default_factory=dict)
    version_hashes: dict[str, list[str]] = field(default_factory=dict)
    keys: int = 0


class _SnapshotServer(EmbeddedServer):
    """A throwaway server that loads one RDB file, without any persistence of its own."""

    def __init__(self, directory: Path, rdb_name: str) -> None:
        super().__init__(directory)
        self.rdb_name = rdb_name

    def _spawn(self) -> None:
        server, module = _binaries()
        self._process = subprocess.Popen(  # noqa: S603 - fixed binary from our own dependency
            [server, "--loadmodule", module, "--port", "0", "--unixsocket", str(self.socket),
             "--unixsocketperm", "700", "--dir", str(self.directory), "--dbfilename", self.rdb_name,
             "--pidfile", str(self.pidfile), "--logfile", str(self.logfile), "--daemonize", "no",
             "--appendonly", "no", "--save", "", "--protected-mode", "yes"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )


@contextlib.contextmanager
def opened(rdb: Path) -> Iterator[EmbeddedServer]:
    """A throwaway server holding the snapshot ``rdb`` (a hard link or copy of it, in a short temp path)."""
    work = Path(tempfile.mkdtemp(prefix="ht-rdb-"))
    try:
        os.chmod(work, 0o700)
        try:
            os.link(rdb, work / "snapshot.rdb")
        except OSError:
            shutil.copyfile(rdb, work / "snapshot.rdb")
        server = _SnapshotServer(work, "snapshot.rdb")
        server.ensure_running(timeout=SNAPSHOT_TIMEOUT)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def inspect(rdb: Path) -> SnapshotFacts:
    """Count what the snapshot holds, by loading it into a throwaway server."""
    from graph.falkordb_backend import FalkorStore
    from graph.queries import backup as q

    facts = SnapshotFacts()
    with opened(rdb) as server, contextlib.closing(server.client(timeout=300)) as client:
        facts.keys = int(client.dbsize())
        names = sorted(n.decode() if isinstance(n, bytes) else str(n) for n in client.execute_command("GRAPH.LIST"))
        for name in names:
            store = FalkorStore(server, name)
            try:
                facts.graphs[name] = store.counts()
                facts.version_hashes[name] = sorted(row["sha256"] for row in store.run(q.VERSION_HASHES))
            finally:
                store.close()
    return facts


def install(rdb: Path, graph_dir: Path) -> None:
    """Lay ``rdb`` down as the whole state of the server of ``graph_dir`` (which must hold no data yet)."""
    aof = graph_dir / AOF_DIR
    if aof.exists() and any(aof.iterdir()):
        raise GraphUnavailable(f"{aof} already holds data")
    aof.mkdir(parents=True, exist_ok=True)
    os.chmod(graph_dir, 0o700)
    os.chmod(aof, 0o700)
    shutil.move(str(rdb), str(aof / AOF_BASE))
    os.chmod(aof / AOF_BASE, 0o600)
    manifest = aof / AOF_MANIFEST
    manifest.write_text(f"file {AOF_BASE} seq 1 type b\n", encoding="ascii")
    os.chmod(manifest, 0o600)
