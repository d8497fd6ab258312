"""Shared pieces of the document page tests: an app serving a graph of its own, signed-in clients,
real DOCX/PNG files made on the fly, and an SSE reader."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import docx
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from web_support import csrf_token
from web_support import login as shared_login

from graph.falkordb_backend import FalkorStore
from ingest import processing
from settings import Settings
from webapp import services

ORG_ADMIN_PASSWORD = "org-test-password"  # documents_helpers.org_graph's admin password


@contextmanager
def serving(app: Flask, store: FalkorStore, settings: Settings) -> Iterator[None]:
    """The app serves ``store``; uploads are processed in the request (the worker's step, run here)."""
    stores = app.extensions.setdefault(services.STORES, {})
    previous = stores.get(os.getpid())
    stores[os.getpid()] = store

    def inline(version_id: str) -> None:
        processing.process_version_now(store, settings, version_id, index=False)  # announces

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
    client = shared_login(app, store, person_id, admin_password=ORG_ADMIN_PASSWORD, language=language)
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


