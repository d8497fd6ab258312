"""docker-compose's reverse proxy, for real: nginx runs the very ``deploy/nginx.conf.template`` in front of a
real ``huitong serve`` (both on 127.0.0.1, bounded in count and time). Rendered as the image renders it (its
envsubst step); only the placeholders differ from the container: the app's address, the listening port and
the static folder (built like the image's). nginx runs in the foreground with its own prefix, never the
system service. Pages, sign-in, static files with gzip, slow clients, the body limit, live streams and the
client address are all checked through the proxy."""

from __future__ import annotations

import html
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from helpers import ROOT, wait_until
from requests.adapters import HTTPAdapter
from serving_support import (
    Platform,
    cookie_header,
    csrf_token,
    free_port,
    get_status,
    open_stream,
    read_until,
    start_platform,
    trickle_heads,
)

from graph.throttle import PAIR_FREE_FAILURES
from webapp.views.assets import NODE_MODULES, VENDOR_FILES, VENDOR_FOLDERS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]  # a real platform starts first (minutes when busy)

TEMPLATE = ROOT / "deploy" / "nginx.conf.template"
NGINX = shutil.which("nginx", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))
MIME_TYPES = Path("/etc/nginx/mime.types")  # Debian's nginx-common and the official image: the same path
UPLOAD_MB = 1
HEALTHZ_BOUND = 3.0  # seconds, for /healthz through the proxy under the slow clients below
EVENT_BOUND = 1.0  # seconds an event may reach the proxied stream after the direct one
SLOW_CLIENTS = 300
PROXY_ONLY = "proxy-only.txt"  # a file in the proxy's static folder that the app does not have

if NGINX is None:
    pytest.skip("nginx is not installed (scripts/setup.sh --dev installs Debian's nginx)", allow_module_level=True)


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def render(template: str, env: Mapping[str, str]) -> str:
    """What the image's envsubst step writes: ``$NAME`` and ``${NAME}`` of every defined variable replaced,
    everything else (nginx's own variables) kept as it is."""
    return _PLACEHOLDER.sub(lambda m: env.get(m[1] or m[2], m[0]), template)


def main_config(prefix: Path) -> str:
    """The official image's /etc/nginx/nginx.conf, with this run's pid, logs and temporary files under
    ``prefix`` (errors logged at info: client time-outs show up there)."""
    user = "user root;" if os.geteuid() == 0 else ""  # workers read the test's private temporary folders
    return f"""{user}
worker_processes auto;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log info;
events {{ worker_connections 1024; }}
http {{
    include {MIME_TYPES};
    default_type application/octet-stream;
    access_log {prefix}/access.log;
    sendfile on;
    keepalive_timeout 65;
    client_body_temp_path {prefix}/temp/body;
    proxy_temp_path {prefix}/temp/proxy;
    fastcgi_temp_path {prefix}/temp/fastcgi;
    uwsgi_temp_path {prefix}/temp/uwsgi;
    scgi_temp_path {prefix}/temp/scgi;
    include {prefix}/conf.d/default.conf;
}}
"""


