"""Crash restart of the embedded graph server.

``kill -9`` loses no acknowledged write, the restart replays the AOF quickly even when the
whole graph sits in its incremental part, and what a crash leaves behind (pid file, socket)
neither blocks a new start nor leads to a second server on the same data directory. Every
test runs its own server on its own short temporary directory, never the session server.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import ROOT, wait_until

from bench import graph_statements as q
from graph.embedded_server import EmbeddedServer
from graph.errors import GraphError
from graph.falkordb_backend import FalkorStore

GRAPH = "restart_test"
PEOPLE, LINKS = 20_000, 100_000
RESTART_BUDGET_S = 10.0
NO_REWRITE_MB = 1_000_000  # an auto-rewrite threshold these graphs never reach
MB = 1024 * 1024


@pytest.fixture
def data_dir() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="ht-gr-"))  # short: unix socket path limit
    yield directory
    EmbeddedServer(directory).stop()
    shutil.rmtree(directory, ignore_errors=True)


def _store(server: EmbeddedServer) -> FalkorStore:
    store = FalkorStore(server, GRAPH, retry_seconds=0)
    store.ensure_schema()
    return store


def _kill_9(server: EmbeddedServer) -> int:
    """SIGKILL the server the way a crash would; the socket and pid file stay behind."""
    pid = server.pid()
    assert pid is not None, "server not running"
    os.kill(pid, signal.SIGKILL)
    if server.process is not None:
        server.process.wait(timeout=30)  # reap our own child
    assert wait_until(lambda: server.pid() is None, timeout=10)
    assert server.socket.exists() and server.pidfile.exists(), "a kill -9 should leave socket and pid file"
    return pid


def _restart(directory: Path, **options: int) -> tuple[EmbeddedServer, float]:
    """Restart as a new process would: a fresh EmbeddedServer on the same directory."""
    server = EmbeddedServer(directory, **options)
    started = time.perf_counter()
    assert server.ensure_running(timeout=60) is True, "a crashed server must be replaced by a new one"
    return server, time.perf_counter() - started


def _redis_servers_on(directory: Path) -> list[int]:
    """Every redis-server working in ``directory`` (redis rewrites its command line, but chdirs to --dir)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if b"redis-server" in (entry / "cmdline").read_bytes() and os.readlink(entry / "cwd") == str(
                    directory.resolve()
                ):
                    pids.append(int(entry.name))
    return pids


@pytest.mark.slow
@pytest.mark.parametrize(
    "rewrite_min_mb", [None, NO_REWRITE_MB], ids=["default-aof-policy", "no-rewrite-whole-graph-replayed"]
)
def test_kill_9_right_after_bulk_load_restarts_fast_with_every_write(
    data_dir: Path, rewrite_min_mb: int | None
) -> None:
    options = {} if rewrite_min_mb is None else {"aof_rewrite_min_mb": rewrite_min_mb}
    server = EmbeddedServer(data_dir, **options)
    server.ensure_running()
    store = _store(server)
    q.load(store, PEOPLE, LINKS)
    before = q.snapshot(store, PEOPLE)
    assert before["fingerprint"]["people"] == PEOPLE and before["fingerprint"]["links"] == LINKS
    _, incremental = server.aof_sizes()
    if rewrite_min_mb is not None:
        # Nothing compacted: the restart must replay the entire load from the incremental AOF.
        assert incremental > 2 * MB
    store.close()
    _kill_9(server)

    restarted, elapsed = _restart(data_dir, **options)

    after = q.snapshot(FalkorStore(restarted, GRAPH), PEOPLE)
    assert after == before
    assert elapsed < RESTART_BUDGET_S, f"restart took {elapsed:.1f}s replaying {incremental / MB:.1f} MB"


