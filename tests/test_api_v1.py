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

from graph import accounts, audit, tokens
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


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail", "code", "params"} <= set(body) and body["status"] == status
    if code:
        assert body["code"] == code, body
    return body


def test_scopes_nest_and_a_read_token_cannot_write(api: FlaskClient, demo: FalkorStore) -> None:
    person = new_person(demo)
    read = bearer(demo, person, "read")
    assert api.get("/api/v1/documents", headers=read).status_code == 200
    refused = _problem(_upload(api, read), 403, "token.scope")
    assert refused["params"] == {"scope": "write"} and "write" in refused["detail"]
    assert _upload(api, bearer(demo, person, "admin")).status_code == 201  # admin ⊇ write
    zh = _problem(_upload(api, {**read, "Accept-Language": "zh-CN"}), 403, "token.scope")
    assert zh["detail"] != refused["detail"] and zh["title"] != refused["title"]  # translated at the edge


def test_admin_powers_only_through_an_admin_token_of_an_admin(demo: FalkorStore) -> None:
    admin = new_person(demo, role="admin")
    for scope, expected in (("write", False), ("admin", True)):
        made = tokens.create(demo, _actor(admin), scope=scope)
        bearer_ = tokens.authenticate(demo, made.token)
        assert bearer_ is not None and tokens.actor_of(bearer_).is_admin is expected
    member = new_person(demo)
    made = tokens.create(demo, _actor(member), scope="admin")
    found = tokens.authenticate(demo, made.token)
    assert found is not None and not tokens.actor_of(found).is_admin


def test_expired_revoked_wrong_and_deactivated_tokens_get_401(api: FlaskClient, demo: FalkorStore) -> None:
    person = new_person(demo)
    good = bearer(demo, person, "read", days=1)
    assert api.get("/api/v1/notifications", headers=good).status_code == 200
    token_id = good["Authorization"].split("_")[1]
    listed = {row["id"]: row for row in tokens.list_tokens(demo, _actor(person))}
    assert listed[token_id]["last_used_at"] is not None and "hash" not in listed[token_id]
    future = int(time.time() * 1000) + 2 * 86_400_000
    assert tokens.authenticate(demo, good["Authorization"][7:], now=future) is None  # expired tomorrow
    wrong = {"Authorization": good["Authorization"][:-4] + "AAAA"}
    _problem(api.get("/api/v1/notifications", headers=wrong), 401, "auth.required")
    assert tokens.revoke(demo, _actor(person), token_id) is True
    revoked = api.get("/api/v1/notifications", headers=good)
    assert _problem(revoked, 401)["detail"] and revoked.headers["WWW-Authenticate"].startswith("Bearer")
    other = bearer(demo, person, "read")
    accounts.set_active(demo, person.id, False)
    _problem(api.get("/api/v1/notifications", headers=other), 401, "auth.required")
    accounts.set_active(demo, person.id, True)
    assert api.get("/api/v1/notifications", headers=other).status_code == 200
    events = demo.run(tq.TOKEN_LIST, {"person_id": person.id})
    assert len(events) == 2


