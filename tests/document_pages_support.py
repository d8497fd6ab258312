"""Shared pieces of the document page tests: an app serving a graph of its own, signed-in clients,
real DOCX/PNG files made on the fly, and an SSE reader."""

from __future__ import annotations

import io
import os
import queue
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docx
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from test_auth import PASSWORD, csrf_token, random_address, sign_in

from graph import accounts, org
from graph.falkordb_backend import FalkorStore
from settings import Settings
from webapp import services
from workers import events

ORG_ADMIN_PASSWORD = "org-test-password"  # documents_helpers.org_graph's admin password
_WITH_PASSWORD: set[tuple[str, str]] = set()  # setting it again would end that person's other sessions


@contextmanager
def serving(app: Flask, store: FalkorStore, settings: Settings) -> Iterator[None]:
    """The app serves ``store``; uploads are processed in the request (the worker's step, run here)."""
    stores = app.extensions.setdefault(services.STORES, {})
    previous = stores.get(os.getpid())
    stores[os.getpid()] = store

    def inline(version_id: str) -> None:
        events.process_and_announce(store, settings, version_id, index=False)

    app.config["HUITONG_DOCUMENT_ENQUEUE"] = inline
    try:
        yield
    finally:
        app.config.pop("HUITONG_DOCUMENT_ENQUEUE", None)
        if previous is None:
            stores.pop(os.getpid(), None)
        else:
            stores[os.getpid()] = previous


_CLIENTS: dict[tuple[str, str, str], FlaskClient] = {}


def login(app: Flask, store: FalkorStore, person_id: str, language: str = "en", *, fresh: bool = False) -> FlaskClient:
    """A client signed in as the person (reused within a graph: password hashing is slow on purpose);
    ``fresh`` opens a session of its own."""
    key = (store.graph_name, person_id, language)
    if not fresh and key in _CLIENTS:
        return _CLIENTS[key]
    username = org.get_person(store, person_id)["username"]
    if username != "admin" and (store.graph_name, person_id) not in _WITH_PASSWORD:
        accounts.set_password(store, person_id, PASSWORD)
        _WITH_PASSWORD.add((store.graph_name, person_id))
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = random_address()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = language
    response = sign_in(client, username, ORG_ADMIN_PASSWORD if username == "admin" else PASSWORD)
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    if not fresh:
        _CLIENTS[key] = client
    return client


def token(client: FlaskClient) -> str:
    return csrf_token(client, "/documents/upload")


def make_docx(*paragraphs: str, title: str | None = None) -> bytes:
    document = docx.Document()
    if title:
        document.core_properties.title = title
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def make_png(width: int = 900, height: int = 600) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def api_upload(client: FlaskClient, files: list[tuple[bytes, str]], **fields: Any):  # type: ignore[no-untyped-def]
    data: dict[str, Any] = {"domain": "finance", "access": "internal", **fields, "csrf_token": token(client)}
    data["file"] = [(io.BytesIO(content), name) for content, name in files]
    return client.post("/api/v1/documents", data=data, content_type="multipart/form-data",
                       headers={"Accept": "application/json"})


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


class SSE:
    """Reads an SSE response on a thread, so a test can wait for events with a timeout."""

    def __init__(self, client: FlaskClient, path: str) -> None:
        self.client, self.path, self.status = client, path, None
        self.frames: queue.Queue[str] = queue.Queue()
        self.stop = threading.Event()
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()
        self.opened.wait(10)

    def _read(self) -> None:
        try:
            response = self.client.get(self.path, buffered=False)
            self.status = response.status_code
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
