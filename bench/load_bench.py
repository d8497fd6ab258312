"""Load: 50 signed-in people (inbox, search with unique queries, document page, download) while 200 live
streams are open, against a real ``huitong serve`` on 127.0.0.1 — BEFORE (an older commit, checked out with
``git worktree add``) and AFTER (this tree), one after the other in the same run, on the same demo data.

Usage:
    git worktree add /tmp/loadbench-old 52e3fee
    python bench/load_bench.py [--old /tmp/loadbench-old] [--users 50] [--streams 200] [--seconds 60]
                               [--documents 120]

Load tool: locust (pinned in requirements-dev.txt), driven as a library. Only loopback addresses are
used; every phase is bounded in time, every request has a 10 s timeout (a request that times out is an
error). The machine's load average is recorded: other work on the machine shows in the figures.
Ends with one JSON line of the figures.
"""

from __future__ import annotations

# locust runs on gevent: patch before anything opens a socket.
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shutil  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import gevent  # noqa: E402
import requests  # noqa: E402
from locust import HttpUser, between, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEMO_PASSWORD = "load-bench-password"
REQUEST_TIMEOUT = 10.0
ACTIONS = ("inbox", "search", "document", "download")
WORDS = ["报销", "差旅", "预算", "合同", "审批", "采购", "招聘", "项目", "进度", "会议", "纪要", "安全", "培训",
         "budget", "contract", "review", "policy", "report", "design", "quarterly", "audit", "supplier", "travel"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(base: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited early (code {process.returncode})")
        try:
            if requests.get(base + "/healthz", timeout=3).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(1)
    raise SystemExit(f"{base} did not become healthy in {timeout:.0f}s")


def prepare_data(documents: int, data: Path | None, count: int) -> tuple[Path, list[str]]:
    """The demo (organisation, documents extracted and indexed, history) in a data dir, loaded once
    (or an existing one, from an earlier run), and the people who will use it."""
    env = {**os.environ, "HUITONG_DEMO_PASSWORD": DEMO_PASSWORD, "HUITONG_DEMO_DOCUMENTS": str(documents),
           "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    if data is None:
        data = Path(tempfile.mkdtemp(prefix="ht-loadbench-"))
        env["HUITONG_DATA_DIR"] = str(data)
        subprocess.run([PYTHON, "-m", "webapp", "demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    env["HUITONG_DATA_DIR"] = str(data)
    listed = subprocess.run([PYTHON, "-m", "webapp", "user", "list", "--json"], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    people = [p["username"] for p in json.loads(listed.stdout) if p["username"] != "admin" and p.get("active")]
    subprocess.run([PYTHON, "-m", "webapp", "stop-graph"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"demo data ({documents} documents) ready in {time.monotonic() - started:.0f}s: {data}", flush=True)
    return data, people[:count]


class Server:
    def __init__(self, label: str, tree: Path, data: Path) -> None:
        self.label, self.tree, self.data, self.port = label, tree, data, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        env = {**os.environ, "HUITONG_DATA_DIR": str(self.data), "PYTHONPATH": str(self.tree),
               "HUITONG_DEMO_PASSWORD": DEMO_PASSWORD}
        self.log = (self.data / "bench-serve.log").open("wb")
        self.process = subprocess.Popen([PYTHON, "-m", "webapp", "serve", "--port", str(self.port), "--no-demo"],
                                        cwd=self.tree, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        wait_healthy(self.base, self.process, 300)
        return self

    def __exit__(self, *_: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.log.close()


def sign_in(base: str, username: str) -> dict[str, str]:
    session = requests.Session()
    page = session.get(base + "/login", timeout=60).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token, "no CSRF token on the login page"
    answer = session.post(base + "/login", data={"login": username, "password": DEMO_PASSWORD,
                                                 "csrf_token": token.group(1)}, allow_redirects=False, timeout=60)
    if answer.status_code != 302:
        raise SystemExit(f"sign-in of {username} failed: {answer.status_code}")
    return session.cookies.get_dict()


def readable_documents(base: str, cookies: dict[str, str]) -> list[str]:
    page = requests.get(base + "/documents", cookies=cookies, timeout=60).text
    return sorted(set(re.findall(r'href="/documents/([0-9A-Za-z-]{8,})"', page)))


def open_streams(port: int, cookies: list[dict[str, str]], count: int) -> list[socket.socket]:
    """``count`` live streams, shared out among the people (a few tabs each); their answers are not awaited."""
    streams = []
    for jar in itertools.islice(itertools.cycle(cookies), count):
        conn = socket.create_connection(("127.0.0.1", port), timeout=30)
        cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
        conn.sendall(f"GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n"
                     f"Cookie: {cookie}\r\n\r\n".encode())
        streams.append(conn)
    return streams


def drain(streams: list[socket.socket]) -> gevent.Greenlet:
    """Read the streams as a browser would (keep-alives, events), so no buffer fills up."""

    def one(conn: socket.socket) -> None:
        conn.settimeout(None)
        try:
            while conn.recv(65536):
                pass
        except OSError:
            return

    return gevent.spawn(lambda: gevent.joinall([gevent.spawn(one, conn) for conn in streams]))


def make_user(people: list[tuple[dict[str, str], list[str]]]) -> type[HttpUser]:
    pool = itertools.cycle(people)
    serial = itertools.count()

    class Person(HttpUser):
        wait_time = between(0.5, 1.5)

        def on_start(self) -> None:
            cookies, self.documents = next(pool)
            self.client.cookies.update(cookies)

        @task(3)
        def inbox(self) -> None:
            self.client.get("/inbox", name="inbox", timeout=REQUEST_TIMEOUT)

        @task(3)
        def search(self) -> None:
            # Unique every time: no cache of any kind can answer it.
            query = f"{random.choice(WORDS)}{random.choice(WORDS)} {next(serial)}"
            self.client.get("/search", params={"q": query}, name="search", timeout=REQUEST_TIMEOUT)

        @task(2)
        def document(self) -> None:
            if self.documents:
                self.client.get(f"/documents/{random.choice(self.documents)}", name="document",
                                timeout=REQUEST_TIMEOUT)

        @task(1)
        def download(self) -> None:
            if self.documents:
                self.client.get(f"/documents/{random.choice(self.documents)}/download", name="download",
                                timeout=REQUEST_TIMEOUT)

    return Person


def phase(server: Server, people: list[str], users: int, streams: int, seconds: float) -> dict[str, Any]:
    """Sign in, open the streams, run the load, return figures per action."""
    cookies = [sign_in(server.base, name) for name in people]
    documents = [readable_documents(server.base, jar) for jar in cookies]
    load_before = os.getloadavg()[0]
    # The machine's pace before any load: one person's unique searches, one after another.
    solo = []
    for n in range(10):
        started = time.monotonic()
        requests.get(server.base + "/search", params={"q": f"{WORDS[n]}{WORDS[-n - 1]} solo {n}"},
                     cookies=cookies[0], timeout=60)
        solo.append((time.monotonic() - started) * 1000)
    open_ = open_streams(server.port, cookies, streams)
    drainer = drain(open_)
    gevent.sleep(2)
    env = Environment(user_classes=[make_user(list(zip(cookies, documents, strict=True)))], host=server.base)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(5)  # everyone is in; measure from here
    env.stats.reset_all()
    gevent.sleep(seconds)
    runner.quit()
    figures: dict[str, Any] = {"load_average": [round(load_before, 2), round(os.getloadavg()[0], 2)],
                               "solo_search_p50_ms": round(sorted(solo)[len(solo) // 2])}
    total = env.stats.total
    figures["total"] = {"requests": total.num_requests, "errors": total.num_failures,
                        "rps": round(total.num_requests / seconds, 1)}
    for action in ACTIONS:
        entry = env.stats.entries.get((action, "GET"))
        if entry is None or not entry.num_requests:
            figures[action] = {"requests": 0}
            continue
        figures[action] = {
            "requests": entry.num_requests, "errors": entry.num_failures,
            "rps": round(entry.num_requests / seconds, 1),
            "p50_ms": entry.get_response_time_percentile(0.5), "p95_ms": entry.get_response_time_percentile(0.95),
        }
    errors = {f"{e.method} {e.name}: {e.error}"[:160]: e.occurrences for e in env.stats.errors.values()}
    figures["error_kinds"] = dict(sorted(errors.items(), key=lambda kv: -kv[1])[:5])
    for conn in open_:
        conn.close()
    drainer.kill()
    return figures


def report(label: str, figures: dict[str, Any]) -> None:
    print(f"\n== {label}: load average {figures['load_average']}, one search alone before the load "
          f"{figures['solo_search_p50_ms']} ms (p50); total {figures['total']}")
    for action in ACTIONS:
        print(f"  {action:9} {figures[action]}")
    if figures["error_kinds"]:
        print(f"  errors: {figures['error_kinds']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--old", type=Path, default=Path("/tmp/loadbench-old"),
                        help="checkout of the BEFORE commit (git worktree add /tmp/loadbench-old 52e3fee)")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--documents", type=int, default=120)
    parser.add_argument("--after-only", action="store_true", help="skip the BEFORE phase")
    parser.add_argument("--data", type=Path, default=None, help="reuse the demo data dir of an earlier run")
    args = parser.parse_args()
    if not args.after_only and not (args.old / "webapp").is_dir():
        raise SystemExit(f"{args.old} is not a checkout: git worktree add {args.old} 52e3fee")
    data, people = prepare_data(args.documents, args.data, args.users)
    results: dict[str, Any] = {"users": args.users, "streams": args.streams, "seconds": args.seconds,
                               "documents": args.documents, "cores": os.cpu_count()}
    phases = [("after", ROOT)] if args.after_only else [("before", args.old), ("after", ROOT)]
    for label, tree in phases:
        copy = Path(tempfile.mkdtemp(prefix=f"ht-loadbench-{label}-"))
        shutil.copytree(data, copy, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("*.sock", "*.pid", "*.lock", "bench-serve.log"))
        with Server(label, tree, copy) as server:
            results[label] = phase(server, people, args.users, args.streams, args.seconds)
        report(label, results[label])
    after = results["after"]
    p95s = [after[a]["p95_ms"] for a in ACTIONS if after[a].get("requests")]
    results["goal_met"] = bool(after["search"].get("p95_ms", 1e9) <= 300 and p95s and max(p95s) <= 1000
                               and after["total"]["errors"] == 0)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
