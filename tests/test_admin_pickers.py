"""Administration forms take names through the pickers, not typed codes: memberships (the picker follows
the kind chosen, a head of department is picked among departments), the manager, the group robot's
department and the ingestion shares; the ingestion job list shows local times."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from web_support import ADMIN_PASSWORD, csrf_token, login, new_person

from graph import accounts, org
from graph.demo_org import load_demo_org
from graph.falkordb_backend import FalkorStore
from graph.queries import ingest_jobs
from webapp import services


def _admin(app: Flask, demo: FalkorStore):  # type: ignore[no-untyped-def]
    return login(app, demo, accounts.find_account(demo, "admin")[0].id)


def _combobox(page: str, field: str) -> str:
    found = re.search(rf'<input id="[^"]*" name="{field}" [^>]*role="combobox"[^>]*>', page, re.S)
    assert found, f"no picker for {field}"
    return found.group(0)


@pytest.fixture
def org_store(app: Flask, fresh_store: FalkorStore, monkeypatch: pytest.MonkeyPatch) -> FalkorStore:
    """A graph of its own with the demo organisation: the memberships added here change nobody else's data."""
    load_demo_org(fresh_store, ADMIN_PASSWORD)
    monkeypatch.setitem(app.extensions.setdefault(services.STORES, {}), os.getpid(), fresh_store)
    return fresh_store


def test_person_page_picks_manager_and_memberships(app: Flask, org_store: FalkorStore) -> None:
    admin, person = _admin(app, org_store), new_person(org_store)
    page = admin.get(f"/admin/org/people/{person.id}").get_data(as_text=True)
    assert 'data-picker-kind="person"' in _combobox(page, "manager")
    code = _combobox(page, "code")
    assert 'data-picker-kind-from="kind"' in code and "required" in code
    assert "<datalist" not in page  # no list of every code in the page any more
    # The kind select offers "head": its picker searches departments.
    heads = admin.get("/pick/head?q=FIN&list=l").get_data(as_text=True)
    assert 'data-value="FIN"' in heads
    # What the picker puts in the field is what the form always took.
    added = admin.post(f"/admin/org/people/{person.id}/memberships",
                       data={"kind": "position", "code": "CASHIER",
                             "csrf_token": csrf_token(admin, "/admin/org/people")})
    assert added.status_code == 302, added.get_data(as_text=True)[:500]
    assert ("position", "CASHIER") in {(m["kind"], m["code"]) for m in org.memberships(org_store, person.id)}


def test_webhooks_and_ingestion_use_pickers(app: Flask, demo: FalkorStore) -> None:
    admin = _admin(app, demo)
    hooks = admin.get("/admin/webhooks").get_data(as_text=True)
    assert 'data-picker-kind="department"' in _combobox(hooks, "department")
    ingest = admin.get("/admin/ingest").get_data(as_text=True)
    shares = _combobox(ingest, "shares")
    assert 'data-picker-kind="share"' in shares and "data-picker-multiple" in shares


def test_ingestion_jobs_show_local_times(app: Flask, demo: FalkorStore) -> None:
    admin_id = accounts.find_account(demo, "admin")[0].id
    job_id, at = str(uuid.uuid4()), int(time.time() * 1000)  # the newest job: first on the first page
    example = dict(ingest_jobs.CREATE_JOB.example)
    example.update({"id": job_id, "actor_id": admin_id, "source": f"本地时间-{job_id[:6]}.zip", "now": at})
    demo.run(ingest_jobs.CREATE_JOB, example)
    page = _admin(app, demo).get("/admin/ingest").get_data(as_text=True)
    row = page[page.index(job_id):][:600]
    local = datetime.fromtimestamp(at / 1000, ZoneInfo(app.config["HUITONG"].timezone)).strftime("%Y-%m-%d %H:%M")
    assert local in row and f">{at // 1000}<" not in row