def test_rate_limit_answers_429_with_retry_after(app: Flask, api: FlaskClient, demo: FalkorStore,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(app.config, "HUITONG", app.config["HUITONG"].model_copy(update={"api_rate_per_minute": 3}))
    headers = bearer(demo, new_person(demo), "read")
    answers = [api.get("/api/v1/org/departments", headers=headers) for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    limited = _problem(answers[3], 429, "api.rate_limited")
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60 and limited["params"]["seconds"]
    assert api.get("/api/v1/org/departments", headers=bearer(demo, new_person(demo), "read")).status_code == 200


def test_refusal_is_byte_identical_to_missing(api: FlaskClient, demo: FalkorStore) -> None:
    owner = bearer(demo, new_person(demo))
    secret = _upload(api, owner, b"only mine", "mine.txt", access="confidential").get_json()["results"][0]
    stranger = bearer(demo, new_person(demo))
    for path in ("/api/v1/documents/{}", "/api/v1/documents/{}/download"):
        hidden = api.get(path.format(secret["document_id"]), headers=stranger)
        missing = api.get(path.format("no-such-document"), headers=stranger)
        assert hidden.status_code == missing.status_code == 404
        strip = [{k: v for k, v in json.loads(r.data).items() if k != "instance"} for r in (hidden, missing)]
        assert strip[0] == strip[1] and hidden.data.replace(secret["document_id"].encode(), b"X") == \
            missing.data.replace(b"no-such-document", b"X")
    shared = api.post(f"/api/v1/documents/{secret['document_id']}/shares", json={"share": "department:FIN"},
                      headers=stranger)
    _problem(shared, 404, "not_found")


def test_pagination_follows_next_links(api: FlaskClient, demo: FalkorStore) -> None:
    headers = bearer(demo, new_person(demo))
    for n in range(3):
        assert _upload(api, headers, f"paging sample {n} {time.time()}".encode(), f"p{n}.txt").status_code == 201
    seen: list[str] = []
    url: str | None = "/api/v1/documents?scope=mine&per_page=2"
    while url:
        body = api.get(url, headers=headers).get_json()
        seen += [item["id"] for item in body["items"]]
        assert body["total"] == 3
        url = body["next"]
    assert len(seen) == len(set(seen)) == 3
    bad = _problem(api.get("/api/v1/documents?per_page=0", headers=headers), 400, "api.invalid_field")
    assert bad["params"]["field"] == "per_page"


def test_cookie_callers_keep_csrf_on_writes(app: Flask, api: FlaskClient, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = login(app, demo, person.id)
    assert client.get("/api/v1/documents").status_code == 200  # the session still reads
    data = {"domain": "finance", "access": "internal", "file": (io.BytesIO(b"cookie upload"), "c.txt")}
    assert client.post("/api/v1/documents", data=dict(data), content_type="multipart/form-data").status_code == 400
    token = csrf_token(client, "/documents/upload")
    data = {**data, "file": (io.BytesIO(b"cookie upload"), "c.txt"), "csrf_token": token}
    assert client.post("/api/v1/documents", data=data, content_type="multipart/form-data").status_code == 201
    _problem(app.test_client().get("/api/v1/documents"), 401, "auth.required")


def test_start_a_run_and_act_on_a_task(api: FlaskClient, demo: FalkorStore) -> None:
    from workflow_support import actor_for, current_tasks

    from graph.workflows import templates

    templates.install_templates(demo, now=int(time.time() * 1000))
    initiator = new_person(demo)
    headers = bearer(demo, initiator)
    listed = api.get("/api/v1/workflows", headers=headers).get_json()["items"]
    assert "expense" in {w["key"] for w in listed}
    invoice = _upload(api, headers, f"invoice {time.time()}".encode(), "invoice.txt").get_json()["results"][0]
    values = {"amount": "120.00", "category": "travel", "project": "ERP-2026", "spent_on": "2026-02-20",
              "reason": "API test", "invoice": [{"name": "invoice.txt", "document_id": invoice["document_id"],
                                                 "version_id": invoice["version_id"]}]}
    started = api.post("/api/v1/workflows/expense/runs", json={"title": "API expense", "values": values},
                       headers=headers)
    assert started.status_code == 201, started.get_data(as_text=True)
    run_id = started.get_json()["run_id"]
    task = current_tasks(demo, run_id, "open")[0]
    approver = accounts.person_by_id(demo, actor_for(demo, task))
    assert approver is not None
    _problem(api.post(f"/api/v1/tasks/{task['id']}/actions", json={"action": "reject", "comment": "no"},
                      headers=bearer(demo, new_person(demo))), 404, "not_found")
    mine = bearer(demo, approver)
    if task["assignee_kind"] == "person":
        assert task["id"] in {t["id"] for t in api.get("/api/v1/tasks?per_page=200", headers=mine).get_json()["items"]}
    acted = api.post(f"/api/v1/tasks/{task['id']}/actions", json={"action": "reject", "comment": "缺发票"},
                     headers=mine)
    assert acted.status_code == 200, acted.get_data(as_text=True)
    assert acted.get_json() == {"run_id": run_id, "task_id": task["id"], "action": "reject"}
    again = api.post(f"/api/v1/tasks/{task['id']}/actions", json={"action": "reject", "comment": "x"}, headers=mine)
    assert again.status_code in (404, 409) and again.mimetype == "application/problem+json"
    events = demo.run(tq.TOKEN_LIST, {"person_id": approver.id})
    assert events


def test_cli_token_create_list_revoke(api: FlaskClient, demo: FalkorStore) -> None:
    from helpers import run_cli

    person = new_person(demo)
    made = run_cli("token", "create", "--as", person.username, "--scope", "read", "--days", "7", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/org/people?per_page=5", headers=headers).status_code == 200
    listed = json.loads(run_cli("token", "list", "--as", person.username, "--json").stdout)
    assert [row["scope"] for row in listed] == ["read"] and token not in json.dumps(listed)
    assert run_cli("token", "revoke", listed[0]["id"], "--as", person.username).returncode == 0
    assert api.get("/api/v1/org/people", headers=headers).status_code == 401
    bad = run_cli("token", "create", "--as", "nobody.here", "--scope", "read", "--json")
    assert bad.returncode == 1 and "nobody.here" in bad.stderr
    actions = {row["action"] for row in audit.list_events(demo, audit.AuditFilter(actor_id=person.id))}
    assert {"token.create", "token.revoke"} <= actions


def test_account_page_makes_shows_once_and_revokes(app: Flask, demo: FalkorStore) -> None:
    person = new_person(demo)
    client = login(app, demo, person.id, language="zh-CN")
    page = client.get("/account/tokens")
    assert page.status_code == 200 and "API 令牌" in page.get_data(as_text=True)
    token = csrf_token(client, "/account/tokens")
    made = client.post("/account/tokens", data={"csrf_token": token, "scope": "write", "days": "30", "name": "ci"})
    text = made.get_data(as_text=True)
    assert made.status_code == 201 and "不会再次显示" in text
    secret = text.split('id="new-token">')[1].split("<")[0]
    assert secret.startswith("ht_")
    assert secret not in client.get("/account/tokens").get_data(as_text=True)  # shown once
    assert api_ok(app, secret)
    token_id = secret.split("_")[1]
    stranger = login(app, demo, new_person(demo).id)
    refused = stranger.post(f"/account/tokens/{token_id}/revoke",
                            data={"csrf_token": csrf_token(stranger, "/account/tokens")})
    assert refused.status_code == 404 and api_ok(app, secret)
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": token})
    assert not api_ok(app, secret)


def api_ok(app: Flask, token: str) -> bool:
    return app.test_client().get("/api/v1/notifications", headers={"Authorization": f"Bearer {token}"}).status_code \
        == 200


def test_new_version_from_a_stale_base_answers_409(api: FlaskClient, demo: FalkorStore) -> None:
    headers = bearer(demo, new_person(demo))
    stored = _upload(api, headers, b"contract draft one", "contract.txt")
    document_id = stored.get_json()["results"][0]["document_id"]

    def version(content: bytes, base: int):  # type: ignore[no-untyped-def]
        return api.post(f"/api/v1/documents/{document_id}/versions", headers=headers,
                        content_type="multipart/form-data",
                        data={"file": (io.BytesIO(content), "contract.txt"), "base_version": str(base)})

    assert version(b"contract draft two", 1).status_code == 201
    stale = version(b"contract draft two, other edit", 1)  # worked from v1, but v2 is current
    assert stale.status_code == 409, stale.get_data(as_text=True)
    assert stale.get_json()["results"][0]["code"] == "stale_base"
    assert api.get(f"/api/v1/documents/{document_id}/download", headers=headers).data == b"contract draft two"
