"""One door for every action, seen from outside: refusals that disclose nothing, access decided once,
one audit event per page open, and a provenance timeline that reads cannot crowd out.

The refusal test is driven by the app's url_map: every route whose path takes an object id is called
by a signed-in person who may not see the object, and must answer exactly as for an id that does not
exist (same status, same body once the id itself is blanked out), never showing the object's title.
Object kinds are filled from :data:`HIDDEN_OBJECTS`; a route whose id kind is listed there is covered
automatically (workflow runs, tasks and ingest jobs join by adding their maker).
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from document_pages_support import api_upload, login, make_docx, serving, text, token
from documents_helpers import People, org_graph
from flask import Flask
from flask.testing import FlaskClient

from graph import audit
from graph.embedded_server import EmbeddedServer
from graph.falkordb_backend import FalkorStore
from graph.queries import audit as audit_q
from graph.queries import permissions as permission_q
from graph.workflows import reminders
from settings import Settings
from webapp import services

SECRET_TITLE = f"Secret merger plan {uuid.uuid4().hex[:6]}"
# Path parameters that are not object ids, with a value that exists for every route using them.
FIXED_PARAMS = {"name": None}  # None: the first choice of the rule's own converter (e.g. a part name)
# Routes that answer alike for every id by design rather than by refusing: 申请权限 acknowledges any request
# (one for a missing document is silently dropped), with this status.
NEUTRAL_ANSWERS = {"errors.request_access": 200}


@pytest.fixture(scope="module")
def org(graph_server: EmbeddedServer) -> Iterator[FalkorStore]:
    with org_graph(graph_server) as graph:
        yield graph


@pytest.fixture(scope="module")
def people(org: FalkorStore) -> People:
    return People(org)


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


@dataclass
class World:
    org: FalkorStore
    owner: dict[str, str]
    owner_client: FlaskClient
    document_id: str
    version_id: str


def _document(world: World) -> str:
    return world.document_id


def _version(world: World) -> str:
    return world.version_id


def _notification(world: World) -> str:
    notice_id = f"n-{uuid.uuid4().hex}"
    reminders.notify(world.org, [{"person_id": world.owner["id"], "task_id": "none",
                                  "props": {"id": notice_id, "kind": "due_soon", "created_at": 0,
                                            "title": SECRET_TITLE}}], now=0)
    return notice_id


# id parameter of a route -> how to make an object the stranger may not see (owned by someone else).
HIDDEN_OBJECTS: dict[str, Callable[[World], str]] = {
    "document_id": _document,
    "version_id": _version,
    "notification_id": _notification,
}


def _world(site: Flask, org: FalkorStore, people: People) -> World:
    owner = people.one("LEGAL", 1)
    client = login(site, org, owner["id"])
    made = api_upload(client, [(make_docx("并购方案", title=SECRET_TITLE), "merger.docx")], domain="legal",
                      access="confidential", title=SECRET_TITLE)
    result = made.get_json()["results"][0]
    assert result["ok"], result
    return World(org, owner, client, result["document_id"], result["version_id"])


def _path(rule: Any, values: dict[str, str]) -> str:
    filled = dict(values)
    for name, converter in rule._converters.items():
        if name not in filled and hasattr(converter, "items"):
            filled[name] = sorted(converter.items)[0]  # any(...) converters: a valid choice
    built = rule.build(filled)
    assert built is not None, rule.rule
    return built[1]


def _object_routes(app: Flask) -> list[tuple[Any, str]]:
    """(rule, method) of every route taking an object id we know how to hide."""
    found = []
    for rule in app.url_map.iter_rules():
        ids = [a for a in rule.arguments if a not in FIXED_PARAMS]
        if not ids or rule.endpoint == "static":
            continue
        if not all(a in HIDDEN_OBJECTS for a in ids):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule, method))
    return found


def _call(client: FlaskClient, method: str, path: str) -> tuple[int, str]:
    if method == "GET":
        response = client.get(path)
    else:
        response = client.open(path, method=method, data={"csrf_token": token(client)})
    body = response.get_data(as_text=True) if not response.is_streamed else ""
    response.close()
    return response.status_code, body


def test_every_object_route_refuses_a_stranger_as_a_missing_id(site: Flask, org: FalkorStore,
                                                                 people: People) -> None:
    world = _world(site, org, people)
    stranger = login(site, org, people.one("MKT-BRD", 1)["id"])
    routes = _object_routes(site)
    covered = {rule.endpoint for rule, _ in routes}
    # the document page, its parts, content, sharing, comments, search's "why"/similar, notifications
    assert {"documents.page", "documents.part", "documents.download", "documents.share", "documents.comment",
            "search.why", "search.similar", "uploads.new_version", "notifications.mark_read",
            "errors.request_access"} <= covered
    hidden = {name: make(world) for name, make in HIDDEN_OBJECTS.items()}
    for rule, method in routes:
        ids = {name: hidden[name] for name in rule.arguments if name in HIDDEN_OBJECTS}
        randoms = {name: f"missing-{uuid.uuid4().hex}" for name in ids}
        status, body = _call(stranger, method, _path(rule, ids))
        missing_status, missing_body = _call(stranger, method, _path(rule, randoms))
        where = f"{method} {rule.rule}"
        assert status == missing_status, f"{where}: {status} for a hidden object, {missing_status} for a missing one"
        assert status in (400, 404, 405) or NEUTRAL_ANSWERS.get(rule.endpoint) == status, f"{where}: {status}"
        for name in ids:
            body, missing_body = body.replace(ids[name], "<ID>"), missing_body.replace(randoms[name], "<ID>")
        assert body == missing_body, f"{where}: the answer differs from a missing object's"
        assert SECRET_TITLE not in body and "merger" not in body, where
    # the owner, on the same routes, is not refused (the test data is right)
    assert world.owner_client.get(f"/documents/{world.document_id}").status_code == 200


class CountingStore:
    """The real store, counting the statements run through it by catalogue name."""

    def __init__(self, store: FalkorStore) -> None:
        self._store = store
        self.counts: dict[str, int] = {}

    def run(self, statement: Any, params: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        self.counts[statement.name] = self.counts.get(statement.name, 0) + 1
        return self._store.run(statement, params, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_opening_a_document_page_decides_access_once(site: Flask, org: FalkorStore, people: People) -> None:
    world = _world(site, org, people)
    reader = people.one("LEGAL", 2)
    world.owner_client.post(f"/documents/{world.document_id}/share", data={
        "csrf_token": token(world.owner_client), "kind": "person", "code": reader["username"], "access": "read"})
    client = login(site, org, reader["id"])
    counting = CountingStore(org)
    stores = site.extensions[services.STORES]
    stores[os.getpid()] = counting
    try:
        page = client.get(f"/documents/{world.document_id}")
        assert page.status_code == 200 and SECRET_TITLE in text(page)
        assert counting.counts.get(permission_q.ACCESS_PATHS.name) == 1, counting.counts
        counting.counts.clear()
        assert client.get(f"/documents/{world.document_id}/part/versions").status_code == 200
        assert counting.counts.get(permission_q.ACCESS_PATHS.name) == 1, counting.counts
    finally:
        stores[os.getpid()] = org


def _actions(org: FalkorStore, document_id: str) -> list[str]:
    where = audit.AuditFilter(target_kind="document", target_id=document_id)
    return [e["action"] for e in audit.list_events(org, where, limit=1000)]


def test_one_view_per_page_open_none_per_partial_refresh(site: Flask, org: FalkorStore, people: People) -> None:
    world = _world(site, org, people)
    client, document_id = world.owner_client, world.document_id
    before = _actions(org, document_id)
    assert client.get(f"/documents/{document_id}").status_code == 200
    after_open = _actions(org, document_id)
    assert len(after_open) == len(before) + 1 and after_open.count("document.view") == before.count(
        "document.view") + 1
    for part in ("summary", "text", "versions", "shares", "comments", "timeline", "related"):
        assert client.get(f"/documents/{document_id}/part/{part}").status_code == 200, part
    assert _actions(org, document_id) == after_open  # partial refreshes record nothing
    assert client.get(f"/documents/{document_id}/download").status_code == 200
    assert _actions(org, document_id).count("document.download") == 1


def test_provenance_keeps_shares_and_classification_after_many_reads(site: Flask, org: FalkorStore,
                                                                      people: People) -> None:
    world = _world(site, org, people)
    client, document_id = world.owner_client, world.document_id
    shared = client.post(f"/documents/{document_id}/share", data={
        "csrf_token": token(client), "kind": "department", "code": "LEGAL", "access": "read"})
    assert shared.status_code == 303
    page = text(client.get(f"/documents/{document_id}"))
    revision = re.search(r'name="revision" value="(\d+)"', page)
    assert revision
    changed = client.post(f"/documents/{document_id}/metadata", data={
        "csrf_token": token(client), "title": SECRET_TITLE, "domain": "legal", "access": "internal",
        "revision": revision.group(1)})
    assert changed.status_code == 303
    # A busy document: 1,200 page opens after the changes (more than the timeline shows).
    reader = people.one("LEGAL", 3)["id"]
    audit.record_many(org, [audit.Event("document.view", reader, "document", document_id, "10.0.0.1", None,
                                        10**13 + n) for n in range(1200)])
    timeline = text(client.get(f"/documents/{document_id}/part/timeline"))
    assert "shared" in timeline and "details changed" in timeline and "uploaded" in timeline
    assert "viewed" not in timeline
    rows = org.run(audit_q.DOCUMENT_HISTORY, {"document_id": document_id, "actions": ["document.view"],
                                              "limit": 5})
    assert len(rows) == 5  # the reads are there, in their own list
    owner_page = text(client.get(f"/documents/{document_id}")).split('id="reads"')[1]
    assert "viewed" in owner_page
    reader_client = login(site, org, reader)
    assert 'id="reads"' not in text(reader_client.get(f"/documents/{document_id}"))  # audit readers only
