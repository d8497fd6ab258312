"""The real ``huitong serve`` under hostile traffic, on 127.0.0.1 only, bounded in count and time:
hundreds of open live streams and hundreds of slow clients cost no request thread (pages and /healthz
keep answering); stream caps, session end and long Chinese queries behave as promised."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import quote

import pytest
import requests
from helpers import ROOT, wait_until
from serving_support import (
    Platform,
    closed_by_peer,
    cookie_header,
    csrf_token,
    get_status,
    open_stream,
    read_until,
    start_platform,
    trickle_heads,
)

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a real platform starts first

PER_PERSON = 10
PEOPLE = 30  # x PER_PERSON = 300 open streams, far above the request threads of one web process (32)
HEADER_TIMEOUT = 5
HEALTHZ_BOUND = 3.0  # seconds, for /healthz under the traffic below (50 ms on a quiet machine)
PAGE_BOUND = 5.0
RECHECK = 120  # seconds between periodic session re-checks of a stream


@pytest.fixture(scope="module")
def platform() -> Iterator[Platform]:
    # The periodic session re-check is far off: a stream closed within seconds was closed by the event.
    running = start_platform(HUITONG_STREAM_PER_PERSON=str(PER_PERSON), HUITONG_STREAM_RECHECK_SECONDS=str(RECHECK),
                             HUITONG_HEADER_TIMEOUT_SECONDS=str(HEADER_TIMEOUT), HUITONG_BODY_TIMEOUT_SECONDS="3",
                             HUITONG_MAX_UPLOAD_MB="1")
    yield running
    running.stop()


def test_hundreds_of_open_streams_leave_pages_answering(platform: Platform) -> None:
    people = platform.people(PEOPLE)
    sessions = [platform.sign_in(name) for name, _ in people]
    streams: list[socket.socket] = []
    try:
        for session in sessions:
            cookie = cookie_header(session)
            streams += [open_stream(platform.port, cookie) for _ in range(PER_PERSON)]
        ready = sum(b"event: ready" in read_until(conn, b"event: ready", 20) for conn in streams)
        assert ready == len(streams) == PEOPLE * PER_PERSON

        for _ in range(5):
            status, seconds = get_status(platform.base + "/healthz", timeout=10)
            assert status == 200 and seconds < HEALTHZ_BOUND, (status, seconds)
        started = time.monotonic()
        page = sessions[0].get(platform.base + "/inbox", timeout=10)
        assert page.status_code == 200 and time.monotonic() - started < PAGE_BOUND

        # One more stream of a person at the cap is refused, and says why in the reader's language.
        refused = open_stream(platform.port, cookie_header(sessions[0]))
        head = read_until(refused, "稍后再试".encode(), 10)
        assert head.startswith(b"HTTP/1.1 429"), head[:200]
        assert b"retry-after: 30" in head.lower()
        refused.close()

        # Events still reach the right streams (one bus connection per process fans them out).
        assert platform.publish(people[1][1], "inbox") >= 1
        first_of_second_person = streams[PER_PERSON]
        assert b"event: inbox" in read_until(first_of_second_person, b"event: inbox", 10)
    finally:
        for conn in streams:
            conn.close()


def test_logout_closes_the_stream(platform: Platform) -> None:
    name = platform.people(PEOPLE + 1)[-1][0]
    session = platform.sign_in(name)
    conn = open_stream(platform.port, cookie_header(session))
    try:
        assert b"event: ready" in read_until(conn, b"event: ready", 20)
        token = csrf_token(session.get(platform.base + "/inbox", timeout=30).text)
        assert session.post(platform.base + "/logout", data={"csrf_token": token}, allow_redirects=False,
                            timeout=30).status_code in (302, 303)
        # Announced on the bus: the stream ends at once, not at its next periodic re-check (RECHECK).
        started = time.monotonic()
        assert b"event: end" in read_until(conn, b"event: end", 10)
        assert time.monotonic() - started < 5
        assert closed_by_peer(conn, 10)
    finally:
        conn.close()


def test_deactivation_from_the_cli_closes_every_stream_at_once(platform: Platform) -> None:
    name = platform.people(PEOPLE + 2)[-1][0]
    first, second = platform.sign_in(name), platform.sign_in(name)
    streams = [open_stream(platform.port, cookie_header(first)), open_stream(platform.port, cookie_header(second))]
    other = platform.sign_in(platform.people(PEOPLE + 3)[-1][0])
    bystander = open_stream(platform.port, cookie_header(other))
    try:
        for conn in [*streams, bystander]:
            assert b"event: ready" in read_until(conn, b"event: ready", 20)
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "webapp", "user", "deactivate", name], cwd=ROOT, env=platform.env,
                       capture_output=True, text=True, timeout=120, check=True)
        for conn in streams:
            assert b"event: end" in read_until(conn, b"event: end", 10)
        assert time.monotonic() - started < 30  # the CLI's own start-up included; RECHECK is 120 s
        assert not closed_by_peer(bystander, 1)  # somebody else's session goes on
    finally:
        for conn in [*streams, bystander]:
            conn.close()


def test_slow_clients_cannot_starve_the_site(platform: Platform) -> None:
    """300 connections that trickle their request head; /healthz answers meanwhile, and the server cuts
    the slow ones off once their head is late (HUITONG_HEADER_TIMEOUT_SECONDS)."""
    latencies, cut_off = trickle_heads(platform.port, platform.base + "/healthz", 300, HEADER_TIMEOUT + 3)
    assert max(latencies) < HEALTHZ_BOUND, latencies
    assert cut_off == 300, f"{300 - cut_off} slow connections still open"


def test_a_long_chinese_query_is_not_414(platform: Platform) -> None:
    session = platform.sign_in(platform.people(1)[0][0])
    query = "跨部门协作知识图谱语义检索" * 150  # 1950 characters, ~17.5 KB percent-encoded
    answer = session.get(f"{platform.base}/search?q={quote(query)}", timeout=60)
    assert answer.status_code != 414 and answer.status_code < 500, answer.status_code
    assert wait_until(lambda: get_status(platform.base + "/healthz")[0] == 200, timeout=10)


def test_a_stalled_body_is_refused_and_files_come_whole(platform: Platform) -> None:
    conn = socket.create_connection(("127.0.0.1", platform.port), timeout=10)
    try:
        conn.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: 1000\r\n\r\nlogin=someone")
        head = read_until(conn, "请重试".encode(), 15)
        assert head.startswith(b"HTTP/1.1 408"), head[:100]
    finally:
        conn.close()
    english = socket.create_connection(("127.0.0.1", platform.port), timeout=10)
    try:  # the front words its answer in the language the browser asks for
        english.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Language: en-GB,en;q=0.9\r\n"
                        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nlogin=x")
        head = read_until(english, b"try again.", 15)
        assert head.startswith(b"HTTP/1.1 408") and b"arrived too slowly" in head, head[:300]
    finally:
        english.close()
    # A file answer is written out by the event loop after the request thread is free: all of it.
    served = requests.get(platform.base + "/static/app.css", timeout=30)
    assert served.status_code == 200 and served.content == (ROOT / "webapp" / "static" / "app.css").read_bytes()


def test_an_oversized_body_is_refused_unread(platform: Platform) -> None:
    conn = socket.create_connection(("127.0.0.1", platform.port), timeout=10)
    try:
        conn.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     + f"Content-Length: {5 * 1024 * 1024}\r\n\r\nlogin=x".encode())
        head = read_until(conn, b"\r\n\r\n", 15)
        assert head.startswith(b"HTTP/1.1 413"), head[:100]
        assert b"connection: close" in head.lower()
    finally:
        conn.close()