def static_root(target: Path) -> Path:
    """The image's /srv/huitong/static (Dockerfile stage ``proxy``): the app's static folder and the npm
    files under their public names, plus one file only the proxy has."""
    shutil.copytree(ROOT / "webapp" / "static", target)
    for name, relative in VENDOR_FILES.items():
        (target / "vendor" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(NODE_MODULES / relative, target / "vendor" / name)
    for name, relative in VENDOR_FOLDERS.items():
        shutil.copytree(NODE_MODULES / relative, target / "vendor" / name)
    (target / PROXY_ONLY).write_text("served by nginx\n")
    return target


@dataclass
class Proxy:
    port: int
    prefix: Path
    process: subprocess.Popen[bytes]

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def error_log(self) -> str:
        return (self.prefix / "error.log").read_text(encoding="utf-8", errors="replace")


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    # Behind one trusted proxy, as web in docker-compose (HUITONG_PROXY_HOPS=1).
    running = start_platform(HUITONG_MAX_UPLOAD_MB=str(UPLOAD_MB), HUITONG_PROXY_HOPS="1")
    yield running
    running.stop()


@pytest.fixture(scope="module")
def proxy(platform: Platform) -> Iterator[Proxy]:
    prefix = Path(tempfile.mkdtemp(prefix="ht-nginx-"))
    port = free_port()
    placeholders = {"HUITONG_MAX_UPLOAD_MB": str(UPLOAD_MB), "PROXY_UPSTREAM": f"127.0.0.1:{platform.port}",
                    "PROXY_LISTEN": f"127.0.0.1:{port}", "PROXY_STATIC_ROOT": str(static_root(prefix / "static"))}
    rendered = render(TEMPLATE.read_text(encoding="utf-8"), placeholders)
    assert "${" not in rendered
    (prefix / "conf.d").mkdir()
    (prefix / "conf.d" / "default.conf").write_text(rendered, encoding="utf-8")
    (prefix / "temp").mkdir()
    (prefix / "nginx.conf").write_text(main_config(prefix), encoding="utf-8")
    command = [str(NGINX), "-p", f"{prefix}/", "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    checked = subprocess.run([*command, "-t"], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=(prefix / "nginx.out").open("wb"))
    running = Proxy(port, prefix, process)
    try:
        ready = wait_until(lambda: get_status(running.base + "/healthz", 3)[0] == 200, timeout=30, interval=0.2)
        assert ready, f"nginx did not answer: {(prefix / 'nginx.out').read_text()} {running.error_log()[-3000:]}"
        yield running
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()


def through(platform: Platform, proxy: Proxy) -> Platform:
    """The same platform, reached through the proxy (its sign-in and URLs go to nginx)."""
    return replace(platform, port=proxy.port)


class FromAddress(HTTPAdapter):
    """Connections from another loopback address (127.0.0.0/8 is all local): a second client machine."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args: object, **kwargs: object) -> None:
        super().init_poolmanager(*args, source_address=(self.address, 0), **kwargs)  # type: ignore[arg-type]


def session_from(address: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def test_pages_and_sign_in_work_through_the_proxy(platform: Platform, proxy: Proxy) -> None:
    via = through(platform, proxy)
    session = via.sign_in(platform.people(1)[0][0])
    page = session.get(via.base + "/inbox", timeout=30)
    assert page.status_code == 200 and page.headers.get("Content-Encoding") == "gzip", page.headers
    # A long Chinese query (about 17.5 KB percent-encoded) fits the proxy's head buffers as it fits the app's.
    query = "跨部门协作知识图谱语义检索" * 150
    answer = session.get(f"{via.base}/search?q={quote(query)}", timeout=60)
    assert answer.status_code != 414 and answer.status_code < 500, answer.status_code
    signed_out = session.post(via.base + "/logout", data={"csrf_token": csrf_token(page.text)},
                              allow_redirects=False, timeout=30)
    assert signed_out.status_code in (302, 303)
    after = session.get(via.base + "/inbox", allow_redirects=False, timeout=30)
    assert after.status_code in (302, 303) and "/login" in after.headers["Location"]


def test_static_files_come_from_the_proxy_with_gzip(platform: Platform, proxy: Proxy) -> None:
    only = requests.get(f"{proxy.base}/static/{PROXY_ONLY}", timeout=10)
    assert only.status_code == 200 and only.text == "served by nginx\n"  # nginx answered, not the app:
    assert requests.get(f"{platform.base}/static/{PROXY_ONLY}", timeout=10).status_code == 404
    sources = {"app.css": ROOT / "webapp" / "static" / "app.css",
               "vendor/htmx.min.js": NODE_MODULES / VENDOR_FILES["htmx.min.js"],
               "vendor/bootstrap.min.css": NODE_MODULES / VENDOR_FILES["bootstrap.min.css"]}
    for path, source in sources.items():
        answer = requests.get(f"{proxy.base}/static/{path}", headers={"Accept-Encoding": "gzip"}, timeout=10)
        assert answer.status_code == 200, path
        assert answer.headers.get("Content-Encoding") == "gzip" and "Accept-Encoding" in answer.headers["Vary"]
        assert answer.headers.get("Cache-Control") == "max-age=3600", answer.headers
        assert answer.content == source.read_bytes(), path
    for name in (name for name in VENDOR_FILES if name.endswith(".mjs")):  # module scripts (pdf.js) need a JS type
        module = requests.get(f"{proxy.base}/static/vendor/{name}", timeout=10)
        assert module.status_code == 200 and module.headers["Content-Type"].startswith("text/javascript"), name
    # pdf.js's CMaps and standard fonts (PDFs with fonts not embedded) are the proxy's files too, byte for byte.
    for name, file_name in (("pdfjs/cmaps", "UniGB-UCS2-H.bcmap"), ("pdfjs/standard_fonts", "FoxitSerif.pfb")):
        answer = requests.get(f"{proxy.base}/static/vendor/{name}/{file_name}", timeout=10)
        assert answer.status_code == 200, name
        assert answer.content == (NODE_MODULES / VENDOR_FOLDERS[name] / file_name).read_bytes()
        assert requests.get(f"{platform.base}/static/vendor/{name}/{file_name}", timeout=10).content == answer.content
    # A file the proxy lacks gets the app's own 404 page in the reader's language, not nginx's English one.
    missing = requests.get(f"{proxy.base}/static/vendor/missing.js", timeout=10)
    direct = requests.get(f"{platform.base}/static/vendor/missing.js", timeout=10)
    assert missing.status_code == direct.status_code == 404
    title = re.search(r"<title>(.*?)</title>", direct.text, re.DOTALL)
    assert title and title[0] in missing.text and "nginx" not in missing.text


def test_slow_clients_wait_at_the_proxy_and_are_cut_off(platform: Platform, proxy: Proxy) -> None:
    """300 connections trickle their request head; /healthz answers through the proxy meanwhile, and nginx
    drops every slow one at its client_header_timeout."""
    found = re.search(r"client_header_timeout (\d+)s;", TEMPLATE.read_text(encoding="utf-8"))
    assert found
    header_timeout = int(found[1])
    latencies, cut_off = trickle_heads(proxy.port, proxy.base + "/healthz", SLOW_CLIENTS, header_timeout + 3)
    # Every fetch answered 200 within 10 s; the typical one at once, and all but two (busy moments of a
    # shared machine) within the bound. A starved server fails every fetch after its threads are taken.
    assert sorted(latencies)[len(latencies) // 2] < 1.0, latencies
    assert sum(took >= HEALTHZ_BOUND for took in latencies) <= 2, latencies
    assert cut_off == SLOW_CLIENTS, f"{SLOW_CLIENTS - cut_off} slow connections still open"
    assert proxy.error_log().count("client timed out") >= SLOW_CLIENTS  # nginx cut them off, not the app


def _oversized_post(port: int, path: str, headers: dict[str, str], declared: int) -> tuple[int, str]:
    """Send a request head declaring ``declared`` body bytes and only a few of them; (status, body)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        conn.putrequest("POST", path)
        for name, value in {**headers, "Content-Length": str(declared)}.items():
            conn.putheader(name, value)
        conn.endheaders(b"login=someone")
        answer = conn.getresponse()
        return answer.status, answer.read().decode("utf-8", errors="replace")
    finally:
        conn.close()


def test_the_body_limit_is_the_apps_and_the_refusal_is_worded(platform: Platform, proxy: Proxy) -> None:
    limit = UPLOAD_MB * 1024 * 1024
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    for language in ("zh-CN,zh;q=0.9", "en-GB,en;q=0.9"):
        as_json = {**form, "Accept-Language": language, "Accept": "application/json"}
        status, body = _oversized_post(platform.port, "/login", as_json, limit + 1)
        assert status == 413
        message = json.loads(body)["message"]
        # Through the proxy: refused by nginx unread, worded by the app in the reader's language and shape.
        status, body = _oversized_post(proxy.port, "/login", as_json, limit + 1)
        assert status == 413 and json.loads(body)["message"] == message
        status, body = _oversized_post(proxy.port, "/login", {**form, "Accept-Language": language}, limit + 1)
        assert status == 413 and message in html.unescape(body) and "<html" in body
    assert "client intended to send too large body" in proxy.error_log()
    # Exactly at the limit the body reaches the app (which answers about the sign-in, not the size).
    padded = "login=someone&password=x&pad=" + "x" * (limit - len("login=someone&password=x&pad="))
    answer = requests.post(proxy.base + "/login", data=padded.encode(), headers=form, timeout=60)
    assert answer.status_code != 413 and answer.status_code < 500, answer.status_code


def test_live_events_pass_through_unbuffered(platform: Platform, proxy: Proxy) -> None:
    """One person's stream straight from the app and one through the proxy get the same events; the proxied
    ones are never held back (a buffering proxy would keep small events until its buffer fills)."""
    name, person_id = platform.people(2)[1]
    session = through(platform, proxy).sign_in(name)
    cookie = cookie_header(session)
    direct, proxied = open_stream(platform.port, cookie), open_stream(proxy.port, cookie)
    try:
        head = read_until(proxied, b"event: ready", 20)
        assert head.startswith(b"HTTP/1.1 200") and b"event: ready" in head, head[:300]
        assert b"event: ready" in read_until(direct, b"event: ready", 20)
        lags = []
        for _ in range(3):
            assert platform.publish(person_id, "inbox") >= 1  # one bus subscription per web process
            assert b"event: inbox" in read_until(direct, b"event: inbox", 10)
            reached_app = time.monotonic()
            assert b"event: inbox" in read_until(proxied, b"event: inbox", 10)
            lags.append(time.monotonic() - reached_app)
        assert max(lags) < EVENT_BOUND, lags  # what the proxy adds (milliseconds on a quiet machine)
    finally:
        direct.close()
        proxied.close()


def test_the_app_throttles_the_address_the_proxy_reports(platform: Platform, proxy: Proxy) -> None:
    """A guesser at one address is slowed down whatever X-Forwarded-For it sends; the owner signing in from
    another address is not (if the app saw nginx's address for everybody, the owner would wait too)."""
    via = through(platform, proxy)
    name = platform.people(3)[2][0]
    guesser = session_from("127.0.0.2")
    statuses = []
    for attempt in range(PAIR_FREE_FAILURES + 2):
        token = csrf_token(guesser.get(via.base + "/login", timeout=30).text)
        answer = guesser.post(via.base + "/login", data={"login": name, "password": "wrong", "csrf_token": token},
                              headers={"X-Forwarded-For": f"198.51.100.{attempt}"}, allow_redirects=False,
                              timeout=30)
        statuses.append(answer.status_code)
    assert statuses[:PAIR_FREE_FAILURES] == [401] * PAIR_FREE_FAILURES and statuses[-1] == 429, statuses
    via.sign_in(name, session_from("127.0.0.3"))  # asserts the 302 of a successful sign-in
