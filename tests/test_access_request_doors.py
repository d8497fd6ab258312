"""The other doors of 申请权限 and of the inbox: ``POST /api/v1/documents/<id>/access-requests``,
``huitong request-access`` and ``huitong inbox``, each over the use case the web pages call."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator

import pytest
from document_pages_support import api_upload, login, make_docx, serving
from documents_helpers import People
from flask import Flask
from flask.testing import FlaskClient
from helpers import run_cli

from graph import audit, throttle, tokens
from graph.actor import Actor
from graph.cypher import cypher
from graph.falkordb_backend import FalkorStore
from graph.usecases import Context, access_requests, active_actor
from graph.workflows import inbox
from settings import Settings

TITLE = f"Audit committee notes {uuid.uuid4().hex[:6]}"
DAY = 24 * 3_600_000

SEED_TASKS = cypher("test.access_request_doors.seed_tasks", """
    MATCH (p:Person {id: $person_id})
    UNWIND $tasks AS row
    CREATE (t:Task {id: row.id, title: row.title, step_name: '审批', status: 'open', kind: 'approval',
                    created_at: row.created_at, due_at: row.due_at, workflow_key: 'expense', search: row.title})
    CREATE (t)-[:ASSIGNED_TO]->(p)
    """, writes=True)


@pytest.fixture
def site(app: Flask, org: FalkorStore, settings: Settings) -> Iterator[Flask]:
    with serving(app, org, settings):
        yield app


def _bearer(org: FalkorStore, person: dict[str, str]) -> dict[str, str]:
    actor = Actor(person["id"], person["username"], person.get("name", ""), door="cli")
    return {"Authorization": f"Bearer {tokens.create(org, actor, scope='write').token}", "Accept-Language": "en"}


def _requests(org: FalkorStore, document_id: str) -> list[dict[str, object]]:
    where = audit.AuditFilter(action="document.access_request", target_kind="document", target_id=document_id)
    return audit.list_events(org, where, limit=50)


def _hidden_document(site: Flask, org: FalkorStore, owner: dict[str, str]) -> str:
    made = api_upload(login(site, org, owner["id"]), [(make_docx("审计委员会", title=TITLE), "notes.docx")],
                      domain="legal", access="confidential", title=TITLE)
    result = made.get_json()["results"][0]
    assert result["ok"], result
    return str(result["document_id"])


def _cli(*args: str, org: FalkorStore) -> tuple[int, str, str]:
    done = run_cli(*args, env={"HUITONG_GRAPH_NAME": org.graph_name})
    return done.returncode, done.stdout, done.stderr


def test_api_door_answers_the_same_for_every_id_and_passes_real_requests_on(
        site: Flask, org: FalkorStore, people: People) -> None:
    owner, asker = people.one("LEGAL", 1), people.one("MKT-BRD", 1)
    document_id, missing = _hidden_document(site, org, owner), f"missing-{uuid.uuid4().hex}"
    api: FlaskClient = site.test_client()
    headers = _bearer(org, asker)

    hidden = api.post(f"/api/v1/documents/{document_id}/access-requests", json={"note": "board pack"},
                      headers=headers)
    absent = api.post(f"/api/v1/documents/{missing}/access-requests", json={"note": "board pack"}, headers=headers)
    assert hidden.status_code == absent.status_code == 202
    assert hidden.get_data() == absent.get_data() and TITLE not in hidden.get_data(as_text=True)
    assert hidden.get_json() == {"requested": True}
    assert len(_requests(org, document_id)) == 1 and _requests(org, missing) == []
    notices = [n for n in inbox.notifications(org, owner["id"]) if n["kind"] == access_requests.KIND]
    assert any(n["by_username"] == asker["username"] and n["text"] == "board pack" for n in notices)

    # The owner asking about their own document (they can read it): the same answer, nothing passed on.
    own = api.post(f"/api/v1/documents/{document_id}/access-requests", json={}, headers=_bearer(org, owner))
    assert own.status_code == 202 and own.get_data() == absent.get_data()
    assert len(_requests(org, document_id)) == 1


def test_api_door_rejects_bad_bodies_and_limits_per_person(site: Flask, org: FalkorStore, people: People) -> None:
    api = site.test_client()
    headers = _bearer(org, people.one("MKT-BRD", 2))
    url = f"/api/v1/documents/missing-{uuid.uuid4().hex}/access-requests"
    too_long = api.post(url, json={"note": "x" * 501}, headers=headers)
    assert too_long.status_code == 400 and too_long.mimetype == "application/problem+json"
    assert api.post(url, data="not json", headers=headers).status_code == 400
    assert api.post(url, json={}).status_code == 401  # nobody signed in
    statuses = [api.post(url, json={}, headers=headers) for _ in range(access_requests.FREE_REQUESTS + 2)]
    codes = [r.status_code for r in statuses]
    assert codes[:access_requests.FREE_REQUESTS] == [202] * access_requests.FREE_REQUESTS and codes[-1] == 429
    limited = statuses[-1]
    assert limited.mimetype == "application/problem+json" and int(limited.headers["Retry-After"]) >= 1
    assert limited.get_json()["code"] == "access_request.too_many"
    other = _bearer(org, people.one("MKT-BRD", 3))  # the limit is per person
    assert api.post(url, json={}, headers=other).status_code == 202


def test_cli_request_access_is_neutral_and_limited(site: Flask, org: FalkorStore, people: People,
                                                   settings: Settings) -> None:
    owner, asker = people.one("LEGAL", 2), people.one("MKT-BRD", 4)
    document_id, missing = _hidden_document(site, org, owner), f"missing-{uuid.uuid4().hex}"
    hidden = _cli("request-access", document_id, "--as", asker["username"], "--note", "季度审计", "--json", org=org)
    absent = _cli("request-access", missing, "--as", asker["username"], "--note", "季度审计", "--json", org=org)
    assert hidden[0] == absent[0] == 0, hidden[2]
    assert json.loads(hidden[1]) == {"id": document_id, "requested": True}
    assert json.loads(absent[1]) == {"id": missing, "requested": True}
    events = _requests(org, document_id)
    assert len(events) == 1 and events[0]["actor_id"] == asker["id"]
    # Use up the person's allowance in-process, each time as soon as allowed, until the wait outlasts a CLI run.
    ctx, me = Context(org, settings), active_actor(org, asker["username"])
    now = int(time.time() * 1000)
    for _ in range(access_requests.FREE_REQUESTS + 6):
        now = max(now, throttle.retry_at(org, [access_requests._limit(me)], now))
        access_requests.request_access(ctx, me, missing, now=now)
    last = _cli("request-access", missing, "--as", asker["username"], "--json", org=org)
    assert last[0] == 1 and json.loads(last[1])["error"] == "access_request.too_many"
    plain = _cli("request-access", missing, "--as", asker["username"], org=org)
    assert plain[0] == 1 and "try again in" in plain[2]
    unknown = _cli("request-access", missing, "--as", "nobody.here", "--json", org=org)
    assert unknown[0] == 1 and "nobody.here" in unknown[2] + unknown[1]


def test_cli_inbox_prints_the_rows_of_the_api(site: Flask, org: FalkorStore, people: People) -> None:
    person = people.one("LEGAL", 3)
    now, tag = int(time.time() * 1000), uuid.uuid4().hex[:6]
    org.run(SEED_TASKS, {"person_id": person["id"], "tasks": [
        {"id": f"cli-inbox-{tag}-{i}", "title": f"报销 {tag} {i}", "created_at": now - DAY,
         "due_at": now + (i + 30) * DAY} for i in range(3)]})
    from_api = site.test_client().get("/api/v1/tasks?per_page=50", headers=_bearer(org, person)).get_json()
    code, out, err = _cli("inbox", "--as", person["username"], "--per-page", "50", "--json", org=org)
    assert code == 0, err
    printed = json.loads(out)
    assert printed["items"] == from_api["items"] and printed["page"] == 1 and printed["has_next"] is False
    assert {f"cli-inbox-{tag}-{i}" for i in range(3)} <= {row["id"] for row in printed["items"]}

    code, out, _ = _cli("inbox", "--as", person["username"], "--search", f"{tag} 1", org=org)
    assert code == 0 and f"cli-inbox-{tag}-1" in out and f"cli-inbox-{tag}-0" not in out
    bad = _cli("inbox", "--as", person["username"], "--tab", "nonsense", "--json", org=org)
    assert bad[0] == 1 and json.loads(bad[1])["error"] == "inbox.bad_tab"
    assert _cli("inbox", "--as", "nobody.here", "--json", org=org)[0] == 1