def test_every_acknowledged_write_survives_kill_9_during_a_stream_of_writes(data_dir: Path) -> None:
    server = EmbeddedServer(data_dir)
    server.ensure_running()
    store = _store(server)
    acknowledged: list[int] = []
    failures: list[Exception] = []

    def write_one_by_one() -> None:
        n = 0
        while True:
            try:
                store.run(q.CREATE_PEOPLE, {"rows": list(q.people_rows(1, start=n))})
            except GraphError as error:  # the server died under us (GraphUnavailable is a GraphError)
                failures.append(error)
                return
            acknowledged.append(n)
            n += 1

    writer = threading.Thread(target=write_one_by_one, daemon=True)
    writer.start()
    assert wait_until(lambda: len(acknowledged) >= 500, timeout=20), "writes did not get through"
    _kill_9(server)
    writer.join(timeout=30)
    assert not writer.is_alive() and failures, "the writer should have seen the server die"
    store.close()

    restarted, _ = _restart(data_dir)

    fingerprint = q.snapshot(FalkorStore(restarted, GRAPH), 1, sample=0)["fingerprint"]
    count = fingerprint["people"]
    # Only the write in flight at the kill may or may not have landed.
    assert count in (len(acknowledged), len(acknowledged) + 1)
    # Writes were sequential, so the survivors must be exactly the first `count` of them.
    assert fingerprint["people_sum"] == count * (count - 1) // 2


def test_stale_pid_file_and_socket_after_kill_9_do_not_block_a_new_start(data_dir: Path) -> None:
    server = EmbeddedServer(data_dir)
    assert server.ensure_running() is True
    store = _store(server)
    store.run(q.CREATE_PEOPLE, {"rows": list(q.people_rows(3))})
    store.close()
    old_pid = _kill_9(server)
    assert not server.status().running

    restarted, elapsed = _restart(data_dir)

    assert restarted.pid() not in (None, old_pid)
    assert restarted.status().running
    assert elapsed < 5, f"recovering from stale files took {elapsed:.1f}s"
    assert q.snapshot(FalkorStore(restarted, GRAPH), 3, sample=0)["fingerprint"]["people"] == 3
    assert _redis_servers_on(data_dir) == [restarted.pid()]


def test_pid_file_of_another_program_and_a_dead_socket_are_cleared_without_harm(data_dir: Path) -> None:
    bystander = subprocess.Popen(["sleep", "60"])  # a live process that is not our server
    try:
        server = EmbeddedServer(data_dir)
        server.pidfile.write_text(f"{bystander.pid}\n")
        with socket.socket(socket.AF_UNIX) as dead:
            dead.bind(str(server.socket))  # a socket file nobody listens on
        assert server.pid() is None

        assert server.ensure_running() is True

        assert bystander.poll() is None, "an unrelated process named in a stale pid file must not be touched"
        assert server.pid() not in (None, bystander.pid)
        assert server.status().running
    finally:
        bystander.kill()
        bystander.wait()


def test_a_second_server_object_attaches_to_the_running_server(data_dir: Path) -> None:
    first = EmbeddedServer(data_dir)
    assert first.ensure_running() is True
    second = EmbeddedServer(data_dir)

    assert second.ensure_running() is False

    assert second.pid() == first.pid() is not None
    assert second.process is None
    assert _redis_servers_on(data_dir) == [first.pid()]


def test_processes_racing_to_start_the_server_end_up_with_one(data_dir: Path) -> None:
    script = (
        "import json, sys; from pathlib import Path; from graph.embedded_server import EmbeddedServer; "
        "s = EmbeddedServer(Path(sys.argv[1])); started = s.ensure_running(); "
        "print(json.dumps({'started': started, 'pid': s.pid()}))"
    )
    racers = [
        subprocess.Popen([sys.executable, "-c", script, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(3)
    ]
    results = [json.loads(racer.communicate(timeout=60)[0]) for racer in racers]

    assert sum(result["started"] for result in results) == 1
    assert len({result["pid"] for result in results}) == 1
    assert _redis_servers_on(data_dir) == [results[0]["pid"]]


def test_compact_if_grown_rewrites_only_past_its_bound_and_the_snapshot_restores_everything(data_dir: Path) -> None:
    server = EmbeddedServer(data_dir, aof_rewrite_min_mb=NO_REWRITE_MB)
    server.ensure_running()
    store = _store(server)
    q.load(store, 2000, 10_000)
    before = q.snapshot(store, 2000)
    store.close()
    _, incremental = server.aof_sizes()
    assert incremental > 0.2 * MB

    assert server.compact_if_grown(max_incremental_mb=incremental / MB + 1) is False
    assert server.aof_sizes()[1] == incremental
    assert server.compact_if_grown(max_incremental_mb=0.1, wait=60) is True

    base, left = server.aof_sizes()
    assert base > 0.1 * MB and left < 0.01 * MB
    _kill_9(server)
    restarted, _ = _restart(data_dir, aof_rewrite_min_mb=NO_REWRITE_MB)
    assert q.snapshot(FalkorStore(restarted, GRAPH), 2000) == before
