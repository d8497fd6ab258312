"""A real ``huitong serve`` on 127.0.0.1 and raw-socket clients for the serving tests (nothing is mocked)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import requests
from helpers import ROOT, wait_until

from graph import EmbeddedServer

DEMO_PASSWORD = "serving-demo-password"
ADMIN_PASSWORD = "serving-admin-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get_status(url: str, timeout: float = 10.0) -> tuple[int, float]:
    """(status, seconds) of a GET; status 0 when it did not answer in time."""
    started = time.monotonic()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except OSError:
        status = 0
    return status, time.monotonic() - started


@dataclass
class Platform:
    port: int
    data_dir: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    log: Path = field(default_factory=Path)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.log = self.data_dir / "serve.log"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "webapp", "serve", "--port", str(self.port)], cwd=ROOT, env=self.env,
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT,
        )
        # First start: demo organisation, history and the model load (minutes on a busy 2-core machine).
        healthy = wait_until(lambda: get_status(self.base + "/healthz", 3)[0] == 200, timeout=600, interval=0.5)
        if not healthy:
            self.stop()  # no server left behind by a failed start
        assert healthy, f"platform did not become healthy: {self.log.read_text()[-3000:]}"

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
        EmbeddedServer(self.data_dir / "graph").stop()

    def people(self, count: int) -> list[tuple[str, str]]:
        """(username, id) of ``count`` active demo people other than admin."""
        listed = subprocess.run([sys.executable, "-m", "webapp", "user", "list", "--json"], cwd=ROOT, env=self.env,
                                capture_output=True, text=True, timeout=120, check=True)
        people = [p for p in json.loads(listed.stdout) if p.get("username") not in (None, "admin")
                  and p.get("active", True)]
        return [(p["username"], p["id"]) for p in people[:count]]

    def sign_in(self, username: str, session: requests.Session | None = None) -> requests.Session:
        session = session or requests.Session()
        page = session.get(self.base + "/login", timeout=30)
        token = csrf_token(page.text)
        password = ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD
        answer = session.post(self.base + "/login", data={"login": username, "password": password,
                                                          "csrf_token": token}, allow_redirects=False, timeout=30)
        assert answer.status_code == 302, answer.text[:300]
        return session

    def publish(self, person_id: str, event: str) -> int:
        """Publish on the platform's own bus, as a worker or a view would; the number of listeners reached."""
        import redis

        from graph import live as bus

        connection = redis.Redis(unix_socket_path=str(self.data_dir / "graph" / "redis.sock"))
        try:
            return int(connection.publish(bus.person_channel(person_id), bus.encode(event, {"n": 1})))
        finally:
            connection.close()


def csrf_token(page: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(r'"X-CSRFToken": "([^"]+)"', page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def start_platform(**settings: str) -> Platform:
    data_dir = Path(tempfile.mkdtemp(prefix="ht-serving-"))
    env = {**os.environ, "HUITONG_DATA_DIR": str(data_dir), "HUITONG_WORKERS": "1", "HUITONG_WEB_WORKERS": "1",
           "HUITONG_DEMO_DOCUMENTS": "0", "HUITONG_DEMO_PASSWORD": DEMO_PASSWORD,
           "HUITONG_ADMIN_PASSWORD": ADMIN_PASSWORD, **settings}
    env.pop("HUITONG_SECRET_KEY", None)
    platform = Platform(port=free_port(), data_dir=data_dir, env=env)
    platform.start()
    return platform


def cookie_header(session: requests.Session) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in session.cookies)


def open_stream(port: int, cookie: str, path: str = "/events") -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", port), timeout=30)
    conn.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                 f"Cookie: {cookie}\r\n\r\n".encode())
    return conn


def read_until(conn: socket.socket, marker: bytes, timeout: float) -> bytes:
    """Bytes read until ``marker`` shows up, the peer closes, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    seen = b""
    while marker not in seen and time.monotonic() < deadline:
        conn.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            break
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    return seen


def closed_by_peer(conn: socket.socket, timeout: float) -> bool:
    conn.settimeout(timeout)
    try:
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                return True
    except (TimeoutError, BlockingIOError):
        return False
    except OSError:
        return True


def trickle_heads(port: int, healthz: str, count: int, seconds: int) -> tuple[list[float], int]:
    """``count`` connections to ``port`` that send their request head one line a second for ``seconds``
    seconds, while ``healthz`` is fetched once a second (every fetch must answer 200). (/healthz latencies,
    slow connections the server had closed by the end)."""
    slow = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(count)]
    try:
        for conn in slow:
            conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        latencies = []
        for second in range(seconds):
            for conn in slow:
                with contextlib.suppress(OSError):  # already cut off by the server: what we want
                    conn.sendall(f"X-Slow-{second}: 1\r\n".encode())
            status, took = get_status(healthz, timeout=10)
            assert status == 200, status
            latencies.append(took)
            time.sleep(max(0.0, 1.0 - took))
        return latencies, sum(closed_by_peer(conn, 0.2) for conn in slow)
    finally:
        for conn in slow:
            conn.close()
