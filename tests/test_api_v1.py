"""The REST API /api/v1 with personal access tokens: scopes, expiry and revocation, deactivated owners,
rate limits, refusals that look like missing objects, uploads and downloads, tasks, paging, CSRF."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from web_support import csrf_token, login, new_person

from graph import accounts, tokens
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore
from graph.queries import tokens as tq


def _actor(person: Any) -> Actor:
    return Actor(person.id, person.username, person.name, frozenset(person.roles), door="cli")


def bearer(store: FalkorStore, person: Any, scope: str = "write", **kwargs: Any) -> dict[str, str]:
    made = tokens.create(store, _actor(person), scope=scope, **kwargs)
    return {"Authorization": f"Bearer {made.token}", "Accept-Language": "en"}


@pytest.fixture
def api(app: Flask, demo: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setitem(app.config, "HUITONG_DOCUMENT_ENQUEUE", lambda *_a, **_k: None)
    return app.test_client()


def _upload(api: FlaskClient, headers: dict[str, str], content: bytes = b"budget plan 2026",
            name: str = "plan.txt", **fields: Any):  # type: ignore[no-untyped-def]
    data = {"domain": "finance", "access": "internal", **fields, "file": [(io.BytesIO(content), name)]}
    return api.post("/api/v1/documents", data=data, content_type="multipart/form-data", headers=headers)


def test_openapi_document_describes_every_operation(api: FlaskClient, demo: FalkorStore) -> None:
    headers = bearer(demo, new_person(demo), "read")
    spec = api.get("/api/v1/openapi.json", headers=headers).get_json()
    assert spec["openapi"].startswith("3.1")
    assert {"/api/v1/documents", "/api/v1/documents/{document_id}", "/api/v1/documents/{document_id}/download",
            "/api/v1/search", "/api/v1/decisions", "/api/v1/workflows", "/api/v1/tasks/{task_id}/actions",
            "/api/v1/notifications", "/api/v1/org/people", "/api/v1/org/departments"} <= set(spec["paths"])
    page = api.get("/api/v1/docs", headers=headers)
    assert page.status_code == 200 and b"swagger-ui-bundle.js" in page.data
    assert api.get("/static/vendor/swagger-ui-bundle.js").status_code == 200


def test_upload_download_round_trip_with_a_token(api: FlaskClient, demo: FalkorStore) -> None:
    headers = bearer(demo, new_person(demo))
    content = "预算 budget round trip".encode()
    stored = _upload(api, headers, content, "round.txt")
    assert stored.status_code == 201, stored.get_data(as_text=True)
    document_id = stored.get_json()["results"][0]["document_id"]
    got = api.get(f"/api/v1/documents/{document_id}", headers=headers)
    assert got.status_code == 200 and got.get_json()["id"] == document_id
    download = api.get(f"/api/v1/documents/{document_id}/download", headers=headers)
    assert download.status_code == 200 and download.data == content
    again = api.post(f"/api/v1/documents/{document_id}/versions", headers=headers, content_type="multipart/form-data",
                     data={"file": (io.BytesIO(content + b" v2"), "round.txt")})
    assert again.status_code == 201 and again.get_json()["results"][0]["number"] == 2
    assert api.get(f"/api/v1/documents/{document_id}/download", headers=headers).data == content + b" v2"
