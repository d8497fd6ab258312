"""``huitong serve`` supervises its children: a killed graph server is noticed and replaced,
SIGTERM stops everything cleanly, and data survives a restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from helpers import ROOT, run_cli, wait_until

from graph import EmbeddedServer
from settings import load_settings

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _healthz(port: int) -> tuple[int, dict[str, str]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())
    except OSError:
        return 0, {}


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


@pytest.fixture
def platform():  # type: ignore[no-untyped-def]
    data_dir = Path(tempfile.mkdtemp(prefix="ht-serve-"))
    port = _free_port()
    env = {**os.environ, "HUITONG_DATA_DIR": str(data_dir), "HUITONG_WORKERS": "1", "HUITONG_WEB_WORKERS": "1",
           "HUITONG_DEMO_DOCUMENTS": "0"}

    def start() -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "-m", "webapp", "serve", "--port", str(port)], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        assert wait_until(lambda: _healthz(port)[0] == 200, timeout=90), "platform did not become healthy"
        return process

    processes: list[subprocess.Popen[bytes]] = []
    yield data_dir, port, env, start, processes
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
    EmbeddedServer(data_dir / "graph").stop()


def test_kill_9_of_graph_server_is_reported_and_repaired(platform) -> None:  # type: ignore[no-untyped-def]
    data_dir, port, env, start, processes = platform
    processes.append(start())
    server = EmbeddedServer(data_dir / "graph")
    before = json.loads(run_cli("check", "--json", env=env).stdout)["counts"]
    assert before["Person"] > 100  # demo data on first run
    old_pid = server.pid()
    assert old_pid is not None
    os.kill(old_pid, signal.SIGKILL)
    assert wait_until(lambda: server.pid() not in (None, old_pid), timeout=30), "graph server not restarted"
    seen: list[tuple[int, dict[str, object]]] = []
    healthy = (200, {"graph": "ok", "broker": "ok", "index": "ok"})
    assert wait_until(lambda: seen.append(_healthz_checks(port)) or seen[-1] == healthy, timeout=60), seen[-3:]
    after = run_cli("check", "--json", env=env)
    assert after.returncode == 0
    assert json.loads(after.stdout)["counts"] == before


def test_sigterm_stops_every_child_and_data_survives_restart(platform) -> None:  # type: ignore[no-untyped-def]
    data_dir, port, env, start, processes = platform
    first = start()
    processes.append(first)
    children = _children(first.pid)
    assert len(children) >= 3  # worker, beat, web (+ the graph server)
    counts = json.loads(run_cli("check", "--json", env=env).stdout)["counts"]
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0
    assert wait_until(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), timeout=30)
    assert _healthz(port)[0] == 0
    assert not EmbeddedServer(data_dir / "graph").status().running
    processes.append(start())
    assert _lasting(json.loads(run_cli("check", "--json", env=env).stdout)["counts"]) == _lasting(counts)


def _lasting(counts: dict[str, int]) -> dict[str, int]:
    """Counts that only change when someone acts: beat's reminders add notifications on their own clock."""
    return {label: n for label, n in counts.items() if label != "Notification"}


def _healthz_checks(port: int) -> tuple[int, dict[str, object]]:
    """Status and the pass/fail checks of /healthz (not its reports, such as workers or an index build)."""
    status, body = _healthz(port)
    return status, {k: v for k, v in body.items() if k in ("graph", "broker", "index")}


def test_healthz_reports_a_missing_graph(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    from webapp import create_app

    app = create_app(load_settings(data_dir=tmp_path_factory.mktemp("down")))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["graph"] == "error"


def test_check_reports_a_killed_graph_server(tmp_path_factory) -> None:  # type: ignore[no-untyped-def]
    data_dir = Path(tempfile.mkdtemp(prefix="ht-kill-"))
    server = EmbeddedServer(data_dir / "graph")
    server.ensure_running()
    pid = server.pid()
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text(), 10)
    time.sleep(0.1)
    result = run_cli("check", "--json", env={"HUITONG_DATA_DIR": str(data_dir)})
    assert result.returncode == 1
    assert json.loads(result.stdout)["graph"] == "error"
    assert server.ensure_running() is True  # stale pid/socket cleared, a new server started
    server.stop()
