"""Property-based check of /api/v1 against its own OpenAPI document (schemathesis on the running WSGI app):
generated requests with a real write token never get a 500, and every answer's status, content type, headers
and body conform to the schema."""

from __future__ import annotations

import io
import threading
import time
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from web_support import new_person

from graph import tokens
from graph.actor import Actor
from graph.falkordb_backend import FalkorStore

HEADERS: dict[str, str] = {}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_headers_conformance,
          response_schema_conformance]


@pytest.fixture
def api_schema(app: Flask, demo: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setitem(app.config, "HUITONG_DOCUMENT_ENQUEUE", lambda *_a, **_k: None)
    monkeypatch.setitem(app.config, "HUITONG", app.config["HUITONG"].model_copy(update={"api_rate_per_minute": 0}))
    if not HEADERS:
        person = new_person(demo)
        made = tokens.create(demo, Actor(person.id, person.username, person.name, frozenset(person.roles)),
                             scope="write")
        HEADERS["Authorization"] = f"Bearer {made.token}"
        # Something to find, fetch and share, so generated ids are not the only paths exercised.
        client = app.test_client()
        client.post("/api/v1/documents", headers=HEADERS, content_type="multipart/form-data",
                    data={"domain": "finance", "access": "internal", "file": (io.BytesIO(b"budget note"), "n.txt")})
    # Let the app's background warm-up finish its imports first: hypothesis walks sys.modules while it draws.
    for thread in threading.enumerate():
        if thread.name == "search-warm-up":
            thread.join(600)
    app.test_client().get("/api/v1/search?q=budget", headers=HEADERS)
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app, headers=HEADERS)


@pytest.mark.timeout(1200)
def test_every_answer_conforms_to_the_schema(api_schema: Any) -> None:
    # One hypothesis run per operation (schemathesis' pytest plugin does not load under pytest 9).
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
                  database=None)
        def conforms(case: Any) -> None:
            case.call_and_validate(headers=HEADERS, checks=CHECKS)

        started = time.perf_counter()
        conforms()
        checked.append(operation.label)
        print(f"{operation.label}: {time.perf_counter() - started:.1f} s")
    assert len(checked) >= 15, checked
