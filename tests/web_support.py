"""Helpers of the web tests: signed-in test clients, CSRF tokens, per-test client addresses, an SSE reader.

(The ``demo`` fixture they go with lives in conftest.py.)
"""

from __future__ import annotations

import os
import queue
import re
import threading
import time
import uuid

from flask import Flask
from flask.testing import FlaskClient

from graph import accounts, org
from graph.accounts import Person
from graph.falkordb_backend import FalkorStore

ADMIN_PASSWORD = os.environ["HUITONG_ADMIN_PASSWORD"]
PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    page = client.get(path)
    found = _TOKEN.search(page.get_data(as_text=True))
    assert found, f"no CSRF token on {path} ({page.status_code})"
    return found.group(1)


def sign_in(client: FlaskClient, login: str, password: str, *, next_url: str = ""):  # type: ignore[no-untyped-def]
    return client.post("/login", data={"login": login, "password": password, "next": next_url,
                                       "csrf_token": csrf_token(client)})


def new_person(store: FalkorStore, role: str = "member", password: str = PASSWORD) -> Person:
    username = f"t.{uuid.uuid4().hex[:10]}"
    return accounts.create_person(store, username=username, name=f"测试 {username}", department_code="FIN",
                                  password=password, role=role, email=f"{username}@test.example")


def client_from(app: Flask, address: str) -> FlaskClient:
    """A browser at its own address, so per-address throttling in one test cannot touch another."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def random_address() -> str:
    return f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250 + 1}"


_WITH_PASSWORD: set[tuple[str, str]] = set()  # setting it again would end that person's other sessions


def login(app: Flask, store: FalkorStore, person_id: str, *, admin_password: str = ADMIN_PASSWORD,
          language: str = "en") -> FlaskClient:
    """A client signed in as the person (given the test password once per graph, unless it is ``admin``)."""
    username = org.get_person(store, person_id)["username"]
    if username != "admin" and (store.graph_name, person_id) not in _WITH_PASSWORD:
        accounts.set_password(store, person_id, PASSWORD)
        _WITH_PASSWORD.add((store.graph_name, person_id))
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = random_address()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    response = sign_in(client, username, admin_password if username == "admin" else PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client


class SSE:
    """Reads an SSE response on a thread, so a test can wait for events with a timeout."""

    def __init__(self, client: FlaskClient, path: str) -> None:
        self.client, self.path, self.status, self.mimetype = client, path, None, None
        self.frames: queue.Queue[str] = queue.Queue()
        self.stop = threading.Event()
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.opened.wait(10)

    def _read(self) -> None:
        try:
            response = self.client.get(self.path, buffered=False)
            self.status, self.mimetype = response.status_code, response.mimetype
            self.opened.set()
            if response.mimetype == "text/event-stream":
                for chunk in response.response:
                    self.frames.put(chunk.decode() if isinstance(chunk, bytes) else chunk)
                    if self.stop.is_set():
                        break
            response.close()
        except Exception as error:
            self.frames.put(f"error: {error}")
            self.opened.set()

    def events(self, seconds: float, until: str | None = None) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and any(e == until for e, _ in found)):
            try:
                frame = self.frames.get(timeout=0.1)
            except queue.Empty:
                continue
            assert not frame.startswith("error:"), frame
            found += re.findall(r"^event: (\S+)\ndata: (.*)$", frame, re.M)
        return found

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=10)
        assert not self.thread.is_alive()
